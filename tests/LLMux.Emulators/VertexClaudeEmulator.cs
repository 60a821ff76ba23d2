using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace LLMux.Emulators;

/// <summary>What the Vertex Claude emulator does with the next request.</summary>
public sealed record VertexClaudeScript
{
    public AnthropicScript Claude { get; init; } = new() { Text = "Hello from Claude on Vertex." };
    /// <summary>A Vertex (Google-shaped) error answer: HTTP status, RPC status, message.</summary>
    public (int Status, string RpcStatus, string Message)? GoogleError { get; init; }
    /// <summary>Refuse the presented access token with 401 (as if it was revoked).</summary>
    public bool RevokeToken { get; init; }
}

/// <summary>
/// Speaks Claude on Vertex AI: <c>POST /v1/projects/{project}/locations/{location}/publishers/anthropic/models/{model}:rawPredict</c>
/// (JSON message), <c>:streamRawPredict</c> (Anthropic SSE, <c>stream: true</c> required in the body) and
/// <c>…/models/count-tokens:rawPredict</c>; a service-account OAuth token endpoint that verifies the JWT; and it
/// refuses what Vertex refuses: no or unknown bearer token, <c>model</c> in the body, a wrong <c>anthropic_version</c>,
/// unknown fields, betas Vertex lacks. Model errors are Anthropic-shaped, platform errors Google-shaped.
/// </summary>
public sealed class VertexClaudeEmulator : EmulatorHost
{
    public const string Project = "emu-project";

    private readonly GoogleTokenIssuer _tokens = new("llmux-claude@emu-project.iam.gserviceaccount.com", "ya29.claude-emu-");
    private int _ids;

    public ConcurrentQueue<VertexClaudeScript> Scripts { get; } = new();
    public VertexClaudeScript Default { get; set; } = new();
    public string ClientEmail => _tokens.ClientEmail;
    public int TokensIssued => _tokens.TokensIssued;
    public string TokenUri => new Uri(Root, GoogleTokenIssuer.Path).ToString();

    /// <summary>Vertex <c>api_base</c>: the full model resource URL (LLMux appends <c>:{method}</c>).</summary>
    public string ApiBase(string model, string location = "us-east5") =>
        new Uri(Root, $"/v1/projects/{Project}/locations/{location}/publishers/anthropic/models/{model}").ToString();

    public string ServiceAccountJson => _tokens.ServiceAccountJson(Project, TokenUri, "emu-claude-key");

    /// <summary>Requests other than token requests.</summary>
    public IEnumerable<RecordedRequest> ModelRequests => Requests.Where(static r => r.Path != GoogleTokenIssuer.Path);

    public static async Task<VertexClaudeEmulator> StartNewAsync(int port = 0)
    {
        var e = new VertexClaudeEmulator();
        await e.StartAsync(port).ConfigureAwait(false);
        return e;
    }

    public void Enqueue(VertexClaudeScript script) => Scripts.Enqueue(script);

