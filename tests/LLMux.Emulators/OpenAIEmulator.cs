using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace LLMux.Emulators;

/// <summary>What the OpenAI emulator does with the next request.</summary>
public sealed record OpenAIScript
{
    /// <summary>Answer text, split into <see cref="Chunks"/> stream deltas.</summary>
    public string Content { get; init; } = "Hello from the emulator.";
    public int Chunks { get; init; } = 4;
    public TimeSpan ChunkDelay { get; init; }
    /// <summary>A tool call instead of text: name and JSON arguments (streamed in fragments).</summary>
    public (string Name, string Arguments)? ToolCall { get; init; }
    /// <summary>An error answer: status, body and extra headers.</summary>
    public int? ErrorStatus { get; init; }
    public string? ErrorBody { get; init; }
    public IReadOnlyDictionary<string, string>? ErrorHeaders { get; init; }
    /// <summary>Extra headers on a successful answer (rate-limit headers, say).</summary>
    public IReadOnlyDictionary<string, string>? ResponseHeaders { get; init; }
    /// <summary>Wait this long before sending the response headers.</summary>
    public TimeSpan HeaderDelay { get; init; }
    /// <summary>Streams: a pause after the response headers, before the first event (the model's time to first token).</summary>
    public TimeSpan FirstEventDelay { get; init; }
    /// <summary>Stream: stop after this many content chunks without finish_reason or [DONE], then close cleanly.</summary>
    public int? TruncateAfter { get; init; }
    /// <summary>Stream: after this many chunks send bytes that are not SSE JSON, then close.</summary>
    public int? GarbageAfter { get; init; }
    /// <summary>Stream: after this many chunks abort the connection (TCP reset).</summary>
    public int? ResetAfter { get; init; }
    /// <summary>Stream: after this many chunks send an in-band error event.</summary>
    public int? ErrorEventAfter { get; init; }
    /// <summary>Stream: after this many chunks stop sending and wait until the caller goes away.</summary>
    public int? HangAfter { get; init; }
    public long PromptTokens { get; init; } = 11;
    public long CompletionTokens { get; init; } = 7;
    public long CachedTokens { get; init; }
    public long ReasoningTokens { get; init; }
    /// <summary>Provider quirk: DeepSeek-style <c>reasoning_content</c> before the answer (message field / first deltas).</summary>
    public string? ReasoningContent { get; init; }
    /// <summary>Same as <see cref="ReasoningContent"/>.</summary>
    public string? Reasoning { get => ReasoningContent; init => ReasoningContent = value; }
    /// <summary>Provider quirk: raw top-level JSON members added to the answer and to every chunk (e.g. <c>"citations":[...]</c>).</summary>
    public string? ExtraResponseFields { get; init; }
}

/// <summary>
/// Speaks OpenAI's chat-completions and embeddings wire format byte for byte (JSON and SSE, tool-call
/// argument fragments, include_usage, error bodies with headers), and misbehaves on cue.
/// </summary>
public sealed class OpenAIEmulator : EmulatorHost
{
    private const string Id = "chatcmpl-emu123";
    private const long Created = 1700000000;

    public ConcurrentQueue<OpenAIScript> Scripts { get; } = new();
    public OpenAIScript Default { get; set; } = new();

    /// <summary>The api_base to configure: <c>http://127.0.0.1:port/v1</c>.</summary>
    public string ApiBase => new Uri(Root, "/v1").ToString();

    public static async Task<OpenAIEmulator> StartNewAsync(int port = 0)
    {
        var e = new OpenAIEmulator();
        await e.StartAsync(port).ConfigureAwait(false);
        return e;
    }

    public void Enqueue(OpenAIScript script) => Scripts.Enqueue(script);

    /// <summary>The Files and Batches endpoints (<c>/v1/files</c>, <c>/v1/batches</c>).</summary>
    public OpenAIBatchesEmulator FilesAndBatches { get; } = new();

