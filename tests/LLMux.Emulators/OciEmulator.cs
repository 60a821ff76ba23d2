using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace LLMux.Emulators;

/// <summary>What the OCI emulator does with the next chat request.</summary>
public sealed record OciScript
{
    public string Content { get; init; } = "Hello from OCI Generative AI.";
    public int Chunks { get; init; } = 3;
    public long PromptTokens { get; init; } = 10;
    public long CompletionTokens { get; init; } = 4;
    /// <summary>GENERIC: answer with this tool call (id, name, arguments JSON) instead of text.</summary>
    public (string Id, string Name, string Arguments)? ToolCall { get; init; }
    /// <summary>An OCI error: HTTP status, code, message.</summary>
    public (int Status, string Code, string Message)? Error { get; init; }
    /// <summary>Stream: stop after this many text events, before the finish reason.</summary>
    public int? TruncateAfter { get; init; }
}

/// <summary>
/// OCI Generative AI inference (API 20231130): <c>POST /20231130/actions/chat</c> with ChatDetails. Every request must
/// carry a valid OCI HTTP signature (draft-cavage, rsa-sha256) over date, (request-target), host, content-length,
/// content-type and x-content-sha256, made with the private key of <see cref="KeyId"/>; the emulator checks the body
/// digest and verifies the signature with the public key, else answers OCI's 401 NotAuthenticated. GENERIC requests
/// get GENERIC answers and SSE events (<c>message.content</c>, a <c>finishReason</c> event, a usage event when
/// <c>streamOptions.isIncludeUsage</c>); <c>cohere.*</c> models need apiFormat COHERE and get Cohere-shaped ones.
/// </summary>
public sealed partial class OciEmulator : EmulatorHost
{
    public const string Tenancy = "ocid1.tenancy.oc1..aaaaemutenancy";
    public const string User = "ocid1.user.oc1..aaaaemuuser";
    public const string Fingerprint = "20:3b:97:13:55:1c:5b:0d:d3:37:d8:50:4e:c5:3a:34";
    public const string Compartment = "ocid1.compartment.oc1..aaaaemucompartment";

    private readonly RSA _key = RSA.Create(2048);
    private int _ids;

    public ConcurrentQueue<OciScript> Scripts { get; } = new();
    public string KeyId => $"{Tenancy}/{User}/{Fingerprint}";
    /// <summary>The user's API signing key (PKCS#8 PEM, as the OCI console downloads it).</summary>
    public string PrivateKeyPem => _key.ExportPkcs8PrivateKeyPem();
    public string ApiBase => Root.ToString().TrimEnd('/');
    /// <summary>Signatures that verified.</summary>
    public int VerifiedSignatures => Volatile.Read(ref _verified);
    private int _verified;

    public static async Task<OciEmulator> StartNewAsync()
    {
        var e = new OciEmulator();
        await e.StartAsync().ConfigureAwait(false);
        return e;
    }

    public void Enqueue(OciScript script) => Scripts.Enqueue(script);

