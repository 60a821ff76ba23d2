using System.Text.Json;
using LLMux.Pipeline.Errors;

namespace LLMux.Providers.Gemini;

/// <summary>A Google service-account key (the JSON file <c>vertex_credentials</c> names or holds). The key never appears in messages.</summary>
internal sealed record VertexCredentials
{
    public const string DefaultTokenUri = "https://oauth2.googleapis.com/token";

    public required string ClientEmail { get; init; }
    public required string PrivateKeyPem { get; init; }
    public string? PrivateKeyId { get; init; }
    public string TokenUri { get; init; } = DefaultTokenUri;
    public string? ProjectId { get; init; }

    public override string ToString() => $"service account {ClientEmail}";

    /// <summary>Reads <paramref name="value"/>: inline JSON (starts with <c>{</c>) or a file path. <paramref name="source"/> names the setting.</summary>
    public static VertexCredentials Load(string value, string source)
    {
        var trimmed = value.TrimStart();
        string json;
        if (trimmed.StartsWith('{')) json = trimmed;
        else
        {
            try
            {
                json = File.ReadAllText(value.Trim());
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                throw Bad(source, $"the file `{value.Trim()}` cannot be read ({ex.GetType().Name}); give a readable service-account JSON file path or the JSON itself");
            }
        }
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Bad(source, "it is not a JSON object");
            var type = Str(root, "type");
            if (type is not null && type != "service_account")
                throw Bad(source, $"credentials of type `{type}` are not supported; use a service-account key (type service_account)");
            var email = Str(root, "client_email") ?? throw Bad(source, "the service-account JSON has no client_email");
            var key = Str(root, "private_key") ?? throw Bad(source, "the service-account JSON has no private_key");
            if (!key.Contains("PRIVATE KEY", StringComparison.Ordinal)) throw Bad(source, "private_key is not a PEM private key");
            return new VertexCredentials
            {
                ClientEmail = email,
                PrivateKeyPem = key,
                PrivateKeyId = Str(root, "private_key_id"),
                TokenUri = Str(root, "token_uri") ?? DefaultTokenUri,
                ProjectId = Str(root, "project_id"),
            };
        }
        catch (JsonException)
        {
            throw Bad(source, "it is not valid JSON");
        }
    }

    internal static LlmException Bad(string source, string why) => new LlmError
    {
        Kind = ErrorKind.Auth,
        Message = $"vertex_ai: {source} is not usable: {why}",
        Param = source,
        Code = "invalid_credentials",
        Provider = GeminiSpec.VertexName,
    }.ToException();

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
