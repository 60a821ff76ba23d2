using System.Buffers;
using LLMux.Pipeline.Errors;

namespace LLMux.Pipeline.Streaming;

/// <summary>
/// A batch of client-ready bytes in a pooled array, or the error that ended the stream.
/// The consumer returns <see cref="Buffer"/> with <see cref="Release"/> once written.
/// </summary>
public readonly struct StreamSegment
{
    public StreamSegment(byte[] buffer, int length) { Buffer = buffer; Length = length; Error = null; ContentStarted = false; }

    public StreamSegment(LlmError error, bool contentStarted) { Buffer = null; Length = 0; Error = error; ContentStarted = contentStarted; }

    public byte[]? Buffer { get; }
    public int Length { get; }
    public LlmError? Error { get; }
    /// <summary>For an error: whether content frames were produced before it.</summary>
    public bool ContentStarted { get; }

    public ReadOnlyMemory<byte> Memory => Buffer is null ? default : Buffer.AsMemory(0, Length);

    public void Release()
    {
        if (Buffer is not null) ArrayPool<byte>.Shared.Return(Buffer);
    }
}
