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

namespace LLMux.Stages.Responses;

/// <summary>
/// Wraps any provider's translator for a <c>/v1/responses</c> client: the inner translator writes OpenAI chat
/// chunk frames into a pooled scratch buffer, this one reads them back and writes the Responses event
/// sequence — <c>response.created</c>, <c>response.in_progress</c>, per output item <c>output_item.added</c>,
/// its part and delta events, its <c>.done</c> events and <c>output_item.done</c>, then exactly one of
/// <c>response.completed</c> / <c>response.incomplete</c> — with <c>sequence_number</c> from 0 without gaps,
/// one response id throughout and each item's <c>output_index</c>. Nothing is written before the first chunk,
/// so an upstream error before it is still an HTTP error.
/// </summary>
internal sealed class ResponsesEventTranslator : ChatChunkDecorator
{
    private readonly ResponsesStreamState _state;
    private readonly ResponseShape _shape;
    private readonly string? _provider;
    private readonly BridgeTools _tools2;
    private readonly List<OutputItem> _items = new(3);
    private readonly List<(int Index, OutputItem Item)> _tools = new(2);
    private readonly List<ToolDelta> _toolDeltas = new(2);
    private readonly List<ThinkingPiece> _thinking = new(2);
    private ArrayBufferWriter<byte>? _blocks;
    private Utf8JsonWriter? _blocksWriter;
    private int _blockStart;
    private Utf8JsonWriter? _json;
    private OutputItem? _open;
    private bool _ended;
    private string? _finish;
    private Usage? _usage;

    public ResponsesEventTranslator(StreamTranslator inner, ResponsesStreamState state, string? provider, BridgeTools tools)
        : base(inner)
    {
        _state = state;
        _shape = state.Shape;
        _provider = provider;
        _tools2 = tools;
        state.NextSequence = 0;
        state.Finished = null;
    }

    protected override void OnChunk(ReadOnlySpan<byte> payload, IBufferWriter<byte> output)
    {
        if (_ended) return;
        _toolDeltas.Clear();
        _thinking.Clear();
        Range content = default, reasoning = default, finish = default;

        var reader = new Utf8JsonReader(payload);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("stream chunk is not a JSON object");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("model"u8))
            {
                reader.Read();
                if (_state.Model is null && reader.TokenType == JsonTokenType.String) _state.Model = reader.GetString();
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
                    if (!first) { reader.Skip(); continue; } // a response has one answer
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

        EnsureStarted(output);
        if (!reasoning.IsEmptyString) ReasoningDelta(output, reasoning.Of(payload));
        foreach (var piece in _thinking)
        {
            if (reasoning.IsEmptyString && !piece.Text.IsEmptyString) ReasoningDelta(output, piece.Text.Of(payload));
            if (piece.Redacted && !piece.Data.IsEmptyString) AddBlock(output, redactedData: piece.Data.Of(payload), signature: default);
            else if (!piece.Signature.IsEmptyString) AddBlock(output, redactedData: default, signature: piece.Signature.Of(payload));
        }
        if (!content.IsEmptyString) TextDelta(output, content.Of(payload));
        foreach (var tool in _toolDeltas) OnToolDelta(output, payload, tool);
        if (finish.Length > 0 && _finish is null)
        {
            _finish = Unquote(finish.Of(payload));
            CloseOpen(output);
        }
    }

    private static string Unquote(ReadOnlySpan<byte> quoted)
    {
        var reader = new Utf8JsonReader(quoted);
        reader.Read();
        return reader.GetString()!;
    }

    /// <summary>Appends the decoded text of a quoted token to the item.</summary>
    private static void AppendDecoded(OutputItem item, ReadOnlySpan<byte> quoted)
    {
        var inner = quoted[1..^1];
        if (inner.IndexOf((byte)'\\') < 0) { item.Append(inner); return; }
        var reader = new Utf8JsonReader(quoted);
        reader.Read();
        var span = item.Text.GetSpan(inner.Length);
        item.Text.Advance(reader.CopyString(span));
    }

    private void ReasoningDelta(IBufferWriter<byte> output, ReadOnlySpan<byte> quoted)
    {
        var item = EnsureReasoning(output);
        var w = Event(output, "response.reasoning_summary_text.delta"u8);
        w.WriteString("item_id"u8, item.IdUtf8);
        w.WriteNumber("output_index"u8, item.OutputIndex);
        w.WriteNumber("summary_index"u8, 0);
        w.WritePropertyName("delta"u8);
        w.WriteRawValue(quoted, skipInputValidation: true);
        EndEvent(output);
        AppendDecoded(item, quoted);
    }

