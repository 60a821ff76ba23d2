using System.Buffers;

namespace LLMux.Pipeline.Streaming.Decoders;

/// <summary>
/// One dispatched server-sent event. Its sequences are slices of the decoder's input (or, for multi-line
/// data, of one pooled copy) and are valid until the next call to the decoder.
/// </summary>
public readonly struct SseFrame
{
    public SseFrame(ReadOnlySequence<byte> data, ReadOnlySequence<byte> eventType, ReadOnlySequence<byte> id, long? retry)
    {
        Data = data;
        EventType = eventType;
        Id = id;
        Retry = retry;
    }

    /// <summary>The data lines joined with LF (no trailing LF).</summary>
    public ReadOnlySequence<byte> Data { get; }
    /// <summary>The <c>event</c> field; empty means the default type <c>message</c>.</summary>
    public ReadOnlySequence<byte> EventType { get; }
    /// <summary>The last <c>id</c> field seen in this event; empty when none.</summary>
    public ReadOnlySequence<byte> Id { get; }
    /// <summary>The <c>retry</c> field when it was a valid integer.</summary>
    public long? Retry { get; }

    /// <summary>Whether the <c>event</c> field equals <paramref name="name"/> (an empty name matches no field).</summary>
    public bool EventTypeIs(ReadOnlySpan<byte> name) => ByteSequence.EqualTo(EventType, name);

    /// <summary>Whether the data equals <paramref name="value"/>, e.g. <c>"[DONE]"u8</c>.</summary>
    public bool DataIs(ReadOnlySpan<byte> value) => ByteSequence.EqualTo(Data, value);
}
