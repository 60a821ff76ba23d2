using System.Buffers;
using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Json;

namespace LLMux.Providers.Mock;

/// <summary>The mock's deterministic answer to one chat request, as a completion or as SSE frames.</summary>
internal sealed class MockAnswer
{
    private const string Id = "chatcmpl-llmux-mock";

    private MockAnswer(string model, string content, string? toolName, long promptTokens, long created)
    {
        Model = model;
        Content = content;
        ToolName = toolName;
        PromptTokens = promptTokens;
        Created = created;
    }

    public string Model { get; }
    public string Content { get; }
    public string? ToolName { get; }
    public long PromptTokens { get; }
    public long Created { get; }
    public long CompletionTokens => ToolName is null ? CountWords(Content) : 5;
    public const string ToolArguments = "{\"location\":\"Paris\",\"unit\":\"celsius\"}";

    public static MockAnswer For(JsonElement request, MockBehavior behavior, string model)
    {
        long promptTokens = 0;
        string? lastUser = null;
        if (request.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            foreach (var msg in messages.EnumerateArray())
            {
                var text = Text(msg);
                promptTokens += CountWords(text) + 3;
                if (msg.TryGetProperty("role", out var r) && r.ValueEquals("user")) lastUser = text;
            }
        }
        var content = behavior.Response ?? $"This is LLMux's mock model. You said: {lastUser ?? "(nothing)"}";
        var tool = behavior.ToolCall ?? ForcedTool(request);
        return new MockAnswer(model, content, tool, promptTokens, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
    }

    private static string? ForcedTool(JsonElement request)
    {
        if (!request.TryGetProperty("tool_choice", out var choice)) return null;
        if (choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("function", out var f) && f.TryGetProperty("name", out var n)) return n.GetString();
        if (choice.ValueKind == JsonValueKind.String && choice.ValueEquals("required")
            && request.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array && tools.GetArrayLength() > 0
            && tools[0].TryGetProperty("function", out var fn) && fn.TryGetProperty("name", out var name)) return name.GetString();
        return null;
    }

    private static string Text(JsonElement msg)
    {
        if (!msg.TryGetProperty("content", out var c)) return "";
        if (c.ValueKind == JsonValueKind.String) return c.GetString()!;
        if (c.ValueKind != JsonValueKind.Array) return "";
        var sb = new StringBuilder();
        foreach (var part in c.EnumerateArray())
            if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String) sb.Append(t.GetString()).Append(' ');
        return sb.ToString();
    }

    public static long CountWords(string text)
    {
        long n = 0;
        var inWord = false;
        foreach (var ch in text)
        {
            var ws = char.IsWhiteSpace(ch);
            if (!ws && !inWord) n++;
            inWord = !ws;
        }
        return n;
    }

    public static float[] Vector(string input, int dims)
    {
        // A stable hash spread over the dimensions, then normalised: same input, same vector.
        var v = new float[dims];
        uint h = 2166136261;
        foreach (var ch in input) { h ^= ch; h *= 16777619; }
        double norm = 0;
        for (var i = 0; i < dims; i++)
        {
            h ^= h << 13; h ^= h >> 17; h ^= h << 5;
            v[i] = (h % 2000) / 1000f - 1f;
            norm += v[i] * v[i];
        }
        var scale = norm > 0 ? (float)(1 / Math.Sqrt(norm)) : 0f;
        for (var i = 0; i < dims; i++) v[i] *= scale;
        return v;
    }

