using System.Buffers;

namespace LLMux.Benchmarks.Decoders;

/// <summary>A read-only segment so benchmarks can feed network-sized multi-segment sequences.</summary>
internal sealed class BenchSegment : ReadOnlySequenceSegment<byte>
{
    public BenchSegment(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    public BenchSegment Append(ReadOnlyMemory<byte> memory)
    {
        var next = new BenchSegment(memory, RunningIndex + Memory.Length);
        Next = next;
        return next;
    }
}

/// <summary>Loads bench/data payloads and lays them out whole or in segments.</summary>
internal static class BenchInput
{
    /// <summary>A TCP segment's payload on a 1500-byte MTU.</summary>
    public const int NetworkSegment = 1460;

    public static byte[] Load(string file)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "LLMux.sln"))) directory = directory.Parent;
        if (directory is null) throw new FileNotFoundException($"cannot find the repository root above {AppContext.BaseDirectory}");
        return File.ReadAllBytes(Path.Combine(directory.FullName, "bench", "data", file));
    }

    /// <summary>The payload as one segment (<paramref name="segmentSize"/> 0) or as many segments of that size.</summary>
    public static ReadOnlySequence<byte> Sequence(byte[] data, int segmentSize)
    {
        if (segmentSize <= 0 || segmentSize >= data.Length) return new ReadOnlySequence<byte>(data);
        var first = new BenchSegment(data.AsMemory(0, segmentSize), 0);
        var last = first;
        for (var at = segmentSize; at < data.Length; at += segmentSize) last = last.Append(data.AsMemory(at, Math.Min(segmentSize, data.Length - at)));
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }
}

/// <summary>A memory stream whose reads return at most <c>readSize</c> bytes, as a socket would.</summary>
internal sealed class ChunkedStream(byte[] data, int readSize) : Stream
{
    private int _position;
    private readonly int _readSize = readSize <= 0 ? int.MaxValue : readSize;

    public override int Read(Span<byte> buffer)
    {
        var n = Math.Min(Math.Min(buffer.Length, _readSize), data.Length - _position);
        data.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => new(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => data.Length;
    public override long Position { get => _position; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
