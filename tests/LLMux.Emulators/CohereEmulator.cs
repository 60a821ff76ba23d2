using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace LLMux.Emulators;

/// <summary>What the Cohere emulator does with the next request.</summary>
public sealed record CohereScript
{
    public string Content { get; init; } = "Hello from Cohere.";
    public int Chunks { get; init; } = 3;
    /// <summary>One tool call; its arguments stream in <see cref="Chunks"/> pieces.</summary>
    public (string Id, string Name, string Arguments)? ToolCall { get; init; }
    public string FinishReason { get; init; } = "COMPLETE";
    public int? ErrorStatus { get; init; }
    public string ErrorMessage { get; init; } = "invalid api token";
    /// <summary>Stream: close after the deltas without message-end.</summary>
    public bool OmitEnd { get; init; }
    public int InputTokens { get; init; } = 11;
    public int OutputTokens { get; init; } = 5;
    public float[][] Embeddings { get; init; } = [[0.25f, -1.5f, 3f], [0.5f, 0.125f, -2f]];
}

/// <summary>Speaks Cohere's v2 API: <c>POST /v2/chat</c> (JSON, or SSE when <c>stream</c> is true) and <c>POST /v2/embed</c>.</summary>
public sealed class CohereEmulator : EmulatorHost
{
    public ConcurrentQueue<CohereScript> Scripts { get; } = new();

    /// <summary>The api_base to configure: the host root.</summary>
    public string ApiBase => Root.ToString().TrimEnd('/');

    public static async Task<CohereEmulator> StartNewAsync()
    {
        var e = new CohereEmulator();
        await e.StartAsync().ConfigureAwait(false);
        return e;
    }

    protected override async Task AnswerAsync(HttpContext http, RecordedRequest request)
    {
        var script = Scripts.TryDequeue(out var s) ? s : new CohereScript();
        var ct = http.RequestAborted;
        if (script.ErrorStatus is { } status)
        {
            http.Response.StatusCode = status;
            http.Response.ContentType = "application/json";
            http.Response.Headers["x-request-id"] = "cohere-req-1";
            await http.Response.WriteAsync("{\"id\":\"e1\",\"message\":" + JsonSerializer.Serialize(script.ErrorMessage) + "}", ct).ConfigureAwait(false);
            return;
        }
        if (request.Path == "/v2/embed") { await EmbedAsync(http, script).ConfigureAwait(false); return; }
        if (request.Path != "/v2/chat") { http.Response.StatusCode = 404; await http.Response.WriteAsync("{\"message\":\"not found\"}", ct).ConfigureAwait(false); return; }
        using var doc = JsonDocument.Parse(request.Body);
        var stream = doc.RootElement.TryGetProperty("stream", out var st) && st.ValueKind == JsonValueKind.True;
        if (!stream)
        {
            http.Response.ContentType = "application/json";
            var message = new StringBuilder("{\"role\":\"assistant\"");
            if (script.ToolCall is { } call)
                message.Append(",\"tool_plan\":\"I will call the tool.\",\"tool_calls\":[{\"id\":\"").Append(call.Id).Append("\",\"type\":\"function\",\"function\":{\"name\":\"")
                    .Append(call.Name).Append("\",\"arguments\":").Append(JsonSerializer.Serialize(call.Arguments)).Append("}}]");
            else message.Append(",\"content\":[{\"type\":\"text\",\"text\":").Append(JsonSerializer.Serialize(script.Content)).Append("}]");
            message.Append('}');
            await http.Response.WriteAsync("{\"id\":\"c0ffee\",\"finish_reason\":\"" + script.FinishReason + "\",\"message\":" + message + ",\"usage\":" + Usage(script) + "}", ct).ConfigureAwait(false);
            return;
        }
        http.Response.ContentType = "text/event-stream";
        await http.Response.StartAsync(ct).ConfigureAwait(false);
        await SendAsync(http, "message-start", "{\"id\":\"c0ffee\",\"type\":\"message-start\",\"delta\":{\"message\":{\"role\":\"assistant\",\"content\":[],\"tool_plan\":\"\",\"tool_calls\":[],\"citations\":[]}}}").ConfigureAwait(false);
        if (script.ToolCall is { } tool)
        {
            await SendAsync(http, "tool-plan-delta", "{\"type\":\"tool-plan-delta\",\"delta\":{\"message\":{\"tool_plan\":\"I will call it.\"}}}").ConfigureAwait(false);
            await SendAsync(http, "tool-call-start", "{\"type\":\"tool-call-start\",\"index\":0,\"delta\":{\"message\":{\"tool_calls\":{\"id\":\"" + tool.Id + "\",\"type\":\"function\",\"function\":{\"name\":\"" + tool.Name + "\",\"arguments\":\"\"}}}}}").ConfigureAwait(false);
            foreach (var piece in Split(tool.Arguments, script.Chunks))
                await SendAsync(http, "tool-call-delta", "{\"type\":\"tool-call-delta\",\"index\":0,\"delta\":{\"message\":{\"tool_calls\":{\"function\":{\"arguments\":" + JsonSerializer.Serialize(piece) + "}}}}}").ConfigureAwait(false);
            await SendAsync(http, "tool-call-end", "{\"type\":\"tool-call-end\",\"index\":0}").ConfigureAwait(false);
        }
        else
        {
            await SendAsync(http, "content-start", "{\"type\":\"content-start\",\"index\":0,\"delta\":{\"message\":{\"content\":{\"type\":\"text\",\"text\":\"\"}}}}").ConfigureAwait(false);
            foreach (var piece in Split(script.Content, script.Chunks))
                await SendAsync(http, "content-delta", "{\"type\":\"content-delta\",\"index\":0,\"delta\":{\"message\":{\"content\":{\"text\":" + JsonSerializer.Serialize(piece) + "}}}}").ConfigureAwait(false);
            await SendAsync(http, "content-end", "{\"type\":\"content-end\",\"index\":0}").ConfigureAwait(false);
        }
        if (script.OmitEnd) return;
        await SendAsync(http, "message-end", "{\"type\":\"message-end\",\"delta\":{\"finish_reason\":\"" + script.FinishReason + "\",\"usage\":" + Usage(script) + "}}").ConfigureAwait(false);
    }

