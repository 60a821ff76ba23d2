using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace LLMux.Emulators;

/// <summary>What the Vertex partner-model emulator does with the next model request.</summary>
public sealed record VertexPartnerScript
{
    public OpenAIScript Answer { get; init; } = new() { Content = "Hello from a Model Garden partner model." };
    /// <summary>A Vertex (Google-shaped) error: HTTP status, RPC status, message.</summary>
    public (int Status, string RpcStatus, string Message)? GoogleError { get; init; }
}

/// <summary>
/// Vertex AI's Model Garden partner endpoints (Google's partner-model reference): Mistral and Codestral at
/// <c>POST /v1/projects/{p}/locations/{l}/publishers/mistralai/models/{model}:rawPredict</c> / <c>:streamRawPredict</c>
/// (Mistral's chat body with <c>model</c> naming the model without its <c>@version</c>), AI21 Jamba at
/// <c>/v1beta1/…/publishers/ai21/models/{model}:rawPredict</c>, and the MaaS models at the OpenAI-compatible
/// <c>/v1/projects/{p}/locations/{l}/endpoints/openapi/chat/completions</c> (<c>model</c> the publisher id, e.g.
/// <c>meta/llama-3.3-70b-instruct-maas</c>). Every model route needs an access token from its <c>/token</c> endpoint;
/// answers are OpenAI-shaped JSON or SSE; Vertex's own refusals are Google-shaped.
/// </summary>
public sealed class VertexPartnerEmulator : EmulatorHost
{
    public const string Project = "emu-partner-project";

    private readonly GoogleTokenIssuer _tokens = new("llmux-partner@emu-partner-project.iam.gserviceaccount.com", "ya29.partner-emu-");

    public ConcurrentQueue<VertexPartnerScript> Scripts { get; } = new();
    public VertexPartnerScript Default { get; set; } = new();
    public string TokenUri => new Uri(Root, GoogleTokenIssuer.Path).ToString();
    public string ServiceAccountJson => _tokens.ServiceAccountJson(Project, TokenUri, "emu-partner-key");
    public IEnumerable<RecordedRequest> ModelRequests => Requests.Where(static r => r.Path != GoogleTokenIssuer.Path);

    /// <summary>A publisher model resource URL (the <c>api_base</c> of a rawPredict family).</summary>
    public string ModelBase(string publisher, string model, string location = "us-central1", string version = "v1") =>
        new Uri(Root, $"/{version}/projects/{Project}/locations/{location}/publishers/{publisher}/models/{model}").ToString();

    /// <summary>The OpenAI base URL of the MaaS endpoint (its <c>api_base</c>).</summary>
    public string OpenApiBase(string location = "us-central1") => new Uri(Root, $"/v1/projects/{Project}/locations/{location}/endpoints/openapi").ToString();

    public static async Task<VertexPartnerEmulator> StartNewAsync()
    {
        var e = new VertexPartnerEmulator();
        await e.StartAsync().ConfigureAwait(false);
        return e;
    }

    public void Enqueue(VertexPartnerScript script) => Scripts.Enqueue(script);

    protected override async Task AnswerAsync(HttpContext http, RecordedRequest request)
    {
        if (request.Path == GoogleTokenIssuer.Path)
        {
            await _tokens.AnswerAsync(http, request, TokenUri).ConfigureAwait(false);
            return;
        }
        var script = Scripts.TryDequeue(out var s) ? s : Default;
        if (!_tokens.IsIssued(GoogleTokenIssuer.BearerOf(request)))
        {
            await GoogleTokenIssuer.GoogleErrorAsync(http, 401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.").ConfigureAwait(false);
            return;
        }
        using var doc = JsonDocument.Parse(request.Body);
        var body = doc.RootElement;
        var bodyModel = body.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : null;
        var stream = body.TryGetProperty("stream", out var st) && st.ValueKind == JsonValueKind.True;
        if (Check(request.Path, bodyModel, stream) is { } problem)
        {
            await GoogleTokenIssuer.GoogleErrorAsync(http, problem.Status, problem.Rpc, problem.Message).ConfigureAwait(false);
            return;
        }
        if (script.GoogleError is { } ge)
        {
            await GoogleTokenIssuer.GoogleErrorAsync(http, ge.Status, ge.RpcStatus, ge.Message).ConfigureAwait(false);
            return;
        }
        await OpenAIEmulator.WriteChatAnswerAsync(http, body, bodyModel!, script.Answer).ConfigureAwait(false);
    }

    /// <summary>What Vertex refuses: an unknown route, a method that does not match <c>stream</c>, a body without the model it needs.</summary>
    private static (int Status, string Rpc, string Message)? Check(string path, string? bodyModel, bool stream)
    {
        var parts = path.Split('/');
        // /v1/projects/{p}/locations/{l}/endpoints/openapi/chat/completions
        if (parts.Length == 10 && parts[1] == "v1" && parts[2] == "projects" && parts[4] == "locations" && parts[6] == "endpoints" && parts[7] == "openapi" && parts[8] == "chat" && parts[9] == "completions")
        {
            if (bodyModel is null || !bodyModel.Contains('/')) return (400, "INVALID_ARGUMENT", "model must be a publisher model id such as meta/llama-3.3-70b-instruct-maas");
            return null;
        }
        // /{v}/projects/{p}/locations/{l}/publishers/{publisher}/models/{model}:{method}
        if (parts.Length != 10 || parts[2] != "projects" || parts[4] != "locations" || parts[6] != "publishers" || parts[8] != "models" || !parts[9].Contains(':'))
            return (404, "NOT_FOUND", $"The requested URL {path} was not found on this server.");
        var publisher = parts[7];
        var colon = parts[9].IndexOf(':');
        var model = parts[9][..colon];
        var method = parts[9][(colon + 1)..];
        if (method is not ("rawPredict" or "streamRawPredict")) return (400, "INVALID_ARGUMENT", $"Unknown method {method}");
        if ((method == "streamRawPredict") != stream) return (400, "INVALID_ARGUMENT", $"{method} needs \"stream\": {(stream ? "false" : "true")} in the request body");
        switch (publisher)
        {
            case "mistralai" when parts[1] == "v1":
                var expected = model.Contains('@') ? model[..model.IndexOf('@')] : model;
                if (bodyModel != expected) return (400, "INVALID_ARGUMENT", $"body model must be `{expected}` (the model without its version), got `{bodyModel}`");
                return null;
            case "ai21" when parts[1] == "v1beta1":
                return null;
            default:
                return (404, "NOT_FOUND", $"Publisher Model `projects/{parts[3]}/locations/{parts[5]}/publishers/{publisher}/models/{model}` not found.");
        }
    }
}
