using System.Buffers;
using LLMux.Pipeline.Streaming.Decoders;

namespace LLMux.Pipeline.Streaming;

/// <summary>A translator for upstreams that speak Server-Sent Events: decoding is shared, mapping is the provider's.</summary>
public abstract class SseStreamTranslator : StreamTranslator
{
    private readonly SseDecoder _decoder = new();

    public sealed override void Decode(ref ReadOnlySequence<byte> buffer, IBufferWriter<byte> output)
    {
        while (_decoder.TryRead(ref buffer, isFinalBlock: false, out var frame))
        {
            OnEvent(frame, output);
        }
    }

    public sealed override void Complete(ReadOnlySequence<byte> remaining, IBufferWriter<byte> output)
    {
        while (_decoder.TryRead(ref remaining, isFinalBlock: true, out var frame))
        {
            OnEvent(frame, output);
        }
        OnEnd(output);
    }

    /// <summary>One dispatched event; its slices are valid only during this call.</summary>
    protected abstract void OnEvent(in SseFrame frame, IBufferWriter<byte> output);

    /// <summary>The upstream ended cleanly at a frame boundary.</summary>
    protected abstract void OnEnd(IBufferWriter<byte> output);

    public override void Dispose()
    {
        _decoder.Dispose();
        base.Dispose();
    }
}