    protected override async Task AnswerAsync(HttpContext http, RecordedRequest request)
    {
        var script = Scripts.TryDequeue(out var s) ? s : new OciScript();
        http.Response.Headers["opc-request-id"] = "oci-req-" + Interlocked.Increment(ref _ids);
        if (request.Method != "POST" || request.Path != "/20231130/actions/chat")
        {
            await ErrorAsync(http, 404, "NotAuthorizedOrNotFound", $"Unknown resource {request.Path}").ConfigureAwait(false);
            return;
        }
        if (VerifySignature(request) is { } why)
        {
            await ErrorAsync(http, 401, "NotAuthenticated", why).ConfigureAwait(false);
            return;
        }
        Interlocked.Increment(ref _verified);
        if (script.Error is { } error)
        {
            await ErrorAsync(http, error.Status, error.Code, error.Message).ConfigureAwait(false);
            return;
        }
        using var doc = JsonDocument.Parse(request.Body);
        var root = doc.RootElement;
        if (!root.TryGetProperty("compartmentId", out var compartment) || compartment.GetString() != Compartment)
        {
            await ErrorAsync(http, 404, "NotAuthorizedOrNotFound", "Authorization failed or requested resource not found.").ConfigureAwait(false);
            return;
        }
        var serving = root.GetProperty("servingMode");
        var model = serving.GetProperty("servingType").GetString() == "DEDICATED" ? serving.GetProperty("endpointId").GetString()! : serving.GetProperty("modelId").GetString()!;
        var chat = root.GetProperty("chatRequest");
        var format = chat.GetProperty("apiFormat").GetString();
        var cohere = model.StartsWith("cohere.", StringComparison.Ordinal);
        if (format != (cohere ? "COHERE" : "GENERIC"))
        {
            await ErrorAsync(http, 400, "InvalidParameter", $"apiFormat {format} is not supported by model {model}").ConfigureAwait(false);
            return;
        }
        if (cohere ? !chat.TryGetProperty("message", out _) : !chat.TryGetProperty("messages", out _))
        {
            await ErrorAsync(http, 400, "InvalidParameter", cohere ? "message is required" : "messages is required").ConfigureAwait(false);
            return;
        }
        var stream = chat.TryGetProperty("isStream", out var st) && st.ValueKind == JsonValueKind.True;
        if (!stream)
        {
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(cohere ? CohereResult(model, script) : GenericResult(model, script), http.RequestAborted).ConfigureAwait(false);
            return;
        }
        var usage = chat.TryGetProperty("streamOptions", out var so) && so.TryGetProperty("isIncludeUsage", out var iu) && iu.ValueKind == JsonValueKind.True;
        http.Response.ContentType = "text/event-stream";
        await http.Response.StartAsync(http.RequestAborted).ConfigureAwait(false);
        foreach (var e in StreamEvents(script, cohere, usage))
        {
            await http.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(e), http.RequestAborted).ConfigureAwait(false);
            await http.Response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>Rebuilds the signing string from the request as received and verifies it; null when it holds.</summary>
    private string? VerifySignature(RecordedRequest request)
    {
        var auth = request.Headers.GetValueOrDefault("authorization") ?? "";
        if (!auth.StartsWith("Signature ", StringComparison.Ordinal)) return "The required information to complete authentication was not provided.";
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match m in SignatureField().Matches(auth[10..])) fields[m.Groups[1].Value] = m.Groups[2].Value;
        if (fields.GetValueOrDefault("version") != "1" || fields.GetValueOrDefault("algorithm") != "rsa-sha256") return "Unsupported signature version or algorithm.";
        if (fields.GetValueOrDefault("keyId") != KeyId) return "The required information to complete authentication was not provided or was incorrect.";
        var signed = (fields.GetValueOrDefault("headers") ?? "").Split(' ');
        // POST needs the body headers signed too.
        foreach (var required in new[] { "date", "(request-target)", "host", "content-length", "content-type", "x-content-sha256" })
            if (Array.IndexOf(signed, required) < 0) return $"Missing required header `{required}` in the signature.";
        var sha = Convert.ToBase64String(SHA256.HashData(request.Body));
        if (request.Headers.GetValueOrDefault("x-content-sha256") != sha) return "x-content-sha256 does not match the body.";
        if (request.Headers.GetValueOrDefault("content-length") != request.Body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)) return "content-length does not match the body.";
        var lines = new List<string>(signed.Length);
        foreach (var name in signed)
        {
            var value = name == "(request-target)" ? request.Method.ToLowerInvariant() + " " + request.Path + request.Query : request.Headers.GetValueOrDefault(name);
            if (value is null) return $"Signed header `{name}` is missing from the request.";
            lines.Add(name + ": " + value);
        }
        var signature = Convert.FromBase64String(fields.GetValueOrDefault("signature") ?? "");
        return _key.VerifyData(Encoding.UTF8.GetBytes(string.Join('\n', lines)), signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            ? null
            : "The required information to complete authentication was not provided or was incorrect.";
    }

