using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;

namespace LLMux.Pipeline.Streaming.Decoders;

/// <summary>
/// Decodes AWS eventstream binary framing (Bedrock <c>ConverseStream</c>, <c>InvokeModelWithResponseStream</c>)
/// from a <see cref="ReadOnlySequence{T}"/> without copying: the payload and header values are slices of the input.
/// </summary>
/// <remarks>
/// A message is <c>total length (u32 BE) | headers length (u32 BE) | prelude CRC32 | headers | payload |
/// message CRC32</c>, both CRCs over everything before them. Both CRCs, every length and every header are
/// checked; a bad one throws <see cref="InvalidDataException"/>. The prelude is checked before waiting for the
/// rest, so a corrupt length never makes the decoder wait for (or buffer) bytes that will not come.
/// </remarks>
public sealed class EventStreamDecoder
{
    internal const int PreludeLength = 12;
    private const int MinMessageLength = PreludeLength + 4;

    /// <summary>The default bound on one message (the eventstream limit is 16 MiB).</summary>
    public const int DefaultMaxMessageLength = 16 * 1024 * 1024;

    private readonly int _maxMessageLength;
    private Crc32? _crc;

    public EventStreamDecoder(int maxMessageLength = DefaultMaxMessageLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMessageLength, MinMessageLength);
        _maxMessageLength = maxMessageLength;
    }

    /// <summary>
    /// Reads the next complete message from <paramref name="buffer"/>, advancing it past the message.
    /// Returns false when more input is needed, or at the end of a stream that ended between messages.
    /// </summary>
    /// <exception cref="InvalidDataException">A CRC mismatch, an impossible length or header, or (with
    /// <paramref name="isFinalBlock"/>) a stream cut inside a message.</exception>
    public bool TryRead(ref ReadOnlySequence<byte> buffer, bool isFinalBlock, out EventStreamMessage message)
    {
        message = default;
        if (buffer.Length < PreludeLength)
        {
            if (isFinalBlock && !buffer.IsEmpty)
                throw new InvalidDataException($"eventstream ended inside a message prelude ({buffer.Length} of {PreludeLength} bytes)");
            return false;
        }

        Span<byte> preludeCopy = stackalloc byte[PreludeLength];
        var first = buffer.FirstSpan;
        scoped ReadOnlySpan<byte> prelude;
        if (first.Length >= PreludeLength) prelude = first[..PreludeLength];
        else
        {
            buffer.Slice(0, PreludeLength).CopyTo(preludeCopy);
            prelude = preludeCopy;
        }

        var totalLength = BinaryPrimitives.ReadUInt32BigEndian(prelude);
        var headersLength = BinaryPrimitives.ReadUInt32BigEndian(prelude[4..]);
        var preludeCrc = BinaryPrimitives.ReadUInt32BigEndian(prelude[8..]);
        var computedPreludeCrc = Crc32.HashToUInt32(prelude[..8]);
        if (computedPreludeCrc != preludeCrc)
            throw new InvalidDataException($"eventstream prelude CRC mismatch (carried 0x{preludeCrc:X8}, computed 0x{computedPreludeCrc:X8}): the stream is corrupt");
        if (totalLength < MinMessageLength)
            throw new InvalidDataException($"eventstream message length {totalLength} is shorter than the {MinMessageLength}-byte minimum");
        if (totalLength > _maxMessageLength)
            throw new InvalidDataException($"eventstream message length {totalLength} exceeds the {_maxMessageLength}-byte limit");
        if (headersLength > totalLength - MinMessageLength)
            throw new InvalidDataException($"eventstream headers length {headersLength} does not fit in a {totalLength}-byte message");

        if (buffer.Length < totalLength)
        {
            if (isFinalBlock)
                throw new InvalidDataException($"eventstream ended inside a message ({buffer.Length} of {totalLength} bytes)");
            return false;
        }

        var raw = buffer.Slice(0, totalLength);
        CheckMessageCrc(in raw, (int)totalLength);
        var known = ReadHeaders(raw.Slice(PreludeLength, headersLength));
        message = new EventStreamMessage(raw, (int)headersLength, in known);
        buffer = buffer.Slice(totalLength);
        return true;
    }

    private void CheckMessageCrc(in ReadOnlySequence<byte> raw, int totalLength)
    {
        var covered = raw.Slice(0, totalLength - 4);
        uint computed;
        if (covered.IsSingleSegment) computed = Crc32.HashToUInt32(covered.FirstSpan);
        else
        {
            _crc ??= new Crc32();
            _crc.Reset();
            foreach (var memory in covered) _crc.Append(memory.Span);
            computed = _crc.GetCurrentHashAsUInt32();
        }

        Span<byte> carriedBytes = stackalloc byte[4];
        raw.Slice(totalLength - 4).CopyTo(carriedBytes);
        var carried = BinaryPrimitives.ReadUInt32BigEndian(carriedBytes);
        if (carried != computed)
            throw new InvalidDataException($"eventstream message CRC mismatch (carried 0x{carried:X8}, computed 0x{computed:X8}): the stream is corrupt");
    }

    /// <summary>Validates every header and notes where the well-known string headers are.</summary>
    private static KnownHeaders ReadHeaders(ReadOnlySequence<byte> headers)
    {
        if (headers.IsSingleSegment) return ReadHeaders(headers.FirstSpan);

        // Headers split across segments: parse a pooled copy (offsets are the same).
        var length = (int)headers.Length;
        var copy = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            headers.CopyTo(copy);
            return ReadHeaders(copy.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
    }

    private static KnownHeaders ReadHeaders(ReadOnlySpan<byte> headers)
    {
        var known = default(KnownHeaders);
        var at = 0;
        while (at < headers.Length)
        {
            int nameLength = headers[at++];
            if (nameLength == 0) throw new InvalidDataException($"eventstream header at byte {at - 1} has an empty name");
            if (headers.Length - at < nameLength + 1) throw TruncatedHeader(at);
            var name = headers.Slice(at, nameLength);
            at += nameLength;
            var type = (EventStreamHeaderType)headers[at++];
            var valueLength = FixedValueLength(type);
            if (valueLength == -2) throw new InvalidDataException($"eventstream header has unknown value type {(byte)type}");
            if (valueLength < 0)
            {
                if (headers.Length - at < 2) throw TruncatedHeader(at);
                valueLength = BinaryPrimitives.ReadUInt16BigEndian(headers[at..]);
                at += 2;
            }
            if (headers.Length - at < valueLength) throw TruncatedHeader(at);

            if (type == EventStreamHeaderType.String && name.Length > 1 && name[0] == (byte)':')
            {
                // Offsets are from the start of the message: the header block follows the prelude.
                var slice = new HeaderSlice(PreludeLength + at, valueLength);
                if (name.SequenceEqual(":event-type"u8)) known.EventType = slice;
                else if (name.SequenceEqual(":message-type"u8)) known.MessageType = slice;
                else if (name.SequenceEqual(":exception-type"u8)) known.ExceptionType = slice;
                else if (name.SequenceEqual(":content-type"u8)) known.ContentType = slice;
                else if (name.SequenceEqual(":error-code"u8)) known.ErrorCode = slice;
                else if (name.SequenceEqual(":error-message"u8)) known.ErrorMessage = slice;
            }
            at += valueLength;
        }
        return known;
    }

    /// <summary>The value length of a fixed-size type; -1 for a u16-length-prefixed type; -2 for an unknown type.</summary>
    internal static int FixedValueLength(EventStreamHeaderType type) => type switch
    {
        EventStreamHeaderType.BoolTrue or EventStreamHeaderType.BoolFalse => 0,
        EventStreamHeaderType.Byte => 1,
        EventStreamHeaderType.Short => 2,
        EventStreamHeaderType.Int => 4,
        EventStreamHeaderType.Long or EventStreamHeaderType.Timestamp => 8,
        EventStreamHeaderType.ByteArray or EventStreamHeaderType.String => -1,
        EventStreamHeaderType.Uuid => 16,
        _ => -2,
    };

    private static InvalidDataException TruncatedHeader(int at) =>
        new($"eventstream header runs past the end of the header block (at byte {at})");
}
