using System.Buffers;
using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;
using LLMux.Pipeline.Streaming.Decoders;

namespace LLMux.Providers.Modes;

/// <summary>
/// gpt-image's streamed generation and edits (<c>stream: true</c>, <c>partial_images</c>): each upstream event
/// (<c>image_generation.partial_image</c> / <c>image_edit.partial_image</c> …, then <c>….completed</c> with the token usage)
/// is written to the client as it came, <c>event:</c> line included. The completed event's usage prices the call, and
/// carries that cost to the client (<c>usage.cost</c>: the headers left before it); an
/// <c>error</c> event becomes an error; a stream that ends before its completed event is an incomplete answer, not a clean end.
/// </summary>
public sealed class ImageStreamPassthrough(LlmContext context, string provider) : SseStreamTranslator
{
    private static ReadOnlySpan<byte> EventPrefix => "event: "u8;
    private static ReadOnlySpan<byte> DataPrefix => "data: "u8;
    private static ReadOnlySpan<byte> Completed => ".completed"u8;

    private bool _completed;

    protected override void OnEvent(in SseFrame frame, IBufferWriter<byte> output)
    {
        var data = frame.Data;
        if (data.IsEmpty) return;
        var (type, isError) = TypeOf(data);
        if (isError) throw OpenAI.OpenAIErrorMapper.Map(provider, 0, data.ToArray(), null).ToException();
        if (type is not null && type.AsSpan().EndsWith(".completed", StringComparison.Ordinal) || frame.EventType.Length > 0 && EndsWith(frame.EventType, Completed))
        {
            _completed = true;
            var (size, quality) = context.ModeRequest?.Parsed switch
            {
                ImageRequest g => (g.Size, g.Quality),
                ImageUpload u => (u.Size, u.Quality),
                _ => (null, null),
            };
            var json = data.ToArray();
            var usage = ImageAnswer.Read(json, size, quality, provider);
            // Usage is priced only when the event carries it (gpt-image's token usage).
            if (usage.ImageTokens)
            {
                context.Usage = usage;
                // The headers left before this event, so its usage carries the cost (usage.cost, USD), as a chat stream's usage chunk does.
                if (context.PriceOf(usage) is { } cost && UsageClose(json) is { } close)
                {
                    byte[] priced = [.. json.AsSpan(0, close.At), .. Common.UsageCost.Member(cost, first: close.Empty), .. json.AsSpan(close.At)];
                    data = new ReadOnlySequence<byte>(priced);
                }
            }
        }
        var length = (frame.EventType.IsEmpty ? 0 : EventPrefix.Length + (int)frame.EventType.Length + 1) + DataPrefix.Length + (int)data.Length + 2;
        var span = output.GetSpan(length);
        var at = 0;
        if (!frame.EventType.IsEmpty)
        {
            EventPrefix.CopyTo(span);
            at = EventPrefix.Length;
            frame.EventType.CopyTo(span[at..]);
            at += (int)frame.EventType.Length;
            span[at++] = (byte)'\n';
        }
        DataPrefix.CopyTo(span[at..]);
        at += DataPrefix.Length;
        data.CopyTo(span[at..]);
        at += (int)data.Length;
        span[at++] = (byte)'\n';
        span[at++] = (byte)'\n';
        output.Advance(at);
        ContentStarted = true;
    }

    protected override void OnEnd(IBufferWriter<byte> output)
    {
        if (_completed) return;
        throw new LlmError
        {
            Kind = ErrorKind.BadGateway,
            Provider = provider,
            Message = $"{provider} image stream ended before its completed event; the image is incomplete",
        }.ToException();
    }

    /// <summary>Where the top-level <c>usage</c> object's closing brace is, and whether the object is empty.</summary>
    private static (int At, bool Empty)? UsageClose(byte[] json)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isUsage = reader.ValueTextEquals("usage"u8);
            reader.Read();
            if (!isUsage || reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
            var open = (int)reader.TokenStartIndex;
            reader.Skip();
            var at = (int)reader.TokenStartIndex;
            return (at, at == open + 1);
        }
        return null;
    }

    private static bool EndsWith(ReadOnlySequence<byte> value, ReadOnlySpan<byte> suffix)
    {
        if (value.Length < suffix.Length) return false;
        Span<byte> tail = stackalloc byte[suffix.Length];
        value.Slice(value.Length - suffix.Length).CopyTo(tail);
        return tail.SequenceEqual(suffix);
    }

    /// <summary>The frame's <c>type</c>, and whether it is an error event (<c>type: error</c> or a top-level <c>error</c> object).</summary>
    private (string? Type, bool Error) TypeOf(ReadOnlySequence<byte> data)
    {
        try
        {
            var reader = new Utf8JsonReader(data);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("stream frame is not a JSON object");
            string? type = null;
            var error = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    type = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                    if (type == "error") error = true;
                }
                else if (reader.ValueTextEquals("error"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject) error = true;
                    reader.Skip();
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
            return (type, error);
        }
        catch (JsonException ex)
        {
            throw new LlmError { Kind = ErrorKind.BadGateway, Provider = provider, Message = $"{provider} sent an image stream frame that is not JSON ({ex.Message})" }.ToException(ex);
        }
    }
}
