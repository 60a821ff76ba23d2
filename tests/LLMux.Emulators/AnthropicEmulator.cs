using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace LLMux.Emulators;

/// <summary>What the Anthropic emulator does with the next request.</summary>
public sealed record AnthropicScript
{
    /// <summary>Answer text (null or empty: no text block), split into <see cref="Chunks"/> text deltas.</summary>
    public string? Text { get; init; } = "Hello from the Anthropic emulator.";
    public int Chunks { get; init; } = 4;
    /// <summary>A thinking block before the text, with its signature.</summary>
    public string? Thinking { get; init; }
    public string Signature { get; init; } = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds";
    /// <summary>Tool calls after the text: id, name and JSON input (streamed as input_json_delta fragments).</summary>
    public IReadOnlyList<(string Id, string Name, string Input)> ToolCalls { get; init; } = [];
    /// <summary>Stop reason; by default <c>tool_use</c> when there are tool calls, else <c>end_turn</c>.</summary>
    public string? StopReason { get; init; }
    public long InputTokens { get; init; } = 25;
    public long OutputTokens { get; init; } = 12;
    public long CacheCreationTokens { get; init; }
    public long CacheReadTokens { get; init; }
    /// <summary>An error answer: HTTP status, Anthropic error type and message, extra headers (retry-after...).</summary>
    public int? ErrorStatus { get; init; }
    public string ErrorType { get; init; } = "api_error";
    public string ErrorMessage { get; init; } = "Internal server error";
    public IReadOnlyDictionary<string, string>? ErrorHeaders { get; init; }
    /// <summary>Stream: after this many deltas send an <c>error</c> event (<see cref="ErrorType"/>) and close.</summary>
    public int? ErrorEventAfter { get; init; }
    /// <summary>Stream: after this many deltas close cleanly without message_delta/message_stop.</summary>
    public int? TruncateAfter { get; init; }
    /// <summary>Stream: send a ping after message_start and between blocks, as Anthropic does.</summary>
    public bool Pings { get; init; } = true;
    /// <summary>Wait this long before answering (load runs: emulated model latency).</summary>
    public TimeSpan HeaderDelay { get; init; }
    /// <summary>Stream: wait this long before each delta (load runs: emulated token pace).</summary>
    public TimeSpan ChunkDelay { get; init; }
}

/// <summary>
/// Speaks Anthropic's Messages API byte for byte: the JSON message, the SSE event sequence (message_start, ping,
/// content_block_start/delta/stop with text, thinking, signature and input_json deltas, message_delta with
/// cumulative usage, message_stop), error bodies with request-id and retry-after, and it refuses what the real
/// API refuses (missing key or version, missing max_tokens, unknown top-level fields). Misbehaves on cue.
/// </summary>
public sealed class AnthropicEmulator : EmulatorHost
{
    /// <summary>Top-level fields the Messages API accepts; anything else is a 400 as on the real API.</summary>
    private static readonly HashSet<string> KnownFields =
    [
        "model", "messages", "max_tokens", "system", "metadata", "stop_sequences", "stream", "temperature", "top_p", "top_k",
        "tools", "tool_choice", "thinking", "service_tier", "container", "mcp_servers", "output_format", "output_config",
        "context_management", "speed",
    ];

    private int _ids;

    public ConcurrentQueue<AnthropicScript> Scripts { get; } = new();
    public AnthropicScript Default { get; set; } = new();

    /// <summary>The api_base to configure: the host root (LLMux appends <c>/v1/messages</c>).</summary>
    public string ApiBase => Root.ToString().TrimEnd('/');

    public static async Task<AnthropicEmulator> StartNewAsync(int port = 0)
    {
        var e = new AnthropicEmulator();
        await e.StartAsync(port).ConfigureAwait(false);
        return e;
    }

    public void Enqueue(AnthropicScript script) => Scripts.Enqueue(script);

