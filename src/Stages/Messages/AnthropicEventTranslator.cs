using System.Buffers;
using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Pipeline.Streaming;
using LLMux.Pipeline.Wire;
using LLMux.Stages.Streaming;
using Range = LLMux.Stages.Streaming.TokenRange;
using ToolDelta = LLMux.Stages.Streaming.ChatToolDelta;
using ThinkingPiece = LLMux.Stages.Streaming.ChatThinkingPiece;

namespace LLMux.Stages.Messages;

/// <summary>
/// Wraps any provider's translator for a <c>/v1/messages</c> client: the inner translator writes OpenAI chunk
/// frames into a pooled scratch buffer, this one reads them back and writes Anthropic events —
/// <c>message_start</c> and a <c>ping</c>, per block <c>content_block_start</c>/<c>_delta</c>/<c>_stop</c> in order,
/// <c>message_delta</c> (stop reason and usage, held until the usage chunk), <c>message_stop</c>.
/// Nothing is written before the first content, so an upstream error before it is still an HTTP error.
/// </summary>
internal sealed class AnthropicEventTranslator : ChatChunkDecorator
{
    /// <summary>The decorator the messages endpoint puts on the context (one cached delegate, no closure).</summary>
    public static readonly Func<StreamTranslator, LlmContext, StreamTranslator> Decorator = static (inner, context) => new AnthropicEventTranslator(inner, context, null);

    /// <summary>A decorator that also restores tool names shortened for the upstream (allocated only for such calls).</summary>
    public static Func<StreamTranslator, LlmContext, StreamTranslator> DecoratorRestoring(IReadOnlyDictionary<string, string> toolNames) =>
        (inner, context) => new AnthropicEventTranslator(inner, context, toolNames);

    private readonly LlmContext? _context;
    private readonly string _requestedModel;
    private readonly string? _provider;
    private readonly IReadOnlyDictionary<string, string>? _toolNames;
    /// <summary><c>llmux1:{provider}:</c> for reasoning signatures other than Anthropic's (see <see cref="ReasoningSignature"/>).</summary>
    private readonly byte[]? _signatureTag;
    private readonly List<ToolDelta> _toolDeltas = new(2);
    private readonly List<ThinkingPiece> _thinking = new(2);
    private readonly List<int> _startedTools = new(2);
    private Utf8JsonWriter? _json;
    private bool _ended;
    private bool _sawTool;
    /// <summary>The open thinking block already had a signature delta (the tag goes on the first one only, so the pieces still concatenate).</summary>
    private bool _blockSigned;
    private BlockKind _open;
    private int _blockIndex = -1;
    private int _openTool = -1;
    private string? _finish;
    private Usage? _usage;

    public AnthropicEventTranslator(StreamTranslator inner, LlmContext context, IReadOnlyDictionary<string, string>? toolNames)
        : this(inner, context.RequestedModel ?? "", context.ProviderName, toolNames)
    {
        _context = context;
    }

    internal AnthropicEventTranslator(StreamTranslator inner, string requestedModel, string? provider, IReadOnlyDictionary<string, string>? toolNames = null)
        : base(inner)
    {
        _requestedModel = requestedModel;
        _provider = provider;
        _toolNames = toolNames;
        _signatureTag = ReasoningSignature.TagFor(provider) is { } tag ? System.Text.Encoding.UTF8.GetBytes(tag) : null;
    }

    private enum BlockKind { None, Text, Thinking, Tool }

