using System.Buffers;
using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;
using LLMux.Pipeline.Streaming.Decoders;

namespace LLMux.Providers.Anthropic;

/// <summary>
/// /v1/messages to Anthropic: each upstream event is written to the client as it came (event line and data,
/// no re-serialising); usage is read from message_start and message_delta on the way. An error event becomes
/// the error it names; a stream that ends before message_stop is an error, never a clean end.
/// </summary>
internal sealed class AnthropicMessagesPassthrough(LlmContext context, string provider = "anthropic") : SseStreamTranslator
{
    /// <summary>One Anthropic event that reached LLMux some other way (a Bedrock eventstream <c>chunk</c>).</summary>
    internal void Accept(in SseFrame frame, IBufferWriter<byte> output) => OnEvent(frame, output);

    /// <summary>The other way's clean end.</summary>
    internal void AcceptEnd(IBufferWriter<byte> output) => OnEnd(output);

    private AnthropicUsageCounter _usage;
    private bool _stopped;

    protected override void OnEvent(in SseFrame frame, IBufferWriter<byte> output)
    {
        var data = frame.Data;
        if (data.IsEmpty) return;
        var type = Inspect(data);
        if (type == EventKind.Error)
        {
            throw (AnthropicErrorMapper.Map(0, data.ToArray(), null) with { Provider = provider }).ToException();
        }
        Write(output, frame.EventType, data);
        if (type is EventKind.ContentBlockStart or EventKind.ContentBlockDelta) ContentStarted = true;
        if (type == EventKind.MessageStop)
        {
            _stopped = true;
            ContentStarted = true;
            context.Usage = _usage.ToUsage();
        }
    }

    private static void Write(IBufferWriter<byte> output, ReadOnlySequence<byte> eventType, ReadOnlySequence<byte> data)
    {
        if (!eventType.IsEmpty)
        {
            output.Write("event: "u8);
            foreach (var segment in eventType) output.Write(segment.Span);
            output.Write("\n"u8);
        }
        output.Write("data: "u8);
        foreach (var segment in data) output.Write(segment.Span);
        output.Write("\n\n"u8);
    }

    private enum EventKind { Other, MessageStart, MessageDelta, MessageStop, ContentBlockStart, ContentBlockDelta, Error }

    /// <summary>Reads the event's <c>type</c> and, for message_start / message_delta, its usage.</summary>
    private EventKind Inspect(ReadOnlySequence<byte> data)
    {
        var reader = new Utf8JsonReader(data);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("stream event is not a JSON object");
        var kind = EventKind.Other;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                kind = reader.ValueTextEquals("message_start"u8) ? EventKind.MessageStart
                    : reader.ValueTextEquals("message_delta"u8) ? EventKind.MessageDelta
                    : reader.ValueTextEquals("message_stop"u8) ? EventKind.MessageStop
                    : reader.ValueTextEquals("content_block_start"u8) ? EventKind.ContentBlockStart
                    : reader.ValueTextEquals("content_block_delta"u8) ? EventKind.ContentBlockDelta
                    : reader.ValueTextEquals("error"u8) ? EventKind.Error
                    : EventKind.Other;
            }
            else if (reader.ValueTextEquals("message"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("usage"u8)) { reader.Read(); _usage.Read(ref reader); }
                    else { reader.Read(); reader.Skip(); }
                }
            }
            else if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                _usage.Read(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return kind;
    }



    protected override void OnEnd(IBufferWriter<byte> output)
    {
        if (_stopped) return;
        throw new LlmError
        {
            Kind = ErrorKind.BadGateway,
            Provider = provider,
            Message = provider + " stream ended before message_stop; the answer is incomplete",
        }.ToException();
    }
}