    private static async Task EmbedAsync(HttpContext http, CohereScript script)
    {
        http.Response.ContentType = "application/json";
        var sb = new StringBuilder("{\"id\":\"emb1\",\"embeddings\":{\"float\":[");
        for (var i = 0; i < script.Embeddings.Length; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append('[').Append(string.Join(",", script.Embeddings[i].Select(static f => f.ToString("R", CultureInfo.InvariantCulture)))).Append(']');
        }
        sb.Append("]},\"texts\":[],\"meta\":{\"api_version\":{\"version\":\"2\"},\"billed_units\":{\"input_tokens\":").Append(script.InputTokens).Append("}}}");
        await http.Response.WriteAsync(sb.ToString(), http.RequestAborted).ConfigureAwait(false);
    }

    private static string Usage(CohereScript s) =>
        "{\"billed_units\":{\"input_tokens\":" + (s.InputTokens - 1) + ",\"output_tokens\":" + s.OutputTokens + "},\"tokens\":{\"input_tokens\":" + s.InputTokens + ",\"output_tokens\":" + s.OutputTokens + "}}";

    private static IEnumerable<string> Split(string text, int chunks)
    {
        var size = Math.Max(1, (int)Math.Ceiling(text.Length / (double)Math.Max(1, chunks)));
        for (var i = 0; i < text.Length; i += size) yield return text.Substring(i, Math.Min(size, text.Length - i));
    }

    private static async Task SendAsync(HttpContext http, string eventName, string data)
    {
        await http.Response.Body.WriteAsync(Encoding.UTF8.GetBytes("event: " + eventName + "\ndata: " + data + "\n\n"), http.RequestAborted).ConfigureAwait(false);
        await http.Response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
    }
}
