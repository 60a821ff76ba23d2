using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace LLMux.Emulators;

/// <summary>What the watsonx emulator does with the next chat or embeddings request.</summary>
public sealed record WatsonxScript
{
    public string Content { get; init; } = "Hello from watsonx.";
    /// <summary>Stream deltas the content is cut into.</summary>
    public int Chunks { get; init; } = 3;
    public long PromptTokens { get; init; } = 11;
    public long CompletionTokens { get; init; } = 4;
    public string FinishReason { get; init; } = "stop";
    /// <summary>A tool call instead of text: name and the arguments JSON (streamed in <see cref="Chunks"/> pieces).</summary>
    public string? ToolName { get; init; }
    public string? ToolArguments { get; init; }
    /// <summary>An error answer: HTTP status and IBM's <c>errors[0].code</c> / <c>message</c>.</summary>
    public int? ErrorStatus { get; init; }
    public string? ErrorCode { get; init; }
    public string? ErrorMessage { get; init; }
    /// <summary>Stream: after this many events send an <c>event: error</c> and stop.</summary>
    public int? StreamErrorAfter { get; init; }
    /// <summary>Stream: stop after this many events, before the finish event, and close cleanly.</summary>
    public int? TruncateAfter { get; init; }
}

/// <summary>
/// IBM watsonx.ai as its API reference (cloud.ibm.com/apidocs/watsonx-ai) describes it, with IBM Cloud IAM beside it:
/// <list type="bullet">
/// <item><c>POST /identity/token</c> (form <c>grant_type=urn:ibm:params:oauth:grant-type:apikey</c>, <c>apikey</c>) answers
/// <c>{"access_token","refresh_token","token_type":"Bearer","expires_in":3600,"expiration","scope"}</c> for a known key,
/// else 400 <c>{"errorCode":"BXNIM0415E","errorMessage"}</c>;</item>
/// <item><c>POST /ml/v1/text/chat?version=</c> and <c>/ml/v1/deployments/{id}/text/chat</c> answer
/// <c>{"id","model_id","model","choices":[{"index","message","finish_reason"}],"created","model_version","created_at","usage","system"}</c>;
/// <c>/text/chat_stream</c> answers SSE events <c>id: n</c> / <c>event: message</c> / <c>data: {chunk}</c>;</item>
/// <item><c>POST /ml/v1/text/embeddings?version=</c> answers <c>{"model_id","results":[{"embedding"}],"created_at","input_token_count"}</c>.</item>
/// </list>
/// Calls need a bearer token IAM issued (or <see cref="StaticTokens"/>), a <c>version</c> query, and — for model ids — a
/// <c>model_id</c> with a <c>project_id</c> or <c>space_id</c>; errors are <c>{"errors":[{"code","message","more_info"}],"trace","status_code"}</c>.
/// </summary>
public sealed class WatsonxEmulator : EmulatorHost
{
    private const long Created = 1728806477;
    private int _issued;

    public ConcurrentQueue<WatsonxScript> Scripts { get; } = new();

    /// <summary>API keys IAM accepts.</summary>
    public ConcurrentDictionary<string, bool> ApiKeys { get; } = new();

    /// <summary>Tokens the API accepts: those IAM issued, and any added here (a CPD or pre-fetched token).</summary>
    public ConcurrentDictionary<string, bool> StaticTokens { get; } = new();

    private readonly ConcurrentDictionary<string, bool> _issuedTokens = new();

    /// <summary>Tokens IAM has issued so far.</summary>
    public int TokensIssued => Volatile.Read(ref _issued);

    /// <summary>Makes every issued token invalid (as if they expired early): the next call answers 401.</summary>
    public void RevokeIssuedTokens() => _issuedTokens.Clear();

    public static async Task<WatsonxEmulator> StartNewAsync()
    {
        var e = new WatsonxEmulator();
        await e.StartAsync().ConfigureAwait(false);
        return e;
    }

    /// <summary>The instance URL (api_base) and the IAM token URL.</summary>
    public string Url => Root.ToString().TrimEnd('/');
    public string IamUrl => Url + "/identity/token";

    public void Enqueue(WatsonxScript script) => Scripts.Enqueue(script);

