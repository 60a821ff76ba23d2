using System.Buffers;
using LLMux.Pipeline.Streaming;

namespace LLMux.Stages.Caching;

/// <summary>
/// Wraps the provider's stream translator on a cache miss: every byte it writes for the client (OpenAI chat chunk
/// frames, or the native frames of a passthrough) is also kept, so that a later hit replays the same frames. Only a
/// stream the upstream ended cleanly (<see cref="Complete"/> returned) is <see cref="Clean"/>; an error, a cut stream or a
/// client that left never is. Recording stops (and nothing is stored) past <paramref name="maxBytes"/>.
/// </summary>
internal sealed class StreamRecorder(StreamTranslator inner, long maxBytes) : StreamTranslator
{
    private readonly Tee _tee = new(maxBytes);

    public bool Clean { get; private set; }

    /// <summary>The recorded frames, when the stream was clean and within bounds.</summary>
    public byte[]? Frames => Clean && !_tee.Overflowed ? _tee.Recorded.WrittenSpan.ToArray() : null;

    public override void Decode(ref ReadOnlySequence<byte> buffer, IBufferWriter<byte> output)
    {
        _tee.Output = output;
        inner.Decode(ref buffer, _tee);
        if (inner.ContentStarted) ContentStarted = true;
    }

    public override void Complete(ReadOnlySequence<byte> remaining, IBufferWriter<byte> output)
    {
        _tee.Output = output;
        inner.Complete(remaining, _tee);
        if (inner.ContentStarted) ContentStarted = true;
        Clean = true;
    }

    public override void Dispose()
    {
        inner.Dispose();
        base.Dispose();
    }

    /// <summary>Hands the output's own memory to the translator and copies what it advanced over.</summary>
    private sealed class Tee(long maxBytes) : IBufferWriter<byte>
    {
        private Memory<byte> _last;
        public IBufferWriter<byte> Output { get; set; } = null!;
        public ArrayBufferWriter<byte> Recorded { get; } = new(4096);
        public bool Overflowed { get; private set; }

        public void Advance(int count)
        {
            if (!Overflowed)
            {
                if (Recorded.WrittenCount + count > maxBytes) Overflowed = true;
                else Recorded.Write(_last.Span[..count]);
            }
            Output.Advance(count);
        }

        public Memory<byte> GetMemory(int sizeHint = 0) => _last = Output.GetMemory(sizeHint);

        public Span<byte> GetSpan(int sizeHint = 0) => (_last = Output.GetMemory(sizeHint)).Span;
    }
}
