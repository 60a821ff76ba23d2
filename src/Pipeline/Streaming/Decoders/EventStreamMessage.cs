using System.Buffers;

namespace LLMux.Pipeline.Streaming.Decoders;

/// <summary>
/// One decoded AWS eventstream message. Everything it exposes is a slice of the decoder's input, valid until
/// the next call to the decoder; nothing here allocates.
/// </summary>
public readonly struct EventStreamMessage
{
    private readonly ReadOnlySequence<byte> _message;
    private readonly int _headersLength;
    private readonly HeaderSlice _eventType;
    private readonly HeaderSlice _messageType;
    private readonly HeaderSlice _exceptionType;
    private readonly HeaderSlice _contentType;
    private readonly HeaderSlice _errorCode;
    private readonly HeaderSlice _errorMessage;

    internal EventStreamMessage(ReadOnlySequence<byte> message, int headersLength, in KnownHeaders known)
    {
        _message = message;
        _headersLength = headersLength;
        _eventType = known.EventType;
        _messageType = known.MessageType;
        _exceptionType = known.ExceptionType;
        _contentType = known.ContentType;
        _errorCode = known.ErrorCode;
        _errorMessage = known.ErrorMessage;
    }

    /// <summary>The whole message as received: prelude, headers, payload and CRC.</summary>
    public ReadOnlySequence<byte> Raw => _message;

    /// <summary>The raw header block (see <see cref="EnumerateHeaders"/>).</summary>
    public ReadOnlySequence<byte> Headers => _message.Slice(EventStreamDecoder.PreludeLength, _headersLength);

    public ReadOnlySequence<byte> Payload =>
        _message.Slice(EventStreamDecoder.PreludeLength + _headersLength, _message.Length - EventStreamDecoder.PreludeLength - _headersLength - 4);

    /// <summary>The <c>:event-type</c> header, e.g. <c>contentBlockDelta</c>; empty when absent.</summary>
    public ReadOnlySequence<byte> EventType => Slice(_eventType);
    /// <summary>The <c>:message-type</c> header: <c>event</c>, <c>exception</c> or <c>error</c>; empty when absent.</summary>
    public ReadOnlySequence<byte> MessageType => Slice(_messageType);
    /// <summary>The <c>:exception-type</c> header of an exception message, e.g. <c>throttlingException</c>.</summary>
    public ReadOnlySequence<byte> ExceptionType => Slice(_exceptionType);
    /// <summary>The <c>:content-type</c> header, e.g. <c>application/json</c>.</summary>
    public ReadOnlySequence<byte> ContentType => Slice(_contentType);
    /// <summary>The <c>:error-code</c> header of an error message.</summary>
    public ReadOnlySequence<byte> ErrorCode => Slice(_errorCode);
    /// <summary>The <c>:error-message</c> header of an error message.</summary>
    public ReadOnlySequence<byte> ErrorMessage => Slice(_errorMessage);

    public bool HasEventType => _eventType.Offset > 0;
    public bool EventTypeIs(ReadOnlySpan<byte> value) => _eventType.Offset > 0 && ByteSequence.EqualTo(EventType, value);
    public bool MessageTypeIs(ReadOnlySpan<byte> value) => _messageType.Offset > 0 && ByteSequence.EqualTo(MessageType, value);
    public bool ExceptionTypeIs(ReadOnlySpan<byte> value) => _exceptionType.Offset > 0 && ByteSequence.EqualTo(ExceptionType, value);
    public bool ContentTypeIs(ReadOnlySpan<byte> value) => _contentType.Offset > 0 && ByteSequence.EqualTo(ContentType, value);

    /// <summary><c>:message-type</c> is <c>event</c> (a message without the header counts as an event).</summary>
    public bool IsEvent => _messageType.Offset == 0 || MessageTypeIs("event"u8);
    /// <summary><c>:message-type</c> is <c>exception</c> (a modeled service error such as a throttle).</summary>
    public bool IsException => MessageTypeIs("exception"u8);
    /// <summary><c>:message-type</c> is <c>error</c> (an unmodeled error with <c>:error-code</c>).</summary>
    public bool IsError => MessageTypeIs("error"u8);

    /// <summary>Every header, in wire order: <c>foreach (var h in message.EnumerateHeaders())</c>.</summary>
    public EventStreamHeaderEnumerator EnumerateHeaders() => new(Headers);

    private ReadOnlySequence<byte> Slice(HeaderSlice header) =>
        header.Offset > 0 ? _message.Slice(header.Offset, header.Length) : default;
}

/// <summary>Where a string header's value lies in its message; offset 0 means absent.</summary>
internal readonly record struct HeaderSlice(int Offset, int Length);

/// <summary>The string headers a translator asks about on every message.</summary>
internal struct KnownHeaders
{
    public HeaderSlice EventType;
    public HeaderSlice MessageType;
    public HeaderSlice ExceptionType;
    public HeaderSlice ContentType;
    public HeaderSlice ErrorCode;
    public HeaderSlice ErrorMessage;
}
