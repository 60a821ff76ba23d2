using Xunit;
using System.Buffers;

namespace LLMux.Tests.Decoders;

/// <summary>A minimal <see cref="ReadOnlySequenceSegment{T}"/> so tests can build multi-segment input.</summary>
internal sealed class TestSegment : ReadOnlySequenceSegment<byte>
{
    public TestSegment(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    public TestSegment Append(ReadOnlyMemory<byte> memory)
    {
        var next = new TestSegment(memory, RunningIndex + Memory.Length);
        Next = next;
        return next;
    }
}

/// <summary>How unconsumed bytes and a new read are laid out, as different PipeReader buffers would be.</summary>
internal enum Layout
{
    /// <summary>Each read is its own segment behind the unconsumed ones.</summary>
    Segments,
    /// <summary>Unconsumed bytes and the new read in one contiguous segment.</summary>
    Contiguous,
    /// <summary>Like <see cref="Segments"/> with an empty segment before each read.</summary>
    EmptySegments,
}

internal delegate bool TryReadItem<T>(ref ReadOnlySequence<byte> buffer, bool isFinalBlock, out T item);

/// <summary>Builds sequences and drives a decoder the way a PipeReader loop does.</summary>
internal static class PipeLoop
{
    /// <summary>One sequence over <paramref name="pieces"/>, one segment each (empty pieces make empty segments).</summary>
    public static ReadOnlySequence<byte> Sequence(IReadOnlyList<ReadOnlyMemory<byte>> pieces)
    {
        if (pieces.Count == 0) return ReadOnlySequence<byte>.Empty;
        if (pieces.Count == 1) return new ReadOnlySequence<byte>(pieces[0]);
        var first = new TestSegment(pieces[0], 0);
        var last = first;
        for (var i = 1; i < pieces.Count; i++) last = last.Append(pieces[i]);
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>The whole input as a sequence of <paramref name="segmentSize"/>-byte segments.</summary>
    public static ReadOnlySequence<byte> Segmented(byte[] data, int segmentSize)
    {
        var pieces = new List<ReadOnlyMemory<byte>>();
        for (var i = 0; i < data.Length; i += segmentSize) pieces.Add(data.AsMemory(i, Math.Min(segmentSize, data.Length - i)));
        return Sequence(pieces);
    }

    /// <summary>
    /// Feeds <paramref name="chunks"/> one read at a time: each read appends a chunk as a new segment behind the
    /// bytes the decoder left unconsumed, the decoder runs until it needs more, and at the end it runs once more
    /// with isFinalBlock. Items must be materialised by <paramref name="read"/> (slices die with the read).
    /// </summary>
    public static List<T> Run<T>(IEnumerable<ReadOnlyMemory<byte>> chunks, TryReadItem<T> read, Layout layout = Layout.Segments)
    {
        var items = new List<T>();
        var pending = new List<ReadOnlyMemory<byte>>();
        foreach (var chunk in chunks)
        {
            if (layout == Layout.EmptySegments) pending.Add(ReadOnlyMemory<byte>.Empty);
            pending.Add(chunk);
            if (layout == Layout.Contiguous && pending.Count > 1)
            {
                var joined = Sequence(pending).ToArray();
                pending.Clear();
                pending.Add(joined);
            }
            Drain(pending, read, items, isFinalBlock: false);
        }
        Drain(pending, read, items, isFinalBlock: true);
        return items;
    }

    private static void Drain<T>(List<ReadOnlyMemory<byte>> pending, TryReadItem<T> read, List<T> items, bool isFinalBlock)
    {
        var sequence = Sequence(pending);
        var buffer = sequence;
        var guard = 0;
        while (read(ref buffer, isFinalBlock, out var item))
        {
            items.Add(item);
            Assert.True(++guard < 1_000_000, "decoder never stopped");
        }
        Assert.Equal(sequence.Length - buffer.Length, sequence.Slice(sequence.Start, buffer.Start).Length);
        if (isFinalBlock) Assert.True(buffer.IsEmpty, $"{buffer.Length} bytes left unconsumed at the end of the stream");

        // Drop what the decoder consumed; keep the rest as it was (the decoder may remember offsets into it).
        var consumed = sequence.Length - buffer.Length;
        while (consumed > 0)
        {
            if (pending[0].Length <= consumed)
            {
                consumed -= pending[0].Length;
                pending.RemoveAt(0);
            }
            else
            {
                pending[0] = pending[0][(int)consumed..];
                consumed = 0;
            }
        }
    }

    /// <summary>The input whole, cut in two at every byte, and as a 1-byte trickle.</summary>
    public static IEnumerable<(string Name, ReadOnlyMemory<byte>[] Chunks)> Splits(byte[] data)
    {
        yield return ("whole", [data]);
        for (var i = 1; i < data.Length; i++) yield return ($"split at {i}", [data.AsMemory(0, i), data.AsMemory(i)]);
        var trickle = new ReadOnlyMemory<byte>[data.Length];
        for (var i = 0; i < data.Length; i++) trickle[i] = data.AsMemory(i, 1);
        yield return ("1-byte trickle", trickle);
    }

    /// <summary>Cuts the input into pieces of the given sizes (the last piece takes the rest).</summary>
    public static ReadOnlyMemory<byte>[] Cut(byte[] data, IReadOnlyList<int> sizes)
    {
        var chunks = new List<ReadOnlyMemory<byte>>();
        var at = 0;
        foreach (var size in sizes)
        {
            if (at >= data.Length) break;
            var n = Math.Min(Math.Max(size, 1), data.Length - at);
            chunks.Add(data.AsMemory(at, n));
            at += n;
        }
        if (at < data.Length) chunks.Add(data.AsMemory(at));
        return [.. chunks];
    }
}
