using System.Buffers;
using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Json;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Common;

/// <summary>
/// Writes OpenAI <c>chat.completion.chunk</c> SSE frames for providers that translate, with LiteLLM's stream
/// rules: one id and <c>created</c> for the whole stream, <c>role</c> only on the first delta, tool calls
/// indexed from 0 per response with an id on their first delta, <c>finish_reason: tool_calls</c> once a tool
/// call was streamed, and the usage chunk (<c>choices: []</c>) only when the client asked for it.
/// One instance per stream; not thread-safe.
/// </summary>
public sealed class OpenAIChunkWriter
{
    private readonly string _id;
    private readonly string _model;
    private readonly long _created;
    private readonly bool _includeUsage;
    private Utf8JsonWriter? _json;
    private bool _roleSent;
    private int _toolCalls;

    private readonly LlmContext? _context;

    /// <param name="context">When given, the usage chunk carries the call's cost (<c>usage.cost</c>, USD).</param>
    public OpenAIChunkWriter(string id, string model, long created, bool includeUsage, LlmContext? context = null)
    {
        _context = context;
        _id = id;
        _model = model;
        _created = created;
        _includeUsage = includeUsage;
    }

    /// <summary>True once any tool call was started.</summary>
    public bool SawToolCall => _toolCalls > 0;
    public int ToolCallCount => _toolCalls;
    public bool Finished { get; private set; }

    public void Text(IBufferWriter<byte> output, ReadOnlySpan<char> text)
    {
        if (text.IsEmpty && _roleSent) return;
        var w = Begin(output);
        w.WriteString("content"u8, text);
        End(output, null);
    }

    public void Text(IBufferWriter<byte> output, ReadOnlySpan<byte> utf8Text)
    {
        if (utf8Text.IsEmpty && _roleSent) return;
        var w = Begin(output);
        w.WriteString("content"u8, utf8Text);
        End(output, null);
    }

    /// <summary>A reasoning (thinking) delta: <c>delta.reasoning_content</c>, plus the block with its signature when given.</summary>
    public void Reasoning(IBufferWriter<byte> output, ReadOnlySpan<char> text, string? signature = null)
    {
        var w = Begin(output);
        w.WriteString("reasoning_content"u8, text);
        if (signature is not null || !text.IsEmpty)
        {
            w.WriteStartArray("thinking_blocks"u8);
            w.WriteStartObject();
            w.WriteString("type"u8, "thinking"u8);
            w.WriteString("thinking"u8, text);
            if (signature is not null) w.WriteString("signature"u8, signature);
            w.WriteEndObject();
            w.WriteEndArray();
        }
        End(output, null);
    }

    /// <summary>Starts a tool call and returns its index. A missing id is synthesised.</summary>
    public int ToolCallStart(IBufferWriter<byte> output, string? id, string name, ReadOnlySpan<char> initialArguments = default)
    {
        var index = _toolCalls++;
        var w = Begin(output);
        w.WriteStartArray("tool_calls"u8);
        w.WriteStartObject();
        w.WriteNumber("index"u8, index);
        w.WriteString("id"u8, string.IsNullOrEmpty(id) ? ToolCallIds.New() : id);
        w.WriteString("type"u8, "function"u8);
        w.WriteStartObject("function"u8);
        w.WriteString("name"u8, name);
        w.WriteString("arguments"u8, initialArguments);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndArray();
        End(output, null);
        return index;
    }

    public void ToolCallArguments(IBufferWriter<byte> output, int index, ReadOnlySpan<char> fragment)
    {
        if (fragment.IsEmpty) return;
        var w = Begin(output);
        w.WriteStartArray("tool_calls"u8);
        w.WriteStartObject();
        w.WriteNumber("index"u8, index);
        w.WriteStartObject("function"u8);
        w.WriteString("arguments"u8, fragment);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndArray();
        End(output, null);
    }

    /// <summary>The finish chunk (empty delta). <c>stop</c> becomes <c>tool_calls</c> when a tool call was streamed.</summary>
    public void Finish(IBufferWriter<byte> output, string finishReason)
    {
        if (Finished) return;
        Finished = true;
        if (SawToolCall && finishReason == "stop") finishReason = "tool_calls";
        var w = Begin(output);
        End(output, finishReason);
    }

    /// <summary>The usage chunk, written only when the client asked for it (<c>stream_options.include_usage</c>).</summary>
    public void Usage(IBufferWriter<byte> output, Usage usage)
    {
        if (!_includeUsage) return;
        if (_context?.PriceOf(usage) is { } cost) (usage.Extra ??= new(StringComparer.Ordinal))["cost"] = UsageCost.Element(cost);
        output.Write("data: "u8);
        var w = Writer(output);
        WriteHeader(w);
        w.WriteStartArray("choices"u8);
        w.WriteEndArray();
        w.WritePropertyName("usage"u8);
        JsonSerializer.Serialize(w, usage, WireJson.Default.Usage);
        w.WriteEndObject();
        w.Flush();
        output.Write("\n\n"u8);
    }

    public static void Done(IBufferWriter<byte> output) => output.Write("data: [DONE]\n\n"u8);

    private Utf8JsonWriter Begin(IBufferWriter<byte> output)
    {
        output.Write("data: "u8);
        var w = Writer(output);
        WriteHeader(w);
        w.WriteStartArray("choices"u8);
        w.WriteStartObject();
        w.WriteNumber("index"u8, 0);
        w.WriteStartObject("delta"u8);
        if (!_roleSent)
        {
            w.WriteString("role"u8, "assistant"u8);
            _roleSent = true;
        }
        return w;
    }

    private void End(IBufferWriter<byte> output, string? finishReason)
    {
        var w = _json!;
        w.WriteEndObject(); // delta
        if (finishReason is null) w.WriteNull("finish_reason"u8);
        else w.WriteString("finish_reason"u8, finishReason);
        w.WriteEndObject(); // choice
        w.WriteEndArray();
        w.WriteEndObject();
        w.Flush();
        output.Write("\n\n"u8);
    }

    private void WriteHeader(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("id"u8, _id);
        w.WriteString("object"u8, "chat.completion.chunk"u8);
        w.WriteNumber("created"u8, _created);
        w.WriteString("model"u8, _model);
    }

    private Utf8JsonWriter Writer(IBufferWriter<byte> output)
    {
        if (_json is null) _json = new Utf8JsonWriter(output, JsonOut.Options);
        else _json.Reset(output);
        return _json;
    }
}
