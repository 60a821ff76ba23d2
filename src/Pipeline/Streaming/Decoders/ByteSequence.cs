using System.Buffers;

namespace LLMux.Pipeline.Streaming.Decoders;

/// <summary>Comparisons of a byte sequence with a span that never copy the sequence.</summary>
internal static class ByteSequence
{
    public static bool EqualTo(in ReadOnlySequence<byte> sequence, ReadOnlySpan<byte> expected)
    {
        if (sequence.IsSingleSegment) return sequence.FirstSpan.SequenceEqual(expected);
        if (sequence.Length != expected.Length) return false;
        foreach (var memory in sequence)
        {
            var span = memory.Span;
            if (!expected.StartsWith(span)) return false;
            expected = expected[span.Length..];
        }
        return true;
    }
}