    private OutputItem EnsureReasoning(IBufferWriter<byte> output)
    {
        if (_open is { Kind: OutputItemKind.Reasoning } open) return open;
        CloseOpen(output);
        var item = Open(output, OutputItemKind.Reasoning, ResponseIds.Reasoning());
        var w = Event(output, "response.reasoning_summary_part.added"u8);
        w.WriteString("item_id"u8, item.IdUtf8);
        w.WriteNumber("output_index"u8, item.OutputIndex);
        w.WriteNumber("summary_index"u8, 0);
        w.WriteStartObject("part"u8);
        w.WriteString("type"u8, "summary_text"u8);
        w.WriteString("text"u8, ""u8);
        w.WriteEndObject();
        EndEvent(output);
        _blockStart = 0;
        return item;
    }

    /// <summary>A signature closes the thinking block written since the last one; redacted thinking is a block of its own. Both go into the envelope.</summary>
    private void AddBlock(IBufferWriter<byte> output, ReadOnlySpan<byte> redactedData, ReadOnlySpan<byte> signature)
    {
        var item = EnsureReasoning(output);
        if (_blocksWriter is null)
        {
            _blocks = new ArrayBufferWriter<byte>(512);
            _blocksWriter = new Utf8JsonWriter(_blocks, JsonOut.Options);
            _blocksWriter.WriteStartArray();
        }
        var w = _blocksWriter;
        w.WriteStartObject();
        if (!redactedData.IsEmpty)
        {
            w.WriteString("type"u8, "redacted_thinking"u8);
            w.WritePropertyName("data"u8);
            w.WriteRawValue(redactedData, skipInputValidation: true);
        }
        else
        {
            w.WriteString("type"u8, "thinking"u8);
            w.WriteString("thinking"u8, item.Text.Span[_blockStart..]);
            w.WritePropertyName("signature"u8);
            w.WriteRawValue(signature, skipInputValidation: true);
            _blockStart = item.Text.Length;
        }
        w.WriteEndObject();
    }

    private void TextDelta(IBufferWriter<byte> output, ReadOnlySpan<byte> quoted)
    {
        var item = _open is { Kind: OutputItemKind.Message } m ? m : OpenMessage(output);
        var w = Event(output, "response.output_text.delta"u8);
        w.WriteString("item_id"u8, item.IdUtf8);
        w.WriteNumber("output_index"u8, item.OutputIndex);
        w.WriteNumber("content_index"u8, 0);
        w.WritePropertyName("delta"u8);
        w.WriteRawValue(quoted, skipInputValidation: true);
        w.WriteStartArray("logprobs"u8);
        w.WriteEndArray();
        EndEvent(output);
        AppendDecoded(item, quoted);
    }

    private OutputItem OpenMessage(IBufferWriter<byte> output)
    {
        CloseOpen(output);
        var item = Open(output, OutputItemKind.Message, ResponseIds.Message());
        var w = Event(output, "response.content_part.added"u8);
        w.WriteString("item_id"u8, item.IdUtf8);
        w.WriteNumber("output_index"u8, item.OutputIndex);
        w.WriteNumber("content_index"u8, 0);
        w.WritePropertyName("part"u8);
        OutputItem.WriteTextPart(w, default);
        EndEvent(output);
        return item;
    }

