using System.Buffers;
using System.Buffers.Binary;

namespace LLMux.Pipeline.Streaming.Decoders;

/// <summary>Walks the headers of a decoded eventstream message (already validated by the decoder) without allocating.</summary>
public struct EventStreamHeaderEnumerator
{
    private readonly ReadOnlySequence<byte> _headers;
    private long _offset;

    internal EventStreamHeaderEnumerator(ReadOnlySequence<byte> headers)
    {
        _headers = headers;
        _offset = 0;
        Current = default;
    }

    public EventStreamHeader Current { get; private set; }

    public readonly EventStreamHeaderEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_offset >= _headers.Length) return false;
        var nameLength = ByteAt(_offset);
        var name = _headers.Slice(_offset + 1, nameLength);
        var at = _offset + 1 + nameLength;
        var type = (EventStreamHeaderType)ByteAt(at++);
        var valueLength = EventStreamDecoder.FixedValueLength(type);
        if (valueLength < 0)
        {
            Span<byte> prefix = stackalloc byte[2];
            _headers.Slice(at, 2).CopyTo(prefix);
            valueLength = BinaryPrimitives.ReadUInt16BigEndian(prefix);
            at += 2;
        }
        Current = new EventStreamHeader(name, type, _headers.Slice(at, valueLength));
        _offset = at + valueLength;
        return true;
    }

    private readonly byte ByteAt(long offset)
    {
        if (_headers.IsSingleSegment) return _headers.FirstSpan[(int)offset];
        Span<byte> one = stackalloc byte[1];
        _headers.Slice(offset, 1).CopyTo(one);
        return one[0];
    }
}