    protected override async Task AnswerAsync(HttpContext http, RecordedRequest request)
    {
        if (OpenAIBatchesEmulator.Handles(request.Path))
        {
            await FilesAndBatches.AnswerAsync(http, request, model => Completion(model, Default)).ConfigureAwait(false);
            return;
        }
        var script = Scripts.TryDequeue(out var s) ? s : Default;
        var ct = http.RequestAborted;
        if (script.HeaderDelay > TimeSpan.Zero) await Task.Delay(script.HeaderDelay, ct).ConfigureAwait(false);
        http.Response.Headers["x-request-id"] = "req_emu_" + Requests.Count;
        if (script.ErrorStatus is null) foreach (var (k, v) in script.ResponseHeaders ?? new Dictionary<string, string>()) http.Response.Headers[k] = v;

        if (script.ErrorStatus is { } status)
        {
            http.Response.StatusCode = status;
            http.Response.ContentType = "application/json";
            foreach (var (k, v) in script.ErrorHeaders ?? new Dictionary<string, string>()) http.Response.Headers[k] = v;
            await http.Response.WriteAsync(script.ErrorBody ?? "{\"error\":{\"message\":\"emulated error " + status + "\",\"type\":\"server_error\",\"param\":null,\"code\":null}}", ct).ConfigureAwait(false);
            return;
        }

        using var doc = JsonDocument.Parse(request.Body);
        var root = doc.RootElement;
        var model = root.TryGetProperty("model", out var m) ? m.GetString() ?? "" : "";
        if (request.Path.EndsWith("/embeddings", StringComparison.Ordinal))
        {
            await WriteEmbeddingsAsync(http, root, model).ConfigureAwait(false);
            return;
        }
        await WriteChatAnswerAsync(http, root, model, script).ConfigureAwait(false);
    }

    /// <summary>A chat completion (JSON, or SSE when the body says <c>stream: true</c>) as OpenAI writes it; other emulators whose upstream speaks OpenAI's shape answer with it.</summary>
    public static async Task WriteChatAnswerAsync(HttpContext http, JsonElement root, string model, OpenAIScript script)
    {
        var stream = root.TryGetProperty("stream", out var st) && st.ValueKind == JsonValueKind.True;
        if (!stream)
        {
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(Completion(model, script), http.RequestAborted).ConfigureAwait(false);
            return;
        }
        var includeUsage = root.TryGetProperty("stream_options", out var so) && so.ValueKind == JsonValueKind.Object
            && so.TryGetProperty("include_usage", out var iu) && iu.ValueKind == JsonValueKind.True;
        await StreamAsync(http, model, script, includeUsage).ConfigureAwait(false);
    }