    private void OnToolDelta(IBufferWriter<byte> output, ReadOnlySpan<byte> payload, ToolDelta delta)
    {
        var index = delta.Index >= 0 ? delta.Index : (delta.Id.IsEmptyString && _open is { IsCall: true } ? _tools[^1].Index : _tools.Count);
        OutputItem? item = null;
        foreach (var (i, it) in _tools) if (i == index) item = it;
        if (item is null)
        {
            CloseOpen(output);
            var name = delta.Name.IsEmptyString ? "" : Unquote(delta.Name.Of(payload));
            var (kind, itemId) = _tools2.CallItem(name);
            string? ns = null;
            if (_tools2.TryNamespace(name, out var n, out var bare)) { ns = n; name = bare; }
            item = Open(output, kind, itemId,
                delta.Id.IsEmptyString ? Providers.Common.ToolCallIds.New() : Unquote(delta.Id.Of(payload)), name, ns);
            _tools.Add((index, item));
        }
        else if (!ReferenceEquals(item, _open))
        {
            throw new LlmError
            {
                Kind = ErrorKind.BadGateway,
                Provider = _provider,
                Message = $"{_provider} interleaved the arguments of several tool calls, which LLMux's Responses stream does not reorder; retry without streaming",
            }.ToException();
        }
        if (delta.Arguments.IsEmptyString) return;
        if (item.Kind == OutputItemKind.FunctionCall)
        {
            var w = Event(output, "response.function_call_arguments.delta"u8);
            w.WriteString("item_id"u8, item.IdUtf8);
            w.WriteNumber("output_index"u8, item.OutputIndex);
            w.WritePropertyName("delta"u8);
            w.WriteRawValue(delta.Arguments.Of(payload), skipInputValidation: true);
            EndEvent(output);
        }
        AppendDecoded(item, delta.Arguments.Of(payload)); // a custom tool's input is unwrapped once its arguments are whole
    }

    private OutputItem Open(IBufferWriter<byte> output, OutputItemKind kind, string id, string? callId = null, string? name = null, string? ns = null)
    {
        var item = new OutputItem(kind, id) { OutputIndex = _items.Count, CallId = callId, Name = name, Namespace = ns };
        _items.Add(item);
        _open = item;
        var w = Event(output, "response.output_item.added"u8);
        w.WriteNumber("output_index"u8, item.OutputIndex);
        w.WriteStartObject("item"u8);
        w.WriteString("id"u8, id);
        switch (kind)
        {
            case OutputItemKind.Reasoning:
                w.WriteString("type"u8, "reasoning"u8);
                w.WriteStartArray("summary"u8);
                w.WriteEndArray();
                break;
            case OutputItemKind.Message:
                w.WriteString("type"u8, "message"u8);
                w.WriteString("status"u8, "in_progress"u8);
                w.WriteStartArray("content"u8);
                w.WriteEndArray();
                w.WriteString("role"u8, "assistant"u8);
                break;
            case OutputItemKind.FunctionCall:
                w.WriteString("type"u8, "function_call"u8);
                w.WriteString("status"u8, "in_progress"u8);
                w.WriteString("arguments"u8, ""u8);
                w.WriteString("call_id"u8, callId);
                w.WriteString("name"u8, name);
                if (ns is not null) w.WriteString("namespace"u8, ns);
                break;
            case OutputItemKind.CustomToolCall:
                w.WriteString("type"u8, "custom_tool_call"u8);
                w.WriteString("status"u8, "in_progress"u8);
                w.WriteString("call_id"u8, callId);
                w.WriteString("input"u8, ""u8);
                w.WriteString("name"u8, name);
                break;
            default:
                // A client-run built-in: the action is only known once the arguments are whole (output_item.done carries it).
                ClientBuiltInTools.WriteCallItem(w, kind, callId, default, "in_progress");
                break;
        }
        w.WriteEndObject();
        EndEvent(output);
        return item;
    }

