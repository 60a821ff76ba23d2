using System.Buffers;
using LLMux.Pipeline.Streaming.Decoders;
using Xunit;

namespace LLMux.Tests.Decoders;

/// <summary>The zero-copy contract, checked by allocated bytes (never by time).</summary>
public sealed class AllocationTests
{
    private static ReadOnlySequence<byte> Segmented(byte[] data, int size) => size == 0 ? new ReadOnlySequence<byte>(data) : PipeLoop.Segmented(data, size);

    private static long AllocatedWhile(Action action)
    {
        action(); // warm up: JIT, static state, pooled buffers
        var before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1460)]
    [InlineData(7)]
    public void Decoders_allocate_nothing_per_frame(int segment)
    {
        var openAi = Segmented(BenchData.OpenAiChatWithTools(), segment);
        var anthropic = Segmented(BenchData.AnthropicMessages(), segment);
        var bedrock = Segmented(BenchData.BedrockConverseStream(), segment);
        var gemini = Segmented(BenchData.GeminiJsonArray(), segment);
        using var sse = new SseDecoder();
        var eventStream = new EventStreamDecoder();
        var json = new JsonArrayDecoder[2] { new(), new() };
        var sseStreams = new[] { openAi, anthropic };
        var run = 0;
        long frames = 0;

        var allocated = AllocatedWhile(() =>
        {
            foreach (var stream in sseStreams)
            {
                var buffer = stream;
                while (sse.TryRead(ref buffer, isFinalBlock: true, out var frame)) frames += frame.Data.Length > 0 || frame.EventTypeIs("ping"u8) ? 1 : 0;
            }
            var binary = bedrock;
            while (eventStream.TryRead(ref binary, isFinalBlock: true, out var message)) frames += message.EventTypeIs("contentBlockDelta"u8) ? 1 : 0;
            var array = gemini;
            var decoder = json[run++];
            while (decoder.TryRead(ref array, isFinalBlock: true, out var element)) frames += element.Length > 0 ? 1 : 0;
        });

        Assert.True(frames > 400);
        Assert.Equal(0, allocated);
    }
}
