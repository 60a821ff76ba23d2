using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace LLMux.Emulators;

/// <summary>What the Cortex emulator does with the next request.</summary>
public sealed record CortexScript
{
    public string Content { get; init; } = "Hello from Cortex.";
    public int Chunks { get; init; } = 3;
    public long PromptTokens { get; init; } = 10;
    public long CompletionTokens { get; init; } = 6;
    /// <summary>A tool use instead of text: name and the input JSON (streamed in <see cref="Chunks"/> pieces).</summary>
    public string? ToolName { get; init; }
    public string? ToolInput { get; init; }
    public int? ErrorStatus { get; init; }
    public string? ErrorCode { get; init; }
    public string? ErrorMessage { get; init; }
}

/// <summary>
/// Snowflake's Cortex REST API as Snowflake documents it (docs.snowflake.com, "Cortex REST API" and "Key-pair
/// authentication"): <c>POST /api/v2/cortex/inference:complete</c> with <c>Authorization: Bearer</c> and
/// <c>X-Snowflake-Authorization-Token-Type</c> (<c>KEYPAIR_JWT</c> or <c>PROGRAMMATIC_ACCESS_TOKEN</c>). A key-pair JWT
/// is verified as Snowflake does: RS256 with the registered public key, <c>iss</c> =
/// <c>&lt;ACCOUNT&gt;.&lt;USER&gt;.SHA256:&lt;fingerprint&gt;</c>, <c>sub</c> = <c>&lt;ACCOUNT&gt;.&lt;USER&gt;</c>, unexpired and at
/// most an hour long. Non-stream answers <c>{"id","created","model","choices":[{"message":{"content","content_list"}}],"usage"}</c>;
/// streams are SSE <c>data: {chunk}</c> with <c>choices[0].delta</c> (text, or <c>tool_use</c> fragments) and usage, with
/// no end marker. Errors are <c>{"code","message","request_id"}</c>.
/// </summary>
public sealed class SnowflakeCortexEmulator : EmulatorHost
{
    public ConcurrentQueue<CortexScript> Scripts { get; } = new();

    /// <summary>Programmatic access tokens Snowflake accepts.</summary>
    public ConcurrentDictionary<string, bool> Pats { get; } = new();

    /// <summary>The registered user (<c>ACCOUNT.USER</c>, upper case) and its public key (DER SubjectPublicKeyInfo).</summary>
    public string? KeyPairSubject { get; set; }
    public byte[]? PublicKey { get; set; }

    /// <summary>The clock JWTs are checked against (tests move it with their FakeTimeProvider).</summary>
    public Func<DateTimeOffset> Now { get; set; } = static () => DateTimeOffset.UtcNow;

    public static async Task<SnowflakeCortexEmulator> StartNewAsync()
    {
        var e = new SnowflakeCortexEmulator();
        await e.StartAsync().ConfigureAwait(false);
        return e;
    }

    /// <summary>The account URL (api_base; LLMux adds <c>/api/v2</c>).</summary>
    public string AccountUrl => Root.ToString().TrimEnd('/');

    public void Enqueue(CortexScript script) => Scripts.Enqueue(script);

    protected override async Task AnswerAsync(HttpContext http, RecordedRequest request)
    {
        var ct = http.RequestAborted;
        if (request.Path != "/api/v2/cortex/inference:complete")
        {
            await ErrorAsync(http, 404, "390404", "Not Found", ct).ConfigureAwait(false);
            return;
        }
        var auth = request.Headers.GetValueOrDefault("authorization") ?? "";
        var type = request.Headers.GetValueOrDefault("x-snowflake-authorization-token-type");
        var token = auth.StartsWith("Bearer ", StringComparison.Ordinal) ? auth["Bearer ".Length..] : "";
        var problem = type switch
        {
            "PROGRAMMATIC_ACCESS_TOKEN" => Pats.ContainsKey(token) ? null : "Programmatic access token is invalid.",
            "KEYPAIR_JWT" => VerifyJwt(token),
            _ => "Unsupported Authorization Type " + type,
        };
        if (problem is not null)
        {
            await ErrorAsync(http, 401, "390144", problem, ct).ConfigureAwait(false);
            return;
        }
        using var body = JsonDocument.Parse(request.Body);
        var root = body.RootElement;
        if (!root.TryGetProperty("model", out var model) || !root.TryGetProperty("messages", out _))
        {
            await ErrorAsync(http, 400, "399504", "missing model or messages", ct).ConfigureAwait(false);
            return;
        }
        var script = Scripts.TryDequeue(out var s) ? s : new CortexScript();
        if (script.ErrorStatus is { } status)
        {
            await ErrorAsync(http, status, script.ErrorCode ?? "399505", script.ErrorMessage ?? "emulated error", ct).ConfigureAwait(false);
            return;
        }
        var name = model.GetString()!;
        var stream = root.TryGetProperty("stream", out var st) && st.ValueKind == JsonValueKind.True;
        if (!stream)
        {
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(Completion(script, name), ct).ConfigureAwait(false);
            return;
        }
        http.Response.ContentType = "text/event-stream";
        await http.Response.StartAsync(ct).ConfigureAwait(false);
        foreach (var e in StreamEvents(script, name))
        {
            await http.Response.WriteAsync(e, ct).ConfigureAwait(false);
            await http.Response.Body.FlushAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>Snowflake's checks of a key-pair JWT; null when it is good.</summary>
    private string? VerifyJwt(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 3 || PublicKey is null || KeyPairSubject is null) return "JWT token is invalid.";
        using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[0]));
        if (header.RootElement.GetProperty("alg").GetString() != "RS256") return "JWT token is invalid. [alg]";
        using var rsa = RSA.Create();
        rsa.ImportSubjectPublicKeyInfo(PublicKey, out _);
        if (!rsa.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), Base64Url.DecodeFromChars(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
            return "JWT token is invalid. [signature]";
        using var claims = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
        var c = claims.RootElement;
        var fingerprint = "SHA256:" + Convert.ToBase64String(SHA256.HashData(PublicKey));
        if (c.GetProperty("iss").GetString() != KeyPairSubject + "." + fingerprint) return "JWT token is invalid. [iss]";
        if (c.GetProperty("sub").GetString() != KeyPairSubject) return "JWT token is invalid. [sub]";
        var iat = c.GetProperty("iat").GetInt64();
        var exp = c.GetProperty("exp").GetInt64();
        var now = Now().ToUnixTimeSeconds();
        if (exp <= now) return "JWT token has expired.";
        if (exp - iat > 3600 || iat > now + 60) return "JWT token is invalid. [lifetime]";
        return null;
    }

