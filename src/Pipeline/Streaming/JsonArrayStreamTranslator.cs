using System.Buffers;
using LLMux.Pipeline.Streaming.Decoders;

namespace LLMux.Pipeline.Streaming;

/// <summary>A translator for upstreams that stream one JSON array element by element (Gemini without <c>alt=sse</c>).</summary>
public abstract class JsonArrayStreamTranslator : StreamTranslator
{
    private readonly JsonArrayDecoder _decoder = new();

    public sealed override void Decode(ref ReadOnlySequence<byte> buffer, IBufferWriter<byte> output)
    {
        while (_decoder.TryRead(ref buffer, isFinalBlock: false, out var element))
        {
            OnElement(element, output);
        }
    }

    public sealed override void Complete(ReadOnlySequence<byte> remaining, IBufferWriter<byte> output)
    {
        // A stream cut before the closing ']' throws InvalidDataException here: never a clean end.
        while (_decoder.TryRead(ref remaining, isFinalBlock: true, out var element))
        {
            OnElement(element, output);
        }
        OnEnd(output);
    }

    /// <summary>One complete top-level element (its JSON text); the slice is valid only during this call.</summary>
    protected abstract void OnElement(ReadOnlySequence<byte> element, IBufferWriter<byte> output);

    /// <summary>The upstream closed the array and ended cleanly.</summary>
    protected abstract void OnEnd(IBufferWriter<byte> output);
}