    [GeneratedRegex("""(\w+)="([^"]*)",?""")]
    private static partial Regex SignatureField();

    private static string Usage(OciScript s) =>
        $$"""{"promptTokens":{{s.PromptTokens}},"completionTokens":{{s.CompletionTokens}},"totalTokens":{{s.PromptTokens + s.CompletionTokens}}}""";

    private static string GenericResult(string model, OciScript s)
    {
        var message = s.ToolCall is { } tc
            ? $$"""{"role":"ASSISTANT","toolCalls":[{"id":{{JsonSerializer.Serialize(tc.Id)}},"type":"FUNCTION","name":{{JsonSerializer.Serialize(tc.Name)}},"arguments":{{JsonSerializer.Serialize(tc.Arguments)}}}]}"""
            : $$"""{"role":"ASSISTANT","content":[{"type":"TEXT","text":{{JsonSerializer.Serialize(s.Content)}}}]}""";
        var finish = s.ToolCall is null ? "stop" : "tool_calls";
        return $$$"""{"modelId":{{{JsonSerializer.Serialize(model)}}},"modelVersion":"1.0.0","chatResponse":{"apiFormat":"GENERIC","timeCreated":"2025-01-02T03:04:05.678Z","choices":[{"index":0,"message":{{{message}}},"finishReason":"{{{finish}}}","logprobs":{}}],"usage":{{{Usage(s)}}}}}""";
    }

    private static string CohereResult(string model, OciScript s) =>
        $$$"""{"modelId":{{{JsonSerializer.Serialize(model)}}},"modelVersion":"1.0","chatResponse":{"apiFormat":"COHERE","text":{{{JsonSerializer.Serialize(s.Content)}}},"finishReason":"COMPLETE","usage":{{{Usage(s)}}}}}""";

    /// <summary>The SSE frames of a streamed chat, as OCI writes them (one JSON event per <c>data:</c>, no [DONE]).</summary>
    public static IEnumerable<string> StreamEvents(OciScript s, bool cohere, bool includeUsage)
    {
        var pieces = Split(s.Content, s.Chunks);
        for (var i = 0; i < pieces.Count; i++)
        {
            if (s.TruncateAfter == i) yield break;
            yield return cohere
                ? $$"""data: {"apiFormat":"COHERE","text":{{JsonSerializer.Serialize(pieces[i])}}}""" + "\n\n"
                : $$"""data: {"index":0,"message":{"role":"ASSISTANT","content":[{"type":"TEXT","text":{{JsonSerializer.Serialize(pieces[i])}}}]},"pad":"aaaaaaa"}""" + "\n\n";
        }
        yield return cohere
            ? """data: {"apiFormat":"COHERE","text":"","finishReason":"COMPLETE","pad":"aaa"}""" + "\n\n"
            : """data: {"message":{"role":"ASSISTANT"},"finishReason":"stop","pad":"aaaa"}""" + "\n\n";
        if (includeUsage || cohere) yield return "data: {" + (cohere ? "\"apiFormat\":\"COHERE\"," : "") + "\"usage\":" + Usage(s) + "}\n\n";
    }

    private static List<string> Split(string text, int parts)
    {
        var list = new List<string>();
        var runes = text.EnumerateRunes().Select(static r => r.ToString()).ToList();
        var size = Math.Max(1, (runes.Count + parts - 1) / Math.Max(1, parts));
        for (var i = 0; i < runes.Count; i += size) list.Add(string.Concat(runes.Skip(i).Take(size)));
        return list;
    }

    private static async Task ErrorAsync(HttpContext http, int status, string code, string message)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync($$"""{"code":{{JsonSerializer.Serialize(code)}},"message":{{JsonSerializer.Serialize(message)}}}""", http.RequestAborted).ConfigureAwait(false);
    }
}
