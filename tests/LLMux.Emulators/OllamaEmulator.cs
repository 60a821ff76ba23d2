using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace LLMux.Emulators;

/// <summary>What the Ollama emulator does with the next request.</summary>
public sealed record OllamaScript
{
    public string Content { get; init; } = "Hello from Ollama.";
    public int Chunks { get; init; } = 3;
    public string? Thinking { get; init; }
    /// <summary>A whole tool call (Ollama sends arguments as an object).</summary>
    public (string Name, string ArgumentsJson)? ToolCall { get; init; }
    public int? ErrorStatus { get; init; }
    /// <summary>Stream: close after the content lines without the done line.</summary>
    public bool OmitDone { get; init; }
    public int PromptEvalCount { get; init; } = 9;
    public int EvalCount { get; init; } = 4;
}

/// <summary>Speaks Ollama's native <c>/api/chat</c>: one JSON object, or NDJSON lines when <c>stream</c> is not false (its default).</summary>
public sealed class OllamaEmulator : EmulatorHost
{
    public ConcurrentQueue<OllamaScript> Scripts { get; } = new();

    /// <summary>The api_base to configure: the host root.</summary>
    public string ApiBase => Root.ToString().TrimEnd('/');

    public static async Task<OllamaEmulator> StartNewAsync()
    {
        var e = new OllamaEmulator();
        await e.StartAsync().ConfigureAwait(false);
        return e;
    }

    protected override async Task AnswerAsync(HttpContext http, RecordedRequest request)
    {
        var script = Scripts.TryDequeue(out var s) ? s : new OllamaScript();
        var ct = http.RequestAborted;
        if (request.Path != "/api/chat") { http.Response.StatusCode = 404; await http.Response.WriteAsync("404 page not found", ct).ConfigureAwait(false); return; }
        using var doc = JsonDocument.Parse(request.Body);
        var model = doc.RootElement.GetProperty("model").GetString() ?? "";
        if (script.ErrorStatus is { } status)
        {
            http.Response.StatusCode = status;
            http.Response.ContentType = "application/json; charset=utf-8";
            await http.Response.WriteAsync("{\"error\":\"model \\\"" + model + "\\\" not found, try pulling it first\"}", ct).ConfigureAwait(false);
            return;
        }
        var stream = !(doc.RootElement.TryGetProperty("stream", out var st) && st.ValueKind == JsonValueKind.False);
        if (!stream)
        {
            http.Response.ContentType = "application/json; charset=utf-8";
            await http.Response.WriteAsync(Line(model, Message(script.Content, script.Thinking, script.ToolCall), done: true, script), ct).ConfigureAwait(false);
            return;
        }
        http.Response.ContentType = "application/x-ndjson";
        await http.Response.StartAsync(ct).ConfigureAwait(false);
        if (script.Thinking is { } thinking) await SendAsync(http, Line(model, Message("", thinking, null), false, script)).ConfigureAwait(false);
        if (script.ToolCall is { } call) await SendAsync(http, Line(model, Message("", null, call), false, script)).ConfigureAwait(false);
        else
        {
            var size = Math.Max(1, (int)Math.Ceiling(script.Content.Length / (double)Math.Max(1, script.Chunks)));
            for (var i = 0; i < script.Content.Length; i += size)
                await SendAsync(http, Line(model, Message(script.Content.Substring(i, Math.Min(size, script.Content.Length - i)), null, null), false, script)).ConfigureAwait(false);
        }
        if (script.OmitDone) return;
        await SendAsync(http, Line(model, Message("", null, null), true, script)).ConfigureAwait(false);
    }

    private static string Message(string content, string? thinking, (string Name, string ArgumentsJson)? call)
    {
        var sb = new StringBuilder("{\"role\":\"assistant\",\"content\":").Append(JsonSerializer.Serialize(content));
        if (thinking is not null) sb.Append(",\"thinking\":").Append(JsonSerializer.Serialize(thinking));
        if (call is { } c) sb.Append(",\"tool_calls\":[{\"function\":{\"name\":\"").Append(c.Name).Append("\",\"arguments\":").Append(c.ArgumentsJson).Append("}}]");
        return sb.Append('}').ToString();
    }

    private static string Line(string model, string message, bool done, OllamaScript s) =>
        "{\"model\":\"" + model + "\",\"created_at\":\"2025-01-01T00:00:00.000000Z\",\"message\":" + message + ",\"done\":" + (done ? "true" : "false")
        + (done ? ",\"done_reason\":\"stop\",\"total_duration\":123456,\"load_duration\":1000,\"prompt_eval_count\":" + s.PromptEvalCount + ",\"prompt_eval_duration\":100,\"eval_count\":" + s.EvalCount + ",\"eval_duration\":200" : "")
        + "}\n";

    private static async Task SendAsync(HttpContext http, string line)
    {
        await http.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(line), http.RequestAborted).ConfigureAwait(false);
        await http.Response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
    }
}