    protected override async Task AnswerAsync(HttpContext http, RecordedRequest request)
    {
        var ct = http.RequestAborted;
        if (request.Path == "/identity/token")
        {
            await IamAsync(http, request, ct).ConfigureAwait(false);
            return;
        }
        var auth = request.Headers.GetValueOrDefault("authorization") ?? "";
        var token = auth.StartsWith("Bearer ", StringComparison.Ordinal) ? auth["Bearer ".Length..] : null;
        if (token is null || !(_issuedTokens.ContainsKey(token) || StaticTokens.ContainsKey(token)))
        {
            await ErrorAsync(http, 401, "authentication_token_not_valid", "Failed to authenticate the request due to invalid token: Failed to parse and verify token", ct).ConfigureAwait(false);
            return;
        }
        if (!request.Query.Contains("version=", StringComparison.Ordinal))
        {
            await ErrorAsync(http, 400, "invalid_input_argument", "Missing query parameter 'version'", ct).ConfigureAwait(false);
            return;
        }
        var parts = request.Path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var isDeployment = parts.Length == 6 && parts[..3].SequenceEqual(["ml", "v1", "deployments"]) && parts[4] == "text";
        var op = isDeployment ? parts[5] : parts.Length == 4 && parts[..3].SequenceEqual(["ml", "v1", "text"]) ? parts[3] : null;
        if (op is not ("chat" or "chat_stream" or "embeddings") || (isDeployment && op == "embeddings"))
        {
            await ErrorAsync(http, 404, "not_found", "Route " + request.Path + " not found", ct).ConfigureAwait(false);
            return;
        }
        using var body = JsonDocument.Parse(request.Body);
        var root = body.RootElement;
        if (!isDeployment)
        {
            if (!root.TryGetProperty("model_id", out _))
            {
                await ErrorAsync(http, 400, "json_validation_error", "Json document validation error: 'model_id' is a required property", ct).ConfigureAwait(false);
                return;
            }
            if (!root.TryGetProperty("project_id", out _) && !root.TryGetProperty("space_id", out _))
            {
                await ErrorAsync(http, 400, "invalid_input_argument", "Either 'space_id' or 'project_id' must be provided", ct).ConfigureAwait(false);
                return;
            }
        }
        else if (root.TryGetProperty("model_id", out _) || root.TryGetProperty("project_id", out _) || root.TryGetProperty("space_id", out _))
        {
            await ErrorAsync(http, 400, "json_validation_error", "Json document validation error: a deployment request takes no model_id, project_id or space_id", ct).ConfigureAwait(false);
            return;
        }
        if (root.TryGetProperty("model", out _) || root.TryGetProperty("stream", out _))
        {
            await ErrorAsync(http, 400, "json_validation_error", "Json document validation error: additional properties are not allowed ('model', 'stream')", ct).ConfigureAwait(false);
            return;
        }
        var script = Scripts.TryDequeue(out var s) ? s : new WatsonxScript();
        if (script.ErrorStatus is { } status)
        {
            await ErrorAsync(http, status, script.ErrorCode ?? "internal_error", script.ErrorMessage ?? "emulated error", ct).ConfigureAwait(false);
            return;
        }
        var model = root.TryGetProperty("model_id", out var m) ? m.GetString()! : "deployed-model";
        http.Response.Headers["x-request-id"] = "wx-req-" + TotalRequests;
        switch (op)
        {
            case "embeddings":
                http.Response.ContentType = "application/json";
                await http.Response.WriteAsync(Embeddings(root, model), ct).ConfigureAwait(false);
                return;
            case "chat":
                http.Response.ContentType = "application/json";
                await http.Response.WriteAsync(Completion(script, model), ct).ConfigureAwait(false);
                return;
            default:
                http.Response.ContentType = "text/event-stream";
                await http.Response.StartAsync(ct).ConfigureAwait(false);
                foreach (var frame in StreamEvents(script, model))
                {
                    await http.Response.WriteAsync(frame, ct).ConfigureAwait(false);
                    await http.Response.Body.FlushAsync(ct).ConfigureAwait(false);
                }
                return;
        }
    }

    private async Task IamAsync(HttpContext http, RecordedRequest request, CancellationToken ct)
    {
        http.Response.ContentType = "application/json";
        var form = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(request.BodyText);
        var grant = form.TryGetValue("grant_type", out var g) ? g.ToString() : "";
        var key = form.TryGetValue("apikey", out var k) ? k.ToString() : "";
        if (!(request.Headers.GetValueOrDefault("content-type") ?? "").StartsWith("application/x-www-form-urlencoded", StringComparison.Ordinal)
            || grant != "urn:ibm:params:oauth:grant-type:apikey")
        {
            http.Response.StatusCode = 400;
            await http.Response.WriteAsync("{\"errorCode\":\"BXNIM0109E\",\"errorMessage\":\"Property missing or empty. Property name(s): grant_type\"}", ct).ConfigureAwait(false);
            return;
        }
        if (!ApiKeys.ContainsKey(key))
        {
            http.Response.StatusCode = 400;
            await http.Response.WriteAsync("{\"errorCode\":\"BXNIM0415E\",\"errorMessage\":\"Provided API key could not be found.\",\"context\":{}}", ct).ConfigureAwait(false);
            return;
        }
        var n = Interlocked.Increment(ref _issued);
        var token = "eyJraWQiOiJ3eC1lbXUifQ.iam-token-" + n;
        _issuedTokens[token] = true;
        await http.Response.WriteAsync("{\"access_token\":\"" + token + "\",\"refresh_token\":\"not_supported\",\"token_type\":\"Bearer\",\"expires_in\":3600,\"expiration\":" + (Created + 3600) + ",\"scope\":\"ibm openid\"}", ct).ConfigureAwait(false);
    }

