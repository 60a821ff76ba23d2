using System.Buffers;
using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;

namespace LLMux.Stages.Streaming;

/// <summary>
/// The shell of an inbound stream translator that speaks another API than chat completions (<c>/v1/messages</c>,
/// <c>/v1/responses</c>): the provider's own translator writes OpenAI chat chunk frames into a pooled scratch
/// buffer, and each <c>data:</c> frame is handed to <see cref="OnChunk"/>; <c>[DONE]</c> and the end of the
/// upstream stream call <see cref="End"/>. Frames produced before an upstream failure still reach the client,
/// then the failure propagates.
/// </summary>
internal abstract class ChatChunkDecorator(StreamTranslator inner) : StreamTranslator
{
    private readonly PooledBuffer _scratch = new(4096);

    /// <summary>One OpenAI chat chunk (the JSON after <c>data:</c>).</summary>
    protected abstract void OnChunk(ReadOnlySpan<byte> payload, IBufferWriter<byte> output);

    /// <summary>The chat stream ended (<c>[DONE]</c> or the upstream's end); may be called more than once.</summary>
    protected abstract void End(IBufferWriter<byte> output);

    public sealed override void Decode(ref ReadOnlySequence<byte> buffer, IBufferWriter<byte> output)
    {
        try
        {
            inner.Decode(ref buffer, _scratch);
        }
        catch (Exception ex) when (ex is LlmException or JsonException)
        {
            Drain(output); // frames produced before the failure still reach the client, then the error
            throw;
        }
        Drain(output);
    }

    public sealed override void Complete(ReadOnlySequence<byte> remaining, IBufferWriter<byte> output)
    {
        try
        {
            inner.Complete(remaining, _scratch);
        }
        catch (Exception ex) when (ex is LlmException or JsonException)
        {
            Drain(output);
            throw;
        }
        Drain(output);
        End(output);
    }

    private void Drain(IBufferWriter<byte> output)
    {
        try
        {
            var span = _scratch.Span;
            var pos = 0;
            while (pos < span.Length)
            {
                var rest = span[pos..];
                var end = rest.IndexOf("\n\n"u8);
                var frame = end < 0 ? rest : rest[..end];
                pos += end < 0 ? rest.Length : end + 2;
                if (frame.StartsWith("data: "u8)) frame = frame[6..];
                else if (frame.StartsWith("data:"u8)) frame = frame[5..];
                else continue;
                if (frame.SequenceEqual("[DONE]"u8)) End(output);
                else OnChunk(frame, output);
            }
        }
        finally
        {
            _scratch.Clear();
        }
    }

    public override void Dispose()
    {
        inner.Dispose();
        _scratch.Dispose();
        base.Dispose();
    }
}