    protected override async Task AnswerAsync(HttpContext http, RecordedRequest request)
    {
        var script = Scripts.TryDequeue(out var s) ? s : Default;
        var n = Interlocked.Increment(ref _ids);
        var requestId = $"req_emu_{n:D4}";
        http.Response.Headers["request-id"] = requestId;
        http.Response.Headers["anthropic-organization-id"] = "00000000-0000-0000-0000-000000000000";

        if (request.Path == "/v1/messages/count_tokens" && request.Method == "POST")
        {
            await CountTokensAsync(http, request, requestId).ConfigureAwait(false);
            return;
        }
        if (request.Path != "/v1/messages" || request.Method != "POST")
        {
            await ErrorAsync(http, 404, "not_found_error", "Not Found", requestId, null).ConfigureAwait(false);
            return;
        }
        if (!request.Headers.ContainsKey("x-api-key") && !request.Headers.ContainsKey("authorization"))
        {
            await ErrorAsync(http, 401, "authentication_error", "x-api-key header is required", requestId, null).ConfigureAwait(false);
            return;
        }
        if (!request.Headers.ContainsKey("anthropic-version"))
        {
            await ErrorAsync(http, 400, "invalid_request_error", "anthropic-version: header is required", requestId, null).ConfigureAwait(false);
            return;
        }
        if (script.HeaderDelay > TimeSpan.Zero) await Task.Delay(script.HeaderDelay, http.RequestAborted).ConfigureAwait(false);
        if (script.ErrorStatus is { } status)
        {
            await ErrorAsync(http, status, script.ErrorType, script.ErrorMessage, requestId, script.ErrorHeaders).ConfigureAwait(false);
            return;
        }

        using var doc = JsonDocument.Parse(request.Body);
        var root = doc.RootElement;
        foreach (var prop in root.EnumerateObject())
        {
            if (!KnownFields.Contains(prop.Name))
            {
                await ErrorAsync(http, 400, "invalid_request_error", $"{prop.Name}: Extra inputs are not permitted", requestId, null).ConfigureAwait(false);
                return;
            }
        }
        if (!root.TryGetProperty("max_tokens", out _))
        {
            await ErrorAsync(http, 400, "invalid_request_error", "max_tokens: Field required", requestId, null).ConfigureAwait(false);
            return;
        }
        var model = root.GetProperty("model").GetString() ?? "";
        var id = $"msg_emu_{n:D4}";
        var stream = root.TryGetProperty("stream", out var st) && st.ValueKind == JsonValueKind.True;
        if (!stream)
        {
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(Message(id, model, script), http.RequestAborted).ConfigureAwait(false);
            return;
        }
        await StreamAsync(http, id, model, script).ConfigureAwait(false);
    }

    /// <summary>Fields Anthropic's count endpoint takes: the Messages request without max_tokens, stream and sampling.</summary>
    private static readonly HashSet<string> CountFields = ["model", "messages", "system", "tools", "tool_choice", "thinking", "mcp_servers", "context_management", "output_format", "output_config"];