    /// <summary>Writes the open item's closing events: its text or arguments whole, then <c>output_item.done</c> with the full item.</summary>
    private void CloseOpen(IBufferWriter<byte> output)
    {
        if (_open is not { } item) return;
        _open = null;
        Utf8JsonWriter w;
        switch (item.Kind)
        {
            case OutputItemKind.Reasoning:
                if (_blocksWriter is not null)
                {
                    _blocksWriter.WriteEndArray();
                    _blocksWriter.Flush();
                    using var blocks = JsonDocument.Parse(_blocks!.WrittenMemory);
                    item.Encrypted = _provider is null ? null : ReasoningEnvelope.Encode(_provider, blocks.RootElement);
                    _blocksWriter.Dispose();
                    _blocksWriter = null;
                    _blocks = null;
                }
                w = Event(output, "response.reasoning_summary_text.done"u8);
                w.WriteString("item_id"u8, item.IdUtf8);
                w.WriteNumber("output_index"u8, item.OutputIndex);
                w.WriteNumber("summary_index"u8, 0);
                w.WriteString("text"u8, item.Text.Span);
                EndEvent(output);
                w = Event(output, "response.reasoning_summary_part.done"u8);
                w.WriteString("item_id"u8, item.IdUtf8);
                w.WriteNumber("output_index"u8, item.OutputIndex);
                w.WriteNumber("summary_index"u8, 0);
                w.WriteStartObject("part"u8);
                w.WriteString("type"u8, "summary_text"u8);
                w.WriteString("text"u8, item.Text.Span);
                w.WriteEndObject();
                EndEvent(output);
                break;
            case OutputItemKind.Message:
                w = Event(output, "response.output_text.done"u8);
                w.WriteString("item_id"u8, item.IdUtf8);
                w.WriteNumber("output_index"u8, item.OutputIndex);
                w.WriteNumber("content_index"u8, 0);
                w.WriteString("text"u8, item.Text.Span);
                w.WriteStartArray("logprobs"u8);
                w.WriteEndArray();
                EndEvent(output);
                w = Event(output, "response.content_part.done"u8);
                w.WriteString("item_id"u8, item.IdUtf8);
                w.WriteNumber("output_index"u8, item.OutputIndex);
                w.WriteNumber("content_index"u8, 0);
                w.WritePropertyName("part"u8);
                OutputItem.WriteTextPart(w, item.Text.Span);
                EndEvent(output);
                break;
            case OutputItemKind.FunctionCall:
                w = Event(output, "response.function_call_arguments.done"u8);
                w.WriteString("item_id"u8, item.IdUtf8);
                w.WriteNumber("output_index"u8, item.OutputIndex);
                w.WriteString("name"u8, item.Name);
                w.WriteString("arguments"u8, item.Text.Span);
                EndEvent(output);
                break;
            case OutputItemKind.CustomToolCall:
                item.UnwrapCustomInput();
                w = Event(output, "response.custom_tool_call_input.delta"u8);
                w.WriteString("item_id"u8, item.IdUtf8);
                w.WriteNumber("output_index"u8, item.OutputIndex);
                w.WriteString("delta"u8, item.CustomInput);
                EndEvent(output);
                w = Event(output, "response.custom_tool_call_input.done"u8);
                w.WriteString("item_id"u8, item.IdUtf8);
                w.WriteNumber("output_index"u8, item.OutputIndex);
                w.WriteString("input"u8, item.CustomInput);
                EndEvent(output);
                break;
        }
        w = Event(output, "response.output_item.done"u8);
        w.WriteNumber("output_index"u8, item.OutputIndex);
        w.WritePropertyName("item"u8);
        item.Write(w, _shape.IncludeEncrypted);
        EndEvent(output);
    }

    private void EnsureStarted(IBufferWriter<byte> output)
    {
        if (ContentStarted) return;
        ContentStarted = true;
        foreach (var type in (ReadOnlySpan<string>)["response.created", "response.in_progress"])
        {
            var w = Event(output, System.Text.Encoding.UTF8.GetBytes(type));
            w.WriteStartObject("response"u8);
            _shape.WriteHead(w, "in_progress", _state.Model, null, null);
            w.WriteStartArray("output"u8);
            w.WriteEndArray();
            _shape.WriteTail(w, null);
            w.WriteEndObject();
            EndEvent(output);
        }
    }

    /// <summary>The upstream finished: closes the open item and writes the terminal event, or fails if the answer never finished.</summary>
    protected override void End(IBufferWriter<byte> output)
    {
        if (_ended) return;
        if (_finish is null)
        {
            throw new LlmError
            {
                Kind = ErrorKind.BadGateway,
                Provider = _provider,
                Message = $"{_provider} stream ended before the answer finished (no finish_reason); the response is incomplete",
            }.ToException();
        }
        _ended = true;
        EnsureStarted(output);
        CloseOpen(output);
        var incomplete = ResponseObjectWriter.IncompleteReason(_finish);
        var status = incomplete is null ? "completed" : "incomplete";
        var finished = ResponseObjectWriter.Render(_shape, _items, status, _state.Model, incomplete, _usage);
        _state.Finish(finished);
        var w = Event(output, incomplete is null ? "response.completed"u8 : "response.incomplete"u8);
        w.WritePropertyName("response"u8);
        w.WriteRawValue(finished.Body.Span, skipInputValidation: true);
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
        _json.WriteNumber("sequence_number"u8, _state.NextSequence++);
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
        _blocksWriter?.Dispose();
        foreach (var item in _items) item.Dispose();
        _items.Clear();
        base.Dispose();
    }
}