    protected override async Task AnswerAsync(HttpContext http, RecordedRequest request)
    {
        if (request.Path == GoogleTokenIssuer.Path)
        {
            await _tokens.AnswerAsync(http, request, TokenUri).ConfigureAwait(false);
            return;
        }
        var script = Scripts.TryDequeue(out var s) ? s : Default;
        var token = GoogleTokenIssuer.BearerOf(request);
        if (script.RevokeToken) _tokens.Revoke(token);
        if (!_tokens.IsIssued(token))
        {
            await GoogleErrorAsync(http, 401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.").ConfigureAwait(false);
            return;
        }
        // /v1/projects/{p}/locations/{l}/publishers/anthropic/models/{model}:{method}
        var parts = request.Path.Split('/');
        var colon = request.Path.LastIndexOf(':');
        if (parts.Length != 10 || parts[1] != "v1" || parts[2] != "projects" || parts[4] != "locations" || parts[6] != "publishers" || parts[7] != "anthropic" || parts[8] != "models" || colon < 0)
        {
            await GoogleErrorAsync(http, 404, "NOT_FOUND", $"The requested URL {request.Path} was not found on this server.").ConfigureAwait(false);
            return;
        }
        var modelAndMethod = parts[9];
        var model = modelAndMethod[..modelAndMethod.IndexOf(':')];
        var method = request.Path[(colon + 1)..];
        if (script.GoogleError is { } ge)
        {
            await GoogleErrorAsync(http, ge.Status, ge.RpcStatus, ge.Message).ConfigureAwait(false);
            return;
        }
        using var doc = JsonDocument.Parse(request.Body);
        var body = doc.RootElement;
        if (model == "count-tokens" && method == "rawPredict")
        {
            await CountTokensAsync(http, body).ConfigureAwait(false);
            return;
        }
        if (!model.StartsWith("claude", StringComparison.Ordinal))
        {
            await GoogleErrorAsync(http, 404, "NOT_FOUND", $"Publisher Model `projects/{parts[3]}/locations/{parts[5]}/publishers/anthropic/models/{model}` not found.").ConfigureAwait(false);
            return;
        }
        var requestId = "req_vrtx_" + Interlocked.Increment(ref _ids);
        if (ClaudePlatformRules.Vertex.Check(body) is { } problem)
        {
            await AnthropicErrorAsync(http, 400, "invalid_request_error", problem, requestId).ConfigureAwait(false);
            return;
        }
        var stream = body.TryGetProperty("stream", out var st) && st.ValueKind == JsonValueKind.True;
        if (method == "streamRawPredict" && !stream)
        {
            await GoogleErrorAsync(http, 400, "INVALID_ARGUMENT", "streamRawPredict needs \"stream\": true in the request body").ConfigureAwait(false);
            return;
        }
        if (method != "rawPredict" && method != "streamRawPredict")
        {
            await GoogleErrorAsync(http, 400, "INVALID_ARGUMENT", $"Unknown method {method} for an Anthropic model").ConfigureAwait(false);
            return;
        }
        var claude = script.Claude;
        if (claude.ErrorStatus is { } status)
        {
            await AnthropicErrorAsync(http, status, claude.ErrorType, claude.ErrorMessage, requestId).ConfigureAwait(false);
            return;
        }
        var id = "msg_vrtx_" + requestId[9..];
        if (!stream)
        {
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(AnthropicEmulator.Message(id, model, claude), http.RequestAborted).ConfigureAwait(false);
            return;
        }
        var ct = http.RequestAborted;
        http.Response.ContentType = "text/event-stream; charset=utf-8";
        await http.Response.StartAsync(ct).ConfigureAwait(false);
        var deltas = 0;
        foreach (var (name, data, isDelta) in AnthropicEmulator.Events(id, model, claude))
        {
            if (isDelta)
            {
                if (claude.ErrorEventAfter == deltas)
                {
                    await SendAsync(http, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":" + JsonSerializer.Serialize(claude.ErrorType) + ",\"message\":" + JsonSerializer.Serialize(claude.ErrorMessage) + "}}\n\n").ConfigureAwait(false);
                    return;
                }
                if (claude.TruncateAfter == deltas) return;
                deltas++;
            }
            await SendAsync(http, "event: " + name + "\ndata: " + data + "\n\n").ConfigureAwait(false);
        }
    }

    /// <summary>count-tokens takes Anthropic's count request, <c>model</c> included (the URL names no model).</summary>
    private static async Task CountTokensAsync(HttpContext http, JsonElement body)
    {
        if (!body.TryGetProperty("model", out var m) || m.ValueKind != JsonValueKind.String || !m.GetString()!.StartsWith("claude", StringComparison.Ordinal))
        {
            await AnthropicErrorAsync(http, 400, "invalid_request_error", "model: Field required", "req_count").ConfigureAwait(false);
            return;
        }
        if (!body.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
        {
            await AnthropicErrorAsync(http, 400, "invalid_request_error", "messages: Field required", "req_count").ConfigureAwait(false);
            return;
        }
        foreach (var p in body.EnumerateObject())
        {
            if (p.Name is not ("model" or "messages" or "system" or "tools" or "tool_choice" or "thinking" or "anthropic_version" or "anthropic_beta"))
            {
                await AnthropicErrorAsync(http, 400, "invalid_request_error", $"{p.Name}: Extra inputs are not permitted", "req_count").ConfigureAwait(false);
                return;
            }
        }
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync("{\"input_tokens\":" + ClaudePlatformRules.CountTokens(body) + "}", http.RequestAborted).ConfigureAwait(false);
    }

    private static Task GoogleErrorAsync(HttpContext http, int status, string rpcStatus, string message) =>
        GoogleTokenIssuer.GoogleErrorAsync(http, status, rpcStatus, message);

    private static async Task AnthropicErrorAsync(HttpContext http, int status, string type, string message, string requestId)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync("{\"type\":\"error\",\"error\":{\"type\":" + JsonSerializer.Serialize(type) + ",\"message\":" + JsonSerializer.Serialize(message) + "},\"request_id\":" + JsonSerializer.Serialize(requestId) + "}", http.RequestAborted).ConfigureAwait(false);
    }

    private static async Task SendAsync(HttpContext http, string text)
    {
        await http.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), http.RequestAborted).ConfigureAwait(false);
        await http.Response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
    }
}