    private static async Task ErrorAsync(HttpContext http, int status, string code, string message, CancellationToken ct)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync("{\"code\":\"" + code + "\",\"message\":" + JsonSerializer.Serialize(message) + ",\"request_id\":\"sf-req-" + status + "\"}", ct).ConfigureAwait(false);
    }

    private static string Usage(CortexScript s) =>
        "{\"prompt_tokens\":" + s.PromptTokens + ",\"completion_tokens\":" + s.CompletionTokens + ",\"total_tokens\":" + (s.PromptTokens + s.CompletionTokens) + "}";

    public static string Completion(CortexScript s, string model)
    {
        var message = s.ToolName is { } name
            ? "{\"content\":\"\",\"content_list\":[{\"type\":\"tool_use\",\"tool_use\":{\"tool_use_id\":\"tooluse_Q1\",\"name\":" + JsonSerializer.Serialize(name) + ",\"input\":" + (s.ToolInput ?? "{}") + "}}]}"
            : "{\"content\":" + JsonSerializer.Serialize(s.Content) + ",\"content_list\":[{\"type\":\"text\",\"text\":" + JsonSerializer.Serialize(s.Content) + "}]}";
        return "{\"id\":\"3cd1b6f0-6c39-4ff0-9e6e-3c2b1f3c1a11\",\"created\":1738000000,\"model\":" + JsonSerializer.Serialize(model) + ",\"choices\":[{\"message\":" + message + "}],\"usage\":" + Usage(s) + "}";
    }

    public static IReadOnlyList<string> StreamEvents(CortexScript s, string model)
    {
        var events = new List<string>();
        void Add(string delta, string usage) =>
            events.Add("data: {\"id\":\"3cd1b6f0-6c39-4ff0-9e6e-3c2b1f3c1a11\",\"created\":1738000000,\"model\":" + JsonSerializer.Serialize(model) + ",\"choices\":[{\"delta\":" + delta + "}],\"usage\":" + usage + "}\n\n");
        var text = s.ToolName is null ? s.Content : s.ToolInput ?? "{}";
        var size = Math.Max(1, (text.Length + s.Chunks - 1) / s.Chunks);
        for (var i = 0; i < text.Length; i += size)
        {
            var piece = JsonSerializer.Serialize(text.Substring(i, Math.Min(size, text.Length - i)));
            if (s.ToolName is { } name)
            {
                if (i == 0)
                    Add("{\"type\":\"tool_use\",\"tool_use_id\":\"tooluse_Q1\",\"name\":" + JsonSerializer.Serialize(name) + ",\"content_list\":[{\"tool_use_id\":\"tooluse_Q1\",\"name\":" + JsonSerializer.Serialize(name) + ",\"input\":\"\"}],\"text\":\"\",\"input\":\"\"}", "{}");
                Add("{\"type\":\"tool_use\",\"tool_use_id\":\"tooluse_Q1\",\"name\":" + JsonSerializer.Serialize(name) + ",\"content_list\":[{\"input\":" + piece + "}],\"text\":\"\",\"input\":" + piece + "}", "{}");
            }
            else Add("{\"type\":\"text\",\"content\":" + piece + ",\"content_list\":[{\"type\":\"text\",\"text\":" + piece + "}],\"text\":" + piece + "}", "{}");
        }
        Add("{\"type\":\"text\",\"content\":\"\",\"content_list\":[],\"text\":\"\"}", Usage(s));
        return events;
    }

    public static string StreamText(CortexScript s, string model) => string.Concat(StreamEvents(s, model));
}