    protected override void OnChunk(ReadOnlySpan<byte> payload, IBufferWriter<byte> output)
    {
        if (_ended) return;
        _toolDeltas.Clear();
        _thinking.Clear();
        Range model = default, content = default, reasoning = default, finish = default;

        var reader = new Utf8JsonReader(payload);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("stream chunk is not a JSON object");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("model"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String) model = ChatChunkDelta.StringToken(ref reader);
            }
            else if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject) _usage = UsageReader.Read(ref reader);
                else reader.Skip();
            }
            else if (reader.ValueTextEquals("choices"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray) { reader.Skip(); continue; }
                var first = true;
                while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                {
                    if (!first) { reader.Skip(); continue; } // Anthropic messages have one choice
                    first = false;
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        if (reader.ValueTextEquals("delta"u8))
                        {
                            reader.Read();
                            if (reader.TokenType == JsonTokenType.StartObject) ChatChunkDelta.Read(ref reader, ref content, ref reasoning, _thinking, _toolDeltas);
                            else reader.Skip();
                        }
                        else if (reader.ValueTextEquals("finish_reason"u8))
                        {
                            reader.Read();
                            if (reader.TokenType == JsonTokenType.String) finish = ChatChunkDelta.StringToken(ref reader);
                        }
                        else
                        {
                            reader.Read();
                            reader.Skip();
                        }
                    }
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        // Emit in block order: reasoning, then text, then tool calls, then the finish.
        if (!reasoning.IsEmptyString) ThinkingDelta(output, payload, model, reasoning.Of(payload));
        foreach (var piece in _thinking)
        {
            if (piece.Redacted) { RedactedBlock(output, payload, model, piece.Data.Of(payload)); continue; }
            if (reasoning.IsEmptyString && !piece.Text.IsEmptyString) ThinkingDelta(output, payload, model, piece.Text.Of(payload));
            if (!piece.Signature.IsEmptyString) SignatureDelta(output, payload, model, piece.Signature.Of(payload));
        }
        if (!content.IsEmptyString) TextDelta(output, payload, model, content.Of(payload));
        foreach (var tool in _toolDeltas) OnToolDelta(output, payload, model, tool);
        if (finish.Length > 0 && _finish is null)
        {
            _finish = AnthropicStopReason.From(finish.Of(payload)[1..^1], _sawTool || _startedTools.Count > 0);
            CloseBlock(output);
        }
    }

    private void OnToolDelta(IBufferWriter<byte> output, ReadOnlySpan<byte> payload, Range model, ToolDelta delta)
    {
        var index = delta.Index >= 0 ? delta.Index : (delta.Id.IsEmptyString ? _openTool : _startedTools.Count);
        if (!_startedTools.Contains(index))
        {
            _startedTools.Add(index);
            _sawTool = true;
            var w = OpenBlock(output, payload, model, BlockKind.Tool);
            w.WriteString("type"u8, "tool_use"u8);
            if (delta.Id.IsEmptyString) w.WriteString("id"u8, Providers.Common.ToolCallIds.New());
            else
            {
                w.WritePropertyName("id"u8);
                w.WriteRawValue(delta.Id.Of(payload), skipInputValidation: true);
            }
            w.WritePropertyName("name"u8);
            if (delta.Name.Length == 0) w.WriteStringValue(""u8);
            else if (_toolNames is not null) w.WriteStringValue(RestoredName(delta.Name.Of(payload)));
            else w.WriteRawValue(delta.Name.Of(payload), skipInputValidation: true);
            w.WriteStartObject("input"u8);
            w.WriteEndObject();
            EndBlockStart(output);
            _openTool = index;
        }
        else if (index != _openTool || _open != BlockKind.Tool)
        {
            throw new LlmError
            {
                Kind = ErrorKind.BadGateway,
                Provider = _provider,
                Message = $"{_provider} interleaved the arguments of several tool calls, which Anthropic's event stream cannot express; retry without streaming",
            }.ToException();
        }
        if (!delta.Arguments.IsEmptyString) Delta(output, "input_json_delta"u8, "partial_json"u8, delta.Arguments.Of(payload));
    }

    private string RestoredName(ReadOnlySpan<byte> quotedName)
    {
        var reader = new Utf8JsonReader(quotedName);
        reader.Read();
        var sent = reader.GetString()!;
        return _toolNames!.TryGetValue(sent, out var original) ? original : sent;
    }

    private void TextDelta(IBufferWriter<byte> output, ReadOnlySpan<byte> payload, Range model, ReadOnlySpan<byte> text)
    {
        if (_open != BlockKind.Text)
        {
            var w = OpenBlock(output, payload, model, BlockKind.Text);
            w.WriteString("type"u8, "text"u8);
            w.WriteString("text"u8, ""u8);
            EndBlockStart(output);
        }
        Delta(output, "text_delta"u8, "text"u8, text);
    }

    private void ThinkingDelta(IBufferWriter<byte> output, ReadOnlySpan<byte> payload, Range model, ReadOnlySpan<byte> text)
    {
        EnsureThinkingBlock(output, payload, model);
        Delta(output, "thinking_delta"u8, "thinking"u8, text);
    }

    private void SignatureDelta(IBufferWriter<byte> output, ReadOnlySpan<byte> payload, Range model, ReadOnlySpan<byte> signature)
    {
        EnsureThinkingBlock(output, payload, model);
        var first = !_blockSigned;
        _blockSigned = true;
        if (_signatureTag is null || !first)
        {
            Delta(output, "signature_delta"u8, "signature"u8, signature);
            return;
        }
        var tagged = Tagged(signature, out var rented);
        try
        {
            Delta(output, "signature_delta"u8, "signature"u8, tagged);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>The quoted JSON string <paramref name="quoted"/> with the provider tag put in front of its content.</summary>
    private ReadOnlySpan<byte> Tagged(ReadOnlySpan<byte> quoted, out byte[] rented)
    {
        var tag = _signatureTag!;
        rented = ArrayPool<byte>.Shared.Rent(quoted.Length + tag.Length);
        rented[0] = (byte)'"';
        tag.CopyTo(rented.AsSpan(1));
        quoted[1..].CopyTo(rented.AsSpan(1 + tag.Length));
        return rented.AsSpan(0, quoted.Length + tag.Length);
    }

    private void EnsureThinkingBlock(IBufferWriter<byte> output, ReadOnlySpan<byte> payload, Range model)
    {
        if (_open == BlockKind.Thinking) return;
        _blockSigned = false;
        var w = OpenBlock(output, payload, model, BlockKind.Thinking);
        w.WriteString("type"u8, "thinking"u8);
        w.WriteString("thinking"u8, ""u8);
        w.WriteString("signature"u8, ""u8);
        EndBlockStart(output);
    }

    private void RedactedBlock(IBufferWriter<byte> output, ReadOnlySpan<byte> payload, Range model, ReadOnlySpan<byte> data)
    {
        var w = OpenBlock(output, payload, model, BlockKind.Thinking);
        w.WriteString("type"u8, "redacted_thinking"u8);
        w.WritePropertyName("data"u8);
        if (data.Length <= 2) w.WriteStringValue(""u8);
        else if (_signatureTag is null) w.WriteRawValue(data, skipInputValidation: true);
        else
        {
            var tagged = Tagged(data, out var rented);
            try
            {
                w.WriteRawValue(tagged, skipInputValidation: true);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
        EndBlockStart(output);
        CloseBlock(output); // a redacted block has no deltas
    }

    /// <summary>Closes the open block, starts the next one and leaves the writer inside its <c>content_block</c> object.</summary>
    private Utf8JsonWriter OpenBlock(IBufferWriter<byte> output, ReadOnlySpan<byte> payload, Range model, BlockKind kind)
    {
        EnsureStarted(output, payload, model);
        CloseBlock(output);
        _open = kind;
        _blockIndex++;
        var w = Event(output, "content_block_start"u8);
        w.WriteNumber("index"u8, _blockIndex);
        w.WriteStartObject("content_block"u8);
        return w;
    }

    private void EndBlockStart(IBufferWriter<byte> output)
    {
        _json!.WriteEndObject();
        EndEvent(output);
    }

    private void Delta(IBufferWriter<byte> output, ReadOnlySpan<byte> type, ReadOnlySpan<byte> field, ReadOnlySpan<byte> quotedValue)
    {
        var w = Event(output, "content_block_delta"u8);
        w.WriteNumber("index"u8, _blockIndex);
        w.WriteStartObject("delta"u8);
        w.WriteString("type"u8, type);
        w.WritePropertyName(field);
        w.WriteRawValue(quotedValue, skipInputValidation: true);
        w.WriteEndObject();
        EndEvent(output);
    }

    private void CloseBlock(IBufferWriter<byte> output)
    {
        if (_open == BlockKind.None) return;
        var w = Event(output, "content_block_stop"u8);
        w.WriteNumber("index"u8, _blockIndex);
        EndEvent(output);
        _open = BlockKind.None;
        _openTool = -1;
    }

    private void EnsureStarted(IBufferWriter<byte> output, ReadOnlySpan<byte> payload, Range model)
    {
        if (ContentStarted) return;
        ContentStarted = true;
        var w = Event(output, "message_start"u8);
        w.WriteStartObject("message"u8);
        w.WriteString("id"u8, MessageIds.New());
        w.WriteString("type"u8, "message"u8);
        w.WriteString("role"u8, "assistant"u8);
        w.WritePropertyName("model"u8);
        if (model.Length > 2) w.WriteRawValue(model.Of(payload), skipInputValidation: true);
        else w.WriteStringValue(_requestedModel);
        w.WriteStartArray("content"u8);
        w.WriteEndArray();
        w.WriteNull("stop_reason"u8);
        w.WriteNull("stop_sequence"u8);
        AnthropicUsage.Write(w, null); // real figures arrive with message_delta
        w.WriteEndObject();
        EndEvent(output);
        // Anthropic's own streams follow message_start with a ping; clients such as Claude Code expect its grammar.
        output.Write("event: ping\ndata: {\"type\":\"ping\"}\n\n"u8);
    }

    /// <summary>The upstream finished ([DONE] or a clean end): closes the message, or fails if it never finished.</summary>
    protected override void End(IBufferWriter<byte> output)
    {
        if (_ended) return;
        if (_finish is null)
        {
            throw new LlmError
            {
                Kind = ErrorKind.BadGateway,
                Provider = _provider,
                Message = $"{_provider} stream ended before the answer finished (no finish_reason); the answer is incomplete",
            }.ToException();
        }
        _ended = true;
        EnsureStarted(output, default, default);
        CloseBlock(output);
        var w = Event(output, "message_delta"u8);
        w.WriteStartObject("delta"u8);
        w.WriteString("stop_reason"u8, _finish);
        w.WriteNull("stop_sequence"u8);
        w.WriteEndObject();
        AnthropicUsage.Write(w, _usage ?? _context?.Usage);
        EndEvent(output);
        Event(output, "message_stop"u8);
        EndEvent(output);
    }

    private Utf8JsonWriter Event(IBufferWriter<byte> output, ReadOnlySpan<byte> type)
    {
        output.Write("event: "u8);
        output.Write(type);
        output.Write("\ndata: "u8);
        if (_json is null) _json = new Utf8JsonWriter(output, JsonOut.Options);
        else _json.Reset(output);
        _json.WriteStartObject();
        _json.WriteString("type"u8, type);
        return _json;
    }

    private void EndEvent(IBufferWriter<byte> output)
    {
        _json!.WriteEndObject();
        _json.Flush();
        output.Write("\n\n"u8);
    }

    public override void Dispose()
    {
        _json?.Dispose();
        base.Dispose();
    }
}