    private static async Task ErrorAsync(HttpContext http, int status, string code, string message, CancellationToken ct)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(ErrorBody(status, code, message), ct).ConfigureAwait(false);
    }

    public static string ErrorBody(int status, string code, string message) =>
        "{\"errors\":[{\"code\":" + JsonSerializer.Serialize(code) + ",\"message\":" + JsonSerializer.Serialize(message) + ",\"more_info\":\"https://cloud.ibm.com/apidocs/watsonx-ai\"}]," +
        "\"trace\":\"wx-trace-" + status + "\",\"status_code\":" + status + "}";

    private static string Usage(WatsonxScript s) =>
        "{\"completion_tokens\":" + s.CompletionTokens + ",\"prompt_tokens\":" + s.PromptTokens + ",\"total_tokens\":" + (s.PromptTokens + s.CompletionTokens) + "}";

    private static string Header(string model) =>
        "\"id\":\"chat-0f1e2d\",\"model_id\":" + JsonSerializer.Serialize(model) + ",\"model\":" + JsonSerializer.Serialize(model);

    private const string Trailer = ",\"created\":" + "1728806477" + ",\"model_version\":\"1.1.0\",\"created_at\":\"2024-10-13T08:01:17.923Z\"";

    /// <summary>The non-stream answer.</summary>
    public static string Completion(WatsonxScript s, string model)
    {
        var message = s.ToolName is { } name
            ? "{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"chatcmpl-tool-7a1\",\"type\":\"function\",\"function\":{\"name\":" + JsonSerializer.Serialize(name) + ",\"arguments\":" + JsonSerializer.Serialize(s.ToolArguments ?? "{}") + "}}]}"
            : "{\"role\":\"assistant\",\"content\":" + JsonSerializer.Serialize(s.Content) + "}";
        return "{" + Header(model) + ",\"choices\":[{\"index\":0,\"message\":" + message + ",\"finish_reason\":" + JsonSerializer.Serialize(s.ToolName is null ? s.FinishReason : "tool_calls") + "}]" +
            Trailer + ",\"usage\":" + Usage(s) + ",\"system\":{\"warnings\":[{\"message\":\"This model is a Non-IBM Product governed by a third-party license.\",\"id\":\"disclaimer_warning\"}]}}";
    }

    /// <summary>The SSE text of a stream answer, event by event.</summary>
    public static IReadOnlyList<string> StreamEvents(WatsonxScript s, string model)
    {
        var events = new List<string>();
        void Add(string choice, string? usage) =>
            events.Add("id: " + (events.Count + 1) + "\nevent: message\ndata: {" + Header(model) + ",\"choices\":[" + choice + "]" + Trailer + (usage is null ? "" : ",\"usage\":" + usage) + "}\n\n");
        Add("{\"index\":0,\"finish_reason\":null,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}", null);
        var text = s.ToolName is null ? s.Content : s.ToolArguments ?? "{}";
        var size = Math.Max(1, (text.Length + s.Chunks - 1) / s.Chunks);
        for (var i = 0; i < text.Length; i += size)
        {
            var piece = JsonSerializer.Serialize(text.Substring(i, Math.Min(size, text.Length - i)));
            Add(s.ToolName is { } name
                ? i == 0
                    ? "{\"index\":0,\"finish_reason\":null,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"chatcmpl-tool-7a1\",\"type\":\"function\",\"function\":{\"name\":" + JsonSerializer.Serialize(name) + ",\"arguments\":" + piece + "}}]}}"
                    : "{\"index\":0,\"finish_reason\":null,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":" + piece + "}}]}}"
                : "{\"index\":0,\"finish_reason\":null,\"delta\":{\"content\":" + piece + "}}", null);
        }
        if (s.StreamErrorAfter is { } e && e < events.Count)
        {
            events.RemoveRange(e, events.Count - e);
            events.Add("id: " + (e + 1) + "\nevent: error\ndata: " + ErrorBody(500, "downstream_request_failed", "the model stopped generating") + "\n\n");
            return events;
        }
        if (s.TruncateAfter is { } t && t < events.Count)
        {
            events.RemoveRange(t, events.Count - t);
            return events;
        }
        Add("{\"index\":0,\"finish_reason\":" + JsonSerializer.Serialize(s.ToolName is null ? s.FinishReason : "tool_calls") + ",\"delta\":{\"content\":\"\"}}", Usage(s));
        return events;
    }

    public static string StreamText(WatsonxScript s, string model) => string.Concat(StreamEvents(s, model));

    /// <summary>The vector the emulator answers for input <paramref name="i"/>: (i + 1) / 10, (i + 1) / 100, (i + 1) / 1000.</summary>
    public static float[] Vector(int i) => [(i + 1) / 10f, (i + 1) / 100f, (i + 1) / 1000f];

    private static string Embeddings(JsonElement root, string model)
    {
        var sb = new StringBuilder("{\"model_id\":").Append(JsonSerializer.Serialize(model)).Append(",\"results\":[");
        var count = root.TryGetProperty("inputs", out var inputs) && inputs.ValueKind == JsonValueKind.Array ? inputs.GetArrayLength() : 0;
        for (var i = 0; i < count; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append("{\"embedding\":").Append(JsonSerializer.Serialize(Vector(i))).Append('}');
        }
        return sb.Append("],\"created_at\":\"2024-10-13T08:01:17.923Z\",\"input_token_count\":").Append(count * 3).Append('}').ToString();
    }
}
