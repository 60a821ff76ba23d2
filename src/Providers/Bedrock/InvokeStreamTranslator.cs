using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;
using LLMux.Pipeline.Streaming.Decoders;
using LLMux.Providers.Anthropic;

namespace LLMux.Providers.Bedrock;

/// <summary>
/// InvokeModelWithResponseStream for Claude: each eventstream <c>chunk</c> event carries
/// <c>{"bytes":"&lt;base64 Anthropic event JSON&gt;"}</c>. The event is decoded into a pooled buffer and handed to
/// the Anthropic translator the client needs: the Messages passthrough (the client gets Anthropic SSE, with the
/// <c>event:</c> line Bedrock leaves out) or the OpenAI chunk translator. Exception messages are Bedrock errors.
/// </summary>
internal sealed class InvokeStreamTranslator : EventStreamTranslator
{
    private static readonly byte[] MessageStop = """{"type":"message_stop"}"""u8.ToArray();

    private readonly AnthropicMessagesPassthrough? _passthrough;
    private readonly AnthropicStreamTranslator? _chunks;
    private byte[] _event = ArrayPool<byte>.Shared.Rent(1024);

    public InvokeStreamTranslator(LlmContext context, bool jsonTool)
    {
        if (context.MessagesPassthrough) _passthrough = new AnthropicMessagesPassthrough(context, BedrockSpec.Spec.Name);
        else _chunks = new AnthropicStreamTranslator(context, jsonTool, BedrockSpec.Spec.Name);
    }

    protected override void OnMessage(in EventStreamMessage msg, IBufferWriter<byte> output)
    {
        if (msg.IsException || msg.IsError) ThrowUpstreamError(in msg);
        if (!msg.EventTypeIs("chunk"u8)) return;
        var length = DecodeChunk(msg.Payload);
        var json = new ReadOnlySequence<byte>(_event, 0, length);
        var type = TypeOf(_event.AsSpan(0, length), out var typeStart, out var typeLength);
        // Bedrock appends amazon-bedrock-invocationMetrics to message_stop; an Anthropic client gets the event as Anthropic writes it.
        if (type == Kind.MessageStop) json = new ReadOnlySequence<byte>(MessageStop);
        var eventType = typeLength > 0 && type != Kind.MessageStop ? new ReadOnlySequence<byte>(_event, typeStart, typeLength)
            : type == Kind.MessageStop ? new ReadOnlySequence<byte>(MessageStop, 9, 12) : default;
        var frame = new SseFrame(json, eventType, default, null);
        if (_passthrough is not null)
        {
            _passthrough.Accept(frame, output);
            ContentStarted = _passthrough.ContentStarted;
        }
        else
        {
            _chunks!.Accept(frame, output);
            ContentStarted = _chunks.ContentStarted;
        }
    }

    protected override void OnEnd(IBufferWriter<byte> output)
    {
        if (_passthrough is not null) _passthrough.AcceptEnd(output);
        else _chunks!.AcceptEnd(output);
    }

    private enum Kind { Other, MessageStop }

    /// <summary>The event's <c>type</c> value and where it lies (Anthropic writes it first, unescaped).</summary>
    private static Kind TypeOf(ReadOnlySpan<byte> json, out int start, out int length)
    {
        start = 0;
        length = 0;
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw NotJson();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals("type"u8)) { reader.Read(); reader.Skip(); continue; }
            reader.Read();
            if (reader.TokenType != JsonTokenType.String || reader.ValueIsEscaped) return Kind.Other;
            start = (int)reader.TokenStartIndex + 1;
            length = reader.ValueSpan.Length;
            return reader.ValueTextEquals("message_stop"u8) ? Kind.MessageStop : Kind.Other;
        }
        return Kind.Other;
    }

    /// <summary>Decodes the payload's <c>bytes</c> into <see cref="_event"/>; returns the event's length.</summary>
    private int DecodeChunk(ReadOnlySequence<byte> payload)
    {
        var reader = new Utf8JsonReader(payload);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw NotJson();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals("bytes"u8)) { reader.Read(); reader.Skip(); continue; }
            reader.Read();
            if (reader.TokenType != JsonTokenType.String) throw NotJson();
            if (reader.ValueIsEscaped || reader.HasValueSequence)
            {
                var decoded = Convert.FromBase64String(reader.GetString()!);
                Ensure(decoded.Length);
                decoded.CopyTo(_event, 0);
                return decoded.Length;
            }
            var base64 = reader.ValueSpan;
            Ensure(Base64.GetMaxDecodedFromUtf8Length(base64.Length));
            if (Base64.DecodeFromUtf8(base64, _event, out _, out var written) != OperationStatus.Done)
                throw new LlmError { Kind = ErrorKind.BadGateway, Provider = BedrockSpec.Spec.Name, Message = "bedrock sent a stream chunk whose bytes are not base64" }.ToException();
            return written;
        }
        throw new LlmError { Kind = ErrorKind.BadGateway, Provider = BedrockSpec.Spec.Name, Message = "bedrock sent a stream chunk without bytes" }.ToException();
    }

    private void Ensure(int size)
    {
        if (_event.Length >= size) return;
        ArrayPool<byte>.Shared.Return(_event);
        _event = ArrayPool<byte>.Shared.Rent(size);
    }

    private static LlmException NotJson() =>
        new LlmError { Kind = ErrorKind.BadGateway, Provider = BedrockSpec.Spec.Name, Message = "bedrock sent a stream chunk that is not a JSON object" }.ToException();

    private static void ThrowUpstreamError(in EventStreamMessage msg)
    {
        var type = msg.IsException ? Encoding.UTF8.GetString(msg.ExceptionType) : Encoding.UTF8.GetString(msg.ErrorCode);
        if (type.Length == 0) type = "unknownException";
        var payload = msg.Payload.ToArray();
        if (msg.IsError && payload.Length == 0) payload = Encoding.UTF8.GetBytes("{\"message\":\"" + JsonEncodedText.Encode(Encoding.UTF8.GetString(msg.ErrorMessage)).ToString() + "\"}");
        throw BedrockErrorMapper.FromStreamException(type, payload).ToException();
    }

    public override void Dispose()
    {
        _passthrough?.Dispose();
        _chunks?.Dispose();
        var buffer = _event;
        _event = [];
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
        base.Dispose();
    }
}
