using System.Buffers;
using LLMux.Pipeline.Streaming;

namespace LLMux.Providers.Common;

/// <summary>
/// Bytes that are not frames (synthesised speech): every byte read from the upstream goes to the client as it arrives,
/// with no decoding. An upstream that ends early is the upstream's answer; the byte stream has no end marker to check.
/// </summary>
public sealed class RawBytesTranslator : StreamTranslator
{
    public override void Decode(ref ReadOnlySequence<byte> buffer, IBufferWriter<byte> output)
    {
        if (buffer.IsEmpty) return;
        foreach (var segment in buffer) output.Write(segment.Span);
        buffer = buffer.Slice(buffer.End);
        ContentStarted = true;
    }

    public override void Complete(ReadOnlySequence<byte> remaining, IBufferWriter<byte> output)
    {
        foreach (var segment in remaining) output.Write(segment.Span);
    }
}
