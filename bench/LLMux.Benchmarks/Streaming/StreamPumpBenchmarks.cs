using System.Buffers;
using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using LLMux.Benchmarks.Decoders;
using LLMux.Pipeline.Streaming;
using LLMux.Pipeline.Streaming.Decoders;

namespace LLMux.Benchmarks.Streaming;

/// <summary>
/// The stream pump against a direct copy of the same SSE stream through the same passthrough translator
/// (design contract: the pump costs at most 5 % of passthrough throughput), beside the previous bounded-channel pump.
/// Upstream reads are 1460 bytes.
/// </summary>
[MemoryDiagnoser]
public class StreamPumpBenchmarks
{
    private byte[] _data = [];

    [GlobalSetup]
    public void Setup() => _data = BenchInput.Load("openai-chat-tools.sse");

    /// <summary>Re-frames each event unchanged: what a same-protocol passthrough does.</summary>
    private sealed class Passthrough : SseStreamTranslator
    {
        protected override void OnEvent(in SseFrame frame, IBufferWriter<byte> output)
        {
            ContentStarted = true;
            output.Write("data: "u8);
            foreach (var memory in frame.Data) output.Write(memory.Span);
            output.Write("\n\n"u8);
        }

        protected override void OnEnd(IBufferWriter<byte> output) { }
    }

    [Benchmark(Baseline = true)]
    public async Task<long> DirectCopy()
    {
        long written = 0;
        using var translator = new Passthrough();
        var options = StreamPumpOptions.Default;
        var writer = new SegmentWriter(options.SegmentSize);
        var reader = PipeReader.Create(new ChunkedStream(_data, BenchInput.NetworkSegment), new StreamPipeReaderOptions(bufferSize: options.ReadBufferSize, minimumReadSize: 1024));
        while (true)
        {
            var result = await reader.ReadAsync().ConfigureAwait(false);
            var buffer = result.Buffer;
            try
            {
                translator.Decode(ref buffer, writer);
                if (result.IsCompleted)
                {
                    translator.Complete(buffer, writer);
                    buffer = buffer.Slice(buffer.End);
                }
            }
            finally
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
            }
            if (writer.WrittenCount > 0)
            {
                var segment = writer.Take();
                await Stream.Null.WriteAsync(segment.Memory).ConfigureAwait(false);
                written += segment.Length;
                segment.Release();
            }
            if (result.IsCompleted) break;
        }
        await reader.CompleteAsync().ConfigureAwait(false);
        return written;
    }

    [Benchmark]
    public async Task<long> ConsumerDrivenPump()
    {
        long written = 0;
        await using var pump = StreamPump.Start(new ChunkedStream(_data, BenchInput.NetworkSegment), new Passthrough(), StreamPumpOptions.Default, provider: null, CancellationToken.None);
        var segments = pump.Segments;
        while (await segments.WaitToReadAsync().ConfigureAwait(false))
        {
            // The writer drains every ready segment, then flushes once.
            while (segments.TryRead(out var segment))
            {
                await Stream.Null.WriteAsync(segment.Memory).ConfigureAwait(false);
                written += segment.Length;
                segment.Release();
            }
        }
        await pump.Completion.ConfigureAwait(false);
        return written;
    }

    [Benchmark]
    public async Task<long> BoundedChannelPump()
    {
        long written = 0;
        await using var pump = ChannelPump.Start(new ChunkedStream(_data, BenchInput.NetworkSegment), new Passthrough(), StreamPumpOptions.Default, provider: null, CancellationToken.None);
        var segments = pump.Segments;
        while (await segments.WaitToReadAsync().ConfigureAwait(false))
        {
            // The writer drains every ready segment, then flushes once.
            while (segments.TryRead(out var segment))
            {
                await Stream.Null.WriteAsync(segment.Memory).ConfigureAwait(false);
                written += segment.Length;
                segment.Release();
            }
        }
        await pump.Completion.ConfigureAwait(false);
        return written;
    }
}
