using System.Buffers;
using LLMux.Pipeline.Streaming.Decoders;

namespace LLMux.Pipeline.Streaming;

/// <summary>A translator for upstreams that stream newline-delimited JSON (Ollama's native API).</summary>
public abstract class NdjsonStreamTranslator : StreamTranslator
{
    private readonly NdjsonDecoder _decoder = new();

    public sealed override void Decode(ref ReadOnlySequence<byte> buffer, IBufferWriter<byte> output)
    {
        while (_decoder.TryRead(ref buffer, isFinalBlock: false, out var line))
        {
            OnLine(line, output);
        }
    }

    public sealed override void Complete(ReadOnlySequence<byte> remaining, IBufferWriter<byte> output)
    {
        while (_decoder.TryRead(ref remaining, isFinalBlock: true, out var line))
        {
            OnLine(line, output);
        }
        OnEnd(output);
    }

    /// <summary>One JSON line; the slice is valid only during this call.</summary>
    protected abstract void OnLine(ReadOnlySequence<byte> line, IBufferWriter<byte> output);

    /// <summary>The upstream ended cleanly at a line boundary.</summary>
    protected abstract void OnEnd(IBufferWriter<byte> output);
}
