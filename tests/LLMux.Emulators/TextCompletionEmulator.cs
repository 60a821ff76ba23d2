using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace LLMux.Emulators;

/// <summary>What the text-completion emulator does with the next request.</summary>
public sealed record TextCompletionScript
{
    /// <summary>The completion of prompt i is this text followed by <c> #i</c> (and <c>.c</c> for choice c &gt; 0).</summary>
    public string Text { get; init; } = "return a + b;";
    public int Chunks { get; init; } = 3;
    public string FinishReason { get; init; } = "stop";
    public long PromptTokens { get; init; } = 9;
    public long CompletionTokens { get; init; } = 5;
    public int? ErrorStatus { get; init; }
    public string? ErrorBody { get; init; }
    /// <summary>Stream: after this many chunks send an in-band error event and stop.</summary>
    public int? ErrorEventAfter { get; init; }
}

/// <summary>
/// Speaks OpenAI's legacy <c>/v1/completions</c> byte for byte (<c>text_completion</c> objects, SSE chunks with
/// <c>text</c> deltas, the <c>choices: []</c> usage chunk, <c>logprobs</c> when asked) — the API vLLM, Together,
/// Fireworks and Ollama serve too — and Mistral's <c>/v1/fim/completions</c> (<c>prompt</c> + <c>suffix</c>,
/// chat-shaped answers, usage in the last chunk).
/// </summary>
public sealed class TextCompletionEmulator : EmulatorHost
{
    private const long Created = 1700000100;

    public ConcurrentQueue<TextCompletionScript> Scripts { get; } = new();
    public TextCompletionScript Default { get; set; } = new();

    /// <summary>The api_base to configure: <c>http://127.0.0.1:port/v1</c>.</summary>
    public string ApiBase => new Uri(Root, "/v1").ToString();

    public static async Task<TextCompletionEmulator> StartNewAsync()
    {
        var e = new TextCompletionEmulator();
        await e.StartAsync().ConfigureAwait(false);
        return e;
    }

    protected override async Task AnswerAsync(HttpContext http, RecordedRequest request)
    {
        var script = Scripts.TryDequeue(out var s) ? s : Default;
        var ct = http.RequestAborted;
        http.Response.Headers["x-request-id"] = "req_txt_" + Requests.Count;
        if (script.ErrorStatus is { } status)
        {
            http.Response.StatusCode = status;
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(script.ErrorBody ?? "{\"error\":{\"message\":\"emulated error " + status + "\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}", ct).ConfigureAwait(false);
            return;
        }
        using var doc = JsonDocument.Parse(request.Body);
        var root = doc.RootElement;
        var model = root.GetProperty("model").GetString()!;
        var stream = root.TryGetProperty("stream", out var st) && st.ValueKind == JsonValueKind.True;
        var fim = request.Path.EndsWith("/fim/completions", StringComparison.Ordinal);
        if (!fim && !request.Path.EndsWith("/completions", StringComparison.Ordinal))
        {
            http.Response.StatusCode = 404;
            await http.Response.WriteAsync("{\"error\":{\"message\":\"Invalid URL (POST " + request.Path + ")\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}", ct).ConfigureAwait(false);
            return;
        }
        var prompts = PromptCount(root.GetProperty("prompt"));
        var n = root.TryGetProperty("n", out var nv) && nv.ValueKind == JsonValueKind.Number ? nv.GetInt32() : 1;
        var logprobs = root.TryGetProperty("logprobs", out var lp) && lp.ValueKind == JsonValueKind.Number;
        var echo = root.TryGetProperty("echo", out var ec) && ec.ValueKind == JsonValueKind.True;
        if (fim)
        {
            if (stream) await FimStreamAsync(http, model, script).ConfigureAwait(false);
            else await WriteJsonAsync(http, FimAnswer(model, script)).ConfigureAwait(false);
            return;
        }
        if (!stream)
        {
            await WriteJsonAsync(http, Answer(model, script, root, prompts, n, logprobs, echo)).ConfigureAwait(false);
            return;
        }
        var includeUsage = root.TryGetProperty("stream_options", out var so) && so.ValueKind == JsonValueKind.Object
            && so.TryGetProperty("include_usage", out var iu) && iu.ValueKind == JsonValueKind.True;
        await StreamAsync(http, model, script, prompts, n, includeUsage).ConfigureAwait(false);
    }

    private static int PromptCount(JsonElement prompt) =>
        prompt.ValueKind == JsonValueKind.Array && prompt.GetArrayLength() > 0 && prompt[0].ValueKind != JsonValueKind.Number ? prompt.GetArrayLength() : 1;

    /// <summary>The text of choice <paramref name="choice"/> of prompt <paramref name="prompt"/>.</summary>
    public static string TextOf(TextCompletionScript s, int prompt, int choice) => s.Text + " #" + prompt + (choice > 0 ? "." + choice : "");

    private static string Usage(TextCompletionScript s) =>
        "{\"prompt_tokens\":" + s.PromptTokens + ",\"completion_tokens\":" + s.CompletionTokens + ",\"total_tokens\":" + (s.PromptTokens + s.CompletionTokens) + "}";

