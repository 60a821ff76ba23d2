using System.Buffers;

namespace LLMux.Pipeline.Streaming;

/// <summary>An <see cref="IBufferWriter{T}"/> that fills pooled arrays and hands each one off as a <see cref="StreamSegment"/>.</summary>
internal sealed class SegmentWriter(int segmentSize) : IBufferWriter<byte>
{
    private byte[]? _buffer;
    private int _written;

    public int WrittenCount => _written;

    public void Advance(int count) => _written += count;

    public Memory<byte> GetMemory(int sizeHint = 0) { Ensure(sizeHint); return _buffer.AsMemory(_written); }

    public Span<byte> GetSpan(int sizeHint = 0) { Ensure(sizeHint); return _buffer.AsSpan(_written); }

    /// <summary>Hands off what was written so far; the writer starts a fresh array on the next write.</summary>
    public StreamSegment Take()
    {
        var segment = new StreamSegment(_buffer!, _written);
        _buffer = null;
        _written = 0;
        return segment;
    }

    /// <summary>Starts the next segment with room for about <paramref name="expected"/> bytes (at least the segment size, at most 1 MiB).</summary>
    public void Reserve(long expected)
    {
        if (_buffer is not null) return;
        _buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(expected + expected / 8, segmentSize, 1 << 20));
    }

    public void Reset()
    {
        if (_buffer is not null) ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = null;
        _written = 0;
    }

    private void Ensure(int sizeHint)
    {
        if (sizeHint < 1) sizeHint = 256;
        if (_buffer is null)
        {
            _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(segmentSize, sizeHint));
            return;
        }
        if (_buffer.Length - _written >= sizeHint) return;
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _written + sizeHint));
        _buffer.AsSpan(0, _written).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }
}
