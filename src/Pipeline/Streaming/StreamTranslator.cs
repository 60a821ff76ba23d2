using System.Buffers;

namespace LLMux.Pipeline.Streaming;

/// <summary>
/// Turns one upstream stream into client frames. The pump hands it each batch of bytes read from the
/// upstream; it consumes the complete frames (advancing <c>buffer</c>) and writes the client's frames to
/// <c>output</c>. Errors are thrown as <see cref="Errors.LlmException"/>.
/// </summary>
public abstract class StreamTranslator : IDisposable
{
    /// <summary>Consumes every complete frame in <paramref name="buffer"/>; leaves a partial frame in it.</summary>
    public abstract void Decode(ref ReadOnlySequence<byte> buffer, IBufferWriter<byte> output);

    /// <summary>The upstream ended. <paramref name="remaining"/> holds the bytes no frame consumed.
    /// Writes the closing frames, or throws when the stream was cut short.</summary>
    public abstract void Complete(ReadOnlySequence<byte> remaining, IBufferWriter<byte> output);

    /// <summary>True once the client has seen a content frame (an error after that can no longer be an HTTP status).</summary>
    public bool ContentStarted { get; protected set; }

    public virtual void Dispose() => GC.SuppressFinalize(this);
}