    public byte[] CompletionJson()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, JsonOut.Options))
        {
            w.WriteStartObject();
            w.WriteString("id", Id);
            w.WriteString("object", "chat.completion");
            w.WriteNumber("created", Created);
            w.WriteString("model", Model);
            w.WriteStartArray("choices");
            w.WriteStartObject();
            w.WriteNumber("index", 0);
            w.WriteStartObject("message");
            w.WriteString("role", "assistant");
            if (ToolName is null) w.WriteString("content", Content);
            else
            {
                w.WriteNull("content");
                w.WriteStartArray("tool_calls");
                w.WriteStartObject();
                w.WriteString("id", "call_mock_0");
                w.WriteString("type", "function");
                w.WriteStartObject("function");
                w.WriteString("name", ToolName);
                w.WriteString("arguments", ToolArguments);
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteEndArray();
            }
            w.WriteEndObject();
            w.WriteString("finish_reason", ToolName is null ? "stop" : "tool_calls");
            w.WriteEndObject();
            w.WriteEndArray();
            WriteUsage(w);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private void WriteUsage(Utf8JsonWriter w)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", PromptTokens);
        w.WriteNumber("completion_tokens", CompletionTokens);
        w.WriteNumber("total_tokens", PromptTokens + CompletionTokens);
        w.WriteEndObject();
    }

    public byte[] StreamBytes(MockBehavior behavior, bool includeUsage)
    {
        var all = new List<byte>();
        foreach (var f in StreamFrames(behavior, includeUsage)) all.AddRange(f);
        return all.ToArray();
    }

    /// <summary>The SSE frames, one array per chunk, exactly as OpenAI writes them.</summary>
    public List<byte[]> StreamFrames(MockBehavior behavior, bool includeUsage)
    {
        var frames = new List<byte[]>();
        var pieces = ToolName is null ? Split(Content, Math.Max(1, behavior.Chunks)) : Split(ToolArguments, Math.Max(1, behavior.Chunks));
        frames.Add(Frame(w => { w.WriteStartObject("delta"); w.WriteString("role", "assistant"); if (ToolName is null) w.WriteString("content", ""); else WriteToolStart(w); w.WriteEndObject(); }, null));
        for (var i = 0; i < pieces.Count; i++)
        {
            if (behavior.ErrorAfterChunks is { } after && i == after)
            {
                frames.Add(Encoding.UTF8.GetBytes("data: {\"error\":{\"message\":\"the upstream failed mid-stream (asked for with mock_error_after_chunks)\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n"));
                return frames;
            }
            var piece = pieces[i];
            frames.Add(Frame(w =>
            {
                w.WriteStartObject("delta");
                if (ToolName is null) w.WriteString("content", piece);
                else
                {
                    w.WriteStartArray("tool_calls");
                    w.WriteStartObject();
                    w.WriteNumber("index", 0);
                    w.WriteStartObject("function");
                    w.WriteString("arguments", piece);
                    w.WriteEndObject();
                    w.WriteEndObject();
                    w.WriteEndArray();
                }
                w.WriteEndObject();
            }, null));
        }
        frames.Add(Frame(w => { w.WriteStartObject("delta"); w.WriteEndObject(); }, ToolName is null ? "stop" : "tool_calls"));
        if (includeUsage) frames.Add(UsageFrame());
        frames.Add("data: [DONE]\n\n"u8.ToArray());
        return frames;
    }

    private void WriteToolStart(Utf8JsonWriter w)
    {
        w.WriteNull("content");
        w.WriteStartArray("tool_calls");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        w.WriteString("id", "call_mock_0");
        w.WriteString("type", "function");
        w.WriteStartObject("function");
        w.WriteString("name", ToolName);
        w.WriteString("arguments", "");
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndArray();
    }

    private byte[] Frame(Action<Utf8JsonWriter> delta, string? finish)
    {
        var buffer = new ArrayBufferWriter<byte>();
        buffer.Write("data: "u8);
        using (var w = new Utf8JsonWriter(buffer, JsonOut.Options))
        {
            Header(w);
            w.WriteStartArray("choices");
            w.WriteStartObject();
            w.WriteNumber("index", 0);
            delta(w);
            if (finish is null) w.WriteNull("finish_reason"); else w.WriteString("finish_reason", finish);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }
        buffer.Write("\n\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    private byte[] UsageFrame()
    {
        var buffer = new ArrayBufferWriter<byte>();
        buffer.Write("data: "u8);
        using (var w = new Utf8JsonWriter(buffer, JsonOut.Options))
        {
            Header(w);
            w.WriteStartArray("choices");
            w.WriteEndArray();
            WriteUsage(w);
            w.WriteEndObject();
        }
        buffer.Write("\n\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    private void Header(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("id", Id);
        w.WriteString("object", "chat.completion.chunk");
        w.WriteNumber("created", Created);
        w.WriteString("model", Model);
    }

    private static List<string> Split(string text, int count)
    {
        var list = new List<string>(count);
        if (text.Length == 0) { list.Add(""); return list; }
        count = Math.Min(count, text.Length);
        var size = text.Length / count;
        var extra = text.Length % count;
        var pos = 0;
        for (var i = 0; i < count; i++)
        {
            var len = size + (i < extra ? 1 : 0);
            // Keep surrogate pairs whole.
            if (pos + len < text.Length && char.IsHighSurrogate(text[pos + len - 1])) len++;
            if (pos >= text.Length) break;
            len = Math.Min(len, text.Length - pos);
            list.Add(text.Substring(pos, len));
            pos += len;
        }
        if (pos < text.Length) list[^1] += text[pos..];
        return list;
    }
}