    private static string Answer(string model, TextCompletionScript s, JsonElement root, int prompts, int n, bool logprobs, bool echo)
    {
        var sb = new StringBuilder();
        sb.Append("{\"id\":\"cmpl-emu456\",\"object\":\"text_completion\",\"created\":").Append(Created).Append(",\"model\":\"").Append(model).Append("\",\"choices\":[");
        for (var p = 0; p < prompts; p++)
        {
            for (var c = 0; c < n; c++)
            {
                if (p + c > 0) sb.Append(',');
                var prompt = root.GetProperty("prompt");
                var own = prompt.ValueKind == JsonValueKind.Array && prompts > 1 ? prompt[p] : prompt;
                // Echo puts the prompt's text first (token prompts echo as their ids, space-separated, as a stand-in for detokenising).
                var prefix = !echo ? "" : own.ValueKind == JsonValueKind.String ? own.GetString() : string.Join(' ', own.EnumerateArray().Select(static t => t.GetRawText()));
                var text = prefix + TextOf(s, p, c);
                sb.Append("{\"text\":").Append(JsonSerializer.Serialize(text)).Append(",\"index\":").Append(p * n + c).Append(",\"logprobs\":");
                sb.Append(logprobs ? "{\"tokens\":[\"return\"],\"token_logprobs\":[-0.25],\"top_logprobs\":[{\"return\":-0.25}],\"text_offset\":[0]}" : "null");
                sb.Append(",\"finish_reason\":\"").Append(s.FinishReason).Append("\"}");
            }
        }
        sb.Append("],\"usage\":").Append(Usage(s)).Append(",\"system_fingerprint\":\"fp_emu\"}");
        return sb.ToString();
    }

    private static async Task StreamAsync(HttpContext http, string model, TextCompletionScript s, int prompts, int n, bool includeUsage)
    {
        http.Response.ContentType = "text/event-stream; charset=utf-8";
        await http.Response.StartAsync(http.RequestAborted).ConfigureAwait(false);
        var sent = 0;
        for (var p = 0; p < prompts; p++)
        {
            for (var c = 0; c < n; c++)
            {
                foreach (var piece in Split(TextOf(s, p, c), s.Chunks))
                {
                    if (s.ErrorEventAfter == sent)
                    {
                        await SendAsync(http, "data: {\"error\":{\"message\":\"The server had an error while processing your request.\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n").ConfigureAwait(false);
                        return;
                    }
                    await SendAsync(http, Chunk(model, piece, p * n + c, null)).ConfigureAwait(false);
                    sent++;
                }
                await SendAsync(http, Chunk(model, "", p * n + c, s.FinishReason)).ConfigureAwait(false);
            }
        }
        if (includeUsage)
            await SendAsync(http, "data: {\"id\":\"cmpl-emu456\",\"object\":\"text_completion\",\"created\":" + Created + ",\"model\":\"" + model + "\",\"choices\":[],\"usage\":" + Usage(s) + "}\n\n").ConfigureAwait(false);
        await SendAsync(http, "data: [DONE]\n\n").ConfigureAwait(false);
    }

    private static string Chunk(string model, string text, int index, string? finish) =>
        "data: {\"id\":\"cmpl-emu456\",\"object\":\"text_completion\",\"created\":" + Created + ",\"choices\":[{\"text\":" + JsonSerializer.Serialize(text) + ",\"index\":" + index
        + ",\"logprobs\":null,\"finish_reason\":" + (finish is null ? "null" : "\"" + finish + "\"") + "}],\"model\":\"" + model + "\",\"system_fingerprint\":\"fp_emu\"}\n\n";

    /// <summary>Mistral's FIM answer: a chat completion (the middle as the assistant message).</summary>
    private static string FimAnswer(string model, TextCompletionScript s) =>
        "{\"id\":\"fim-emu789\",\"object\":\"chat.completion\",\"model\":\"" + model + "\",\"usage\":" + Usage(s) + ",\"created\":" + Created
        + ",\"choices\":[{\"index\":0,\"message\":{\"content\":" + JsonSerializer.Serialize(TextOf(s, 0, 0)) + ",\"tool_calls\":null,\"prefix\":false,\"role\":\"assistant\"},\"finish_reason\":\"" + s.FinishReason + "\"}]}";

    private static async Task FimStreamAsync(HttpContext http, string model, TextCompletionScript s)
    {
        http.Response.ContentType = "text/event-stream; charset=utf-8";
        await http.Response.StartAsync(http.RequestAborted).ConfigureAwait(false);
        var head = "data: {\"id\":\"fim-emu789\",\"object\":\"chat.completion.chunk\",\"created\":" + Created + ",\"model\":\"" + model + "\",\"choices\":[{\"index\":0,\"delta\":";
        await SendAsync(http, head + "{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n").ConfigureAwait(false);
        var pieces = Split(TextOf(s, 0, 0), s.Chunks);
        for (var i = 0; i < pieces.Count; i++)
        {
            var last = i == pieces.Count - 1;
            await SendAsync(http, head + "{\"content\":" + JsonSerializer.Serialize(pieces[i]) + "},\"finish_reason\":" + (last ? "\"" + s.FinishReason + "\"}],\"usage\":" + Usage(s) + "}" : "null}]}") + "\n\n").ConfigureAwait(false);
        }
        await SendAsync(http, "data: [DONE]\n\n").ConfigureAwait(false);
    }

    private static async Task WriteJsonAsync(HttpContext http, string json)
    {
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(json, http.RequestAborted).ConfigureAwait(false);
    }

    private static async Task SendAsync(HttpContext http, string frame)
    {
        await http.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(frame), http.RequestAborted).ConfigureAwait(false);
        await http.Response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
    }

    private static List<string> Split(string text, int count)
    {
        var list = new List<string>();
        count = Math.Max(1, Math.Min(count, text.Length));
        var size = (int)Math.Ceiling(text.Length / (double)count);
        for (var i = 0; i < text.Length; i += size) list.Add(text.Substring(i, Math.Min(size, text.Length - i)));
        return list;
    }
}
