using System.Buffers;
using LLMux.Pipeline.Streaming.Decoders;

namespace LLMux.Pipeline.Streaming;

/// <summary>A translator for upstreams that speak AWS eventstream (Bedrock): decoding is shared, mapping is the provider's.</summary>
public abstract class EventStreamTranslator : StreamTranslator
{
    private readonly EventStreamDecoder _decoder = new();

    public sealed override void Decode(ref ReadOnlySequence<byte> buffer, IBufferWriter<byte> output)
    {
        while (_decoder.TryRead(ref buffer, isFinalBlock: false, out var message))
        {
            OnMessage(in message, output);
        }
    }

    public sealed override void Complete(ReadOnlySequence<byte> remaining, IBufferWriter<byte> output)
    {
        // A stream cut inside a message throws InvalidDataException here: never a clean end.
        while (_decoder.TryRead(ref remaining, isFinalBlock: true, out var message))
        {
            OnMessage(in message, output);
        }
        OnEnd(output);
    }

    /// <summary>One message (event, exception or error); its slices are valid only during this call.</summary>
    protected abstract void OnMessage(in EventStreamMessage msg, IBufferWriter<byte> output);

    /// <summary>The upstream ended cleanly at a message boundary.</summary>
    protected abstract void OnEnd(IBufferWriter<byte> output);
}