    private static async Task StreamAsync(HttpContext http, string model, OpenAIScript script, bool includeUsage)
    {
        var ct = http.RequestAborted;
        http.Response.ContentType = "text/event-stream; charset=utf-8";
        await http.Response.StartAsync(ct).ConfigureAwait(false);
        if (script.FirstEventDelay > TimeSpan.Zero)
        {
            // A comment line gets the headers onto the wire at once (as OpenRouter's keep-alive comments do), then the pause.
            await SendAsync(http, ": processing\n\n").ConfigureAwait(false);
            await Task.Delay(script.FirstEventDelay, ct).ConfigureAwait(false);
        }
        var pieces = Split(script.ToolCall is { } tc ? tc.Arguments : script.Content, script.Chunks);

        var first = script.ToolCall is { } call
            ? "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":\"call_emu_1\",\"type\":\"function\",\"function\":{\"name\":\"" + call.Name + "\",\"arguments\":\"\"}}],\"refusal\":null}"
            : """{"role":"assistant","content":"","refusal":null}""";
        await SendAsync(http, Chunk(model, first, null, script.ExtraResponseFields)).ConfigureAwait(false);
        if (script.ReasoningContent is { } reasoning)
            await SendAsync(http, Chunk(model, "{\"reasoning_content\":" + JsonSerializer.Serialize(reasoning) + "}", null, script.ExtraResponseFields)).ConfigureAwait(false);

        for (var i = 0; i < pieces.Count; i++)
        {
            if (script.TruncateAfter == i) return;
            if (script.GarbageAfter == i) { await SendAsync(http, "data: {\"id\":\"chatcmpl-emu123\",\"choices\":[{\"delta\":{\"content\":\"tr\n\n\u0000\u00ff\u00fe garbage <html>\n\n").ConfigureAwait(false); return; }
            if (script.ResetAfter == i)
            {
                // Give the reader time to take the flushed bytes: a reset discards data still unread in the socket buffer.
                await Task.Delay(200, ct).ConfigureAwait(false);
                http.Abort();
                return;
            }
            if (script.ErrorEventAfter == i)
            {
                await SendAsync(http, "data: {\"error\":{\"message\":\"The server had an error while processing your request. Sorry about that!\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n").ConfigureAwait(false);
                return;
            }
            if (script.HangAfter == i) { await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false); return; }
            if (script.ChunkDelay > TimeSpan.Zero) await Task.Delay(script.ChunkDelay, ct).ConfigureAwait(false);
            var delta = script.ToolCall is not null
                ? "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":" + JsonSerializer.Serialize(pieces[i]) + "}}]}"
                : $$"""{"content":{{JsonSerializer.Serialize(pieces[i])}}}""";
            await SendAsync(http, Chunk(model, delta, null, script.ExtraResponseFields)).ConfigureAwait(false);
        }
        await SendAsync(http, Chunk(model, "{}", script.ToolCall is null ? "stop" : "tool_calls", script.ExtraResponseFields)).ConfigureAwait(false);
        if (includeUsage)
        {
            await SendAsync(http, $$"""data: {"id":"{{Id}}","object":"chat.completion.chunk","created":{{Created}},"model":"{{model}}","system_fingerprint":"fp_emu","choices":[],"usage":{{Usage(script)}}}""" + "\n\n").ConfigureAwait(false);
        }
        await SendAsync(http, "data: [DONE]\n\n").ConfigureAwait(false);
    }

    private static string Chunk(string model, string delta, string? finish, string? extra = null) =>
        $$"""data: {{{(extra is null ? "" : extra + ",")}}"id":"{{Id}}","object":"chat.completion.chunk","created":{{Created}},"model":"{{model}}","system_fingerprint":"fp_emu","choices":[{"index":0,"delta":{{delta}},"logprobs":null,"finish_reason":{{(finish is null ? "null" : "\"" + finish + "\"")}}}],"usage":null}""" + "\n\n";

    private static async Task SendAsync(HttpContext http, string frame)
    {
        await http.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(frame), http.RequestAborted).ConfigureAwait(false);
        await http.Response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
    }

    private static string Usage(OpenAIScript s) =>
        "{\"prompt_tokens\":" + s.PromptTokens + ",\"completion_tokens\":" + s.CompletionTokens + ",\"total_tokens\":" + (s.PromptTokens + s.CompletionTokens) + ",\"prompt_tokens_details\":{\"cached_tokens\":" + s.CachedTokens + ",\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":" + s.ReasoningTokens + ",\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}";

    private static string Completion(string model, OpenAIScript s)
    {
        var message = s.ToolCall is { } tc
            ? "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_emu_1\",\"type\":\"function\",\"function\":{\"name\":\"" + tc.Name + "\",\"arguments\":" + JsonSerializer.Serialize(tc.Arguments) + "}}],\"refusal\":null,\"annotations\":[]}"
            : $$"""{"role":"assistant","content":{{JsonSerializer.Serialize(s.Content)}},{{(s.ReasoningContent is null ? "" : "\"reasoning_content\":" + JsonSerializer.Serialize(s.ReasoningContent) + ",")}}"refusal":null,"annotations":[]}""";
        return $$"""
            {
              "id": "{{Id}}",
              "object": "chat.completion",
              "created": {{Created}},
              "model": "{{model}}",
              "choices": [
                {
                  "index": 0,
                  "message": {{message}},
                  "logprobs": null,
                  "finish_reason": "{{(s.ToolCall is null ? "stop" : "tool_calls")}}"
                }
              ],
              "usage": {{Usage(s)}},
              {{(s.ExtraResponseFields is null ? "" : s.ExtraResponseFields + ",")}}
              "service_tier": "default",
              "system_fingerprint": "fp_emu"
            }
            """;
    }

    private static async Task WriteEmbeddingsAsync(HttpContext http, JsonElement root, string model)
    {
        var count = 1;
        if (root.TryGetProperty("input", out var input) && input.ValueKind == JsonValueKind.Array) count = input.GetArrayLength();
        var base64 = root.TryGetProperty("encoding_format", out var ef) && ef.ValueEquals("base64");
        var sb = new StringBuilder("{\"object\":\"list\",\"data\":[");
        for (var i = 0; i < count; i++)
        {
            if (i > 0) sb.Append(',');
            float[] v = [0.25f * (i + 1), -0.5f, 0.125f];
            var embedding = base64
                ? "\"" + Convert.ToBase64String(v.SelectMany(BitConverter.GetBytes).ToArray()) + "\""
                : "[" + string.Join(",", v.Select(static f => f.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]";
            sb.Append($$"""{"object":"embedding","index":{{i}},"embedding":{{embedding}}}""");
        }
        sb.Append("],\"model\":\"" + model + "\",\"usage\":{\"prompt_tokens\":" + (3 * count) + ",\"total_tokens\":" + (3 * count) + "}}");
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(sb.ToString(), http.RequestAborted).ConfigureAwait(false);
    }

    private static List<string> Split(string text, int count)
    {
        var list = new List<string>();
        count = Math.Max(1, Math.Min(count, text.Length));
        var size = (int)Math.Ceiling(text.Length / (double)count);
        for (var i = 0; i < text.Length; i += size) list.Add(text.Substring(i, Math.Min(size, text.Length - i)));
        if (list.Count == 0) list.Add("");
        return list;
    }
}
