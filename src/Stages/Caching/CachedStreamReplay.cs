using System.Buffers;
using LLMux.Pipeline.Streaming;

namespace LLMux.Stages.Caching;

/// <summary>
/// The "provider translator" of a cache hit: its upstream is the recorded frames, which it hands on one SSE frame
/// (up to and including the blank line) at a time, so that the client — or the /v1/messages and /v1/responses
/// translators decorating it — sees the same frames, with the same boundaries and the same end, as the original stream.
/// </summary>
internal sealed class CachedStreamReplay : StreamTranslator
{
    private static ReadOnlySpan<byte> FrameEnd => "\n\n"u8;

    public override void Decode(ref ReadOnlySequence<byte> buffer, IBufferWriter<byte> output)
    {
        var reader = new SequenceReader<byte>(buffer);
        while (reader.TryReadTo(out ReadOnlySequence<byte> frame, FrameEnd))
        {
            foreach (var segment in frame) output.Write(segment.Span);
            output.Write(FrameEnd);
            ContentStarted = true;
        }
        buffer = buffer.Slice(reader.Position);
    }

    public override void Complete(ReadOnlySequence<byte> remaining, IBufferWriter<byte> output)
    {
        foreach (var segment in remaining) output.Write(segment.Span);
        if (!remaining.IsEmpty) ContentStarted = true;
    }
}
