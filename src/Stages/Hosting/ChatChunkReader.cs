using System.Buffers;
using System.Text.Json;
using LLMux.Pipeline.Streaming.Decoders;
using LLMux.Pipeline.Wire;

namespace LLMux.Stages.Hosting;

/// <summary>
/// Turns OpenAI SSE bytes (as the pump hands them over, in pieces of any size) into typed chunks; an unfinished
/// frame waits for the next piece. <c>[DONE]</c> ends the stream.
/// </summary>
internal sealed class ChatChunkReader : IDisposable
{
    private readonly SseDecoder _decoder = new();
    private readonly ArrayBufferWriter<byte> _pending = new(4096);

    /// <summary>Adds <paramref name="bytes"/> and appends every chunk they complete; true once <c>[DONE]</c> was read.</summary>
    public bool Feed(ReadOnlySpan<byte> bytes, List<ChatCompletionChunk> output)
    {
        _pending.Write(bytes);
        var buffer = new ReadOnlySequence<byte>(_pending.WrittenMemory);
        var done = false;
        while (_decoder.TryRead(ref buffer, isFinalBlock: false, out var frame))
        {
            if (frame.DataIs("[DONE]"u8)) { done = true; break; }
            if (frame.Data.IsEmpty) continue;
            var reader = new Utf8JsonReader(frame.Data);
            output.Add(JsonSerializer.Deserialize(ref reader, Pipeline.Wire.WireJson.Default.ChatCompletionChunk)!);
        }
        // The decoder wants the unfinished frame's bytes back unchanged at the start of the next buffer.
        if (buffer.IsEmpty) _pending.ResetWrittenCount();
        else
        {
            var rest = buffer.ToArray();
            _pending.ResetWrittenCount();
            _pending.Write(rest);
        }
        return done;
    }

    public void Dispose() => _decoder.Dispose();
}