    /// <summary><c>POST /v1/messages/count_tokens</c>: <c>{"input_tokens": n}</c> (<see cref="ClaudePlatformRules.CountTokens"/>).</summary>
    private static async Task CountTokensAsync(HttpContext http, RecordedRequest request, string requestId)
    {
        if (!request.Headers.ContainsKey("x-api-key") && !request.Headers.ContainsKey("authorization"))
        {
            await ErrorAsync(http, 401, "authentication_error", "x-api-key header is required", requestId, null).ConfigureAwait(false);
            return;
        }
        if (!request.Headers.ContainsKey("anthropic-version"))
        {
            await ErrorAsync(http, 400, "invalid_request_error", "anthropic-version: header is required", requestId, null).ConfigureAwait(false);
            return;
        }
        using var doc = JsonDocument.Parse(request.Body);
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            if (!CountFields.Contains(p.Name))
            {
                await ErrorAsync(http, 400, "invalid_request_error", $"{p.Name}: Extra inputs are not permitted", requestId, null).ConfigureAwait(false);
                return;
            }
        }
        if (!doc.RootElement.TryGetProperty("model", out _) || !doc.RootElement.TryGetProperty("messages", out _))
        {
            await ErrorAsync(http, 400, "invalid_request_error", "model and messages are required", requestId, null).ConfigureAwait(false);
            return;
        }
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync("{\"input_tokens\":" + ClaudePlatformRules.CountTokens(doc.RootElement) + "}", http.RequestAborted).ConfigureAwait(false);
    }

    private static async Task ErrorAsync(HttpContext http, int status, string type, string message, string requestId, IReadOnlyDictionary<string, string>? headers)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        foreach (var (k, v) in headers ?? new Dictionary<string, string>()) http.Response.Headers[k] = v;
        var body = "{\"type\":\"error\",\"error\":{\"type\":" + Json(type) + ",\"message\":" + Json(message) + "},\"request_id\":" + Json(requestId) + "}";
        await http.Response.WriteAsync(body, http.RequestAborted).ConfigureAwait(false);
    }

    private static string StopReason(AnthropicScript s) => s.StopReason ?? (s.ToolCalls.Count > 0 ? "tool_use" : "end_turn");

    private static string Usage(AnthropicScript s, long output) =>
        "{\"input_tokens\":" + s.InputTokens + ",\"cache_creation_input_tokens\":" + s.CacheCreationTokens + ",\"cache_read_input_tokens\":" + s.CacheReadTokens
        + ",\"cache_creation\":{\"ephemeral_5m_input_tokens\":" + s.CacheCreationTokens + ",\"ephemeral_1h_input_tokens\":0},\"output_tokens\":" + output + ",\"service_tier\":\"standard\"}";

    /// <summary>The non-stream answer, as the Messages API writes it.</summary>
    public static string Message(string id, string model, AnthropicScript s)
    {
        var blocks = new List<string>();
        if (s.Thinking is not null) blocks.Add("{\"type\":\"thinking\",\"thinking\":" + Json(s.Thinking) + ",\"signature\":" + Json(s.Signature) + "}");
        if (!string.IsNullOrEmpty(s.Text)) blocks.Add("{\"type\":\"text\",\"text\":" + Json(s.Text) + "}");
        foreach (var (callId, name, input) in s.ToolCalls) blocks.Add("{\"type\":\"tool_use\",\"id\":" + Json(callId) + ",\"name\":" + Json(name) + ",\"input\":" + input + ",\"caller\":{\"type\":\"direct\"}}");
        return "{\"model\":" + Json(model) + ",\"id\":" + Json(id) + ",\"type\":\"message\",\"role\":\"assistant\",\"content\":[" + string.Join(",", blocks)
            + "],\"stop_reason\":" + Json(StopReason(s)) + ",\"stop_sequence\":null,\"usage\":" + Usage(s, s.OutputTokens) + "}";
    }

    /// <summary>The SSE answer as a list of events (event name, data JSON), deltas counted for the misbehaviour cues.</summary>
    public static List<(string Event, string Data, bool IsDelta)> Events(string id, string model, AnthropicScript s)
    {
        var events = new List<(string, string, bool)>
        {
            ("message_start", "{\"type\":\"message_start\",\"message\":{\"model\":" + Json(model) + ",\"id\":" + Json(id) + ",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":" + Usage(s, 1) + "}}", false),
        };
        if (s.Pings) events.Add(("ping", "{\"type\": \"ping\"}", false));
        var index = 0;
        if (s.Thinking is not null)
        {
            events.Add(("content_block_start", "{\"type\":\"content_block_start\",\"index\":" + index + ",\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}}", false));
            foreach (var piece in Split(s.Thinking, s.Chunks))
                events.Add(("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":" + index + ",\"delta\":{\"type\":\"thinking_delta\",\"thinking\":" + Json(piece) + "}}", true));
            events.Add(("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":" + index + ",\"delta\":{\"type\":\"signature_delta\",\"signature\":" + Json(s.Signature) + "}}", true));
            events.Add(("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":" + index + "}", false));
            index++;
        }
        if (!string.IsNullOrEmpty(s.Text))
        {
            events.Add(("content_block_start", "{\"type\":\"content_block_start\",\"index\":" + index + ",\"content_block\":{\"type\":\"text\",\"text\":\"\"}}", false));
            foreach (var piece in Split(s.Text, s.Chunks))
                events.Add(("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":" + index + ",\"delta\":{\"type\":\"text_delta\",\"text\":" + Json(piece) + "}}", true));
            events.Add(("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":" + index + "}", false));
            index++;
        }
        foreach (var (callId, name, input) in s.ToolCalls)
        {
            events.Add(("content_block_start", "{\"type\":\"content_block_start\",\"index\":" + index + ",\"content_block\":{\"type\":\"tool_use\",\"id\":" + Json(callId) + ",\"name\":" + Json(name) + ",\"input\":{},\"caller\":{\"type\":\"direct\"}}}", false));
            events.Add(("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":" + index + ",\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\"}}", true));
            var compact = input == "{}" ? "" : input;
            foreach (var piece in Split(compact, s.Chunks))
            {
                if (piece.Length == 0) continue;
                events.Add(("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":" + index + ",\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":" + Json(piece) + "}}", true));
            }
            events.Add(("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":" + index + "}", false));
            index++;
        }
        events.Add(("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":" + Json(StopReason(s)) + ",\"stop_sequence\":null},\"usage\":{\"input_tokens\":" + s.InputTokens
            + ",\"cache_creation_input_tokens\":" + s.CacheCreationTokens + ",\"cache_read_input_tokens\":" + s.CacheReadTokens + ",\"output_tokens\":" + s.OutputTokens + "}}", false));
        events.Add(("message_stop", "{\"type\":\"message_stop\"}", false));
        return events;
    }

    /// <summary>The whole SSE body for a script, as the emulator sends it (used by translator tests).</summary>
    public static string StreamBody(string id, string model, AnthropicScript s)
    {
        var sb = new StringBuilder();
        foreach (var frame in Frames(id, model, s)) sb.Append(frame);
        return sb.ToString();
    }

    private static IEnumerable<string> Frames(string id, string model, AnthropicScript s)
    {
        var deltas = 0;
        foreach (var (name, data, isDelta) in Events(id, model, s))
        {
            if (isDelta)
            {
                if (s.ErrorEventAfter == deltas)
                {
                    yield return "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":" + Json(s.ErrorType) + ",\"message\":" + Json(s.ErrorMessage) + "}}\n\n";
                    yield break;
                }
                if (s.TruncateAfter == deltas) yield break;
                deltas++;
            }
            yield return "event: " + name + "\ndata: " + data + "\n\n";
        }
    }

    private static async Task StreamAsync(HttpContext http, string id, string model, AnthropicScript script)
    {
        var ct = http.RequestAborted;
        http.Response.ContentType = "text/event-stream; charset=utf-8";
        http.Response.Headers.CacheControl = "no-cache";
        await http.Response.StartAsync(ct).ConfigureAwait(false);
        foreach (var frame in Frames(id, model, script))
        {
            if (script.ChunkDelay > TimeSpan.Zero && frame.StartsWith("event: content_block_delta", StringComparison.Ordinal)) await Task.Delay(script.ChunkDelay, ct).ConfigureAwait(false);
            await http.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(frame), ct).ConfigureAwait(false);
            await http.Response.Body.FlushAsync(ct).ConfigureAwait(false);
        }
    }

    private static string Json(string value) => JsonSerializer.Serialize(value);

    private static List<string> Split(string text, int count)
    {
        var list = new List<string>();
        if (text.Length == 0) return list;
        count = Math.Max(1, Math.Min(count, text.Length));
        var size = (int)Math.Ceiling(text.Length / (double)count);
        for (var i = 0; i < text.Length;)
        {
            var length = Math.Min(size, text.Length - i);
            // Never split a surrogate pair: Anthropic's deltas are whole characters.
            if (i + length < text.Length && char.IsHighSurrogate(text[i + length - 1])) length++;
            list.Add(text.Substring(i, length));
            i += length;
        }
        return list;
    }
}
