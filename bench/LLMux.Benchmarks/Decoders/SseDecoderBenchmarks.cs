using System.Buffers;
using System.IO.Pipelines;
using System.Net.ServerSentEvents;
using BenchmarkDotNet.Attributes;
using LLMux.Pipeline.Streaming.Decoders;

namespace LLMux.Benchmarks.Decoders;

/// <summary>
/// SSE decoding of real-shaped provider streams. <c>Segment</c> 0 is the stream in one piece; 1460 is network-sized
/// pieces (a multi-segment sequence, or 1460-byte reads for stream-based parsers). Each operation decodes the whole
/// stream and sums the data lengths.
/// </summary>
[MemoryDiagnoser]
public class SseDecoderBenchmarks
{
    private byte[] _data = [];
    private ReadOnlySequence<byte> _sequence;
    private readonly SseDecoder _decoder = new();

    [Params("openai-chat-tools.sse", "anthropic-messages.sse")]
    public string Payload { get; set; } = "";

    [Params(0, BenchInput.NetworkSegment)]
    public int Segment { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = BenchInput.Load(Payload);
        _sequence = BenchInput.Sequence(_data, Segment);
    }

    [Benchmark(Baseline = true)]
    public long SseParser_Enumerate()
    {
        long sum = 0;
        var parser = SseParser.Create(new ChunkedStream(_data, Segment), static (_, data) => data.Length);
        foreach (var item in parser.Enumerate()) sum += item.Data;
        return sum;
    }

    [Benchmark]
    public async Task<long> StreamReader_ReadLineAsync()
    {
        long sum = 0;
        using var reader = new StreamReader(new ChunkedStream(_data, Segment));
        while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            if (line.StartsWith("data:", StringComparison.Ordinal)) sum += line.Length - 6;
        }
        return sum;
    }

    /// <summary>
    /// Not a decoder: a bare IndexOfAny('\r', '\n') from line to line over the same bytes. Any SSE parser must find
    /// every line end, so this is the floor for streams of long data lines.
    /// </summary>
    [Benchmark]
    public long NewlineScan_Floor()
    {
        long sum = 0;
        foreach (var memory in _sequence)
        {
            var span = memory.Span;
            int i;
            while ((i = span.IndexOfAny((byte)'\r', (byte)'\n')) >= 0)
            {
                sum += i;
                span = span[(i + 1)..];
            }
        }
        return sum;
    }

    /// <summary>The decoder alone over bytes already in memory (what it costs on top of the PipeReader).</summary>
    [Benchmark]
    public long SseDecoder_Sequence()
    {
        long sum = 0;
        var buffer = _sequence;
        while (_decoder.TryRead(ref buffer, isFinalBlock: false, out var frame)) sum += frame.Data.Length;
        while (_decoder.TryRead(ref buffer, isFinalBlock: true, out var frame)) sum += frame.Data.Length;
        return sum;
    }

    /// <summary>The decoder behind a PipeReader over the stream: the same work as SseParser (reads and copies included).</summary>
    [Benchmark]
    public async Task<long> SseDecoder_PipeReader()
    {
        long sum = 0;
        var reader = PipeReader.Create(new ChunkedStream(_data, Segment), new StreamPipeReaderOptions(bufferSize: 4096, minimumReadSize: 1024));
        while (true)
        {
            var result = await reader.ReadAsync().ConfigureAwait(false);
            var buffer = result.Buffer;
            sum += Drain(ref buffer, result.IsCompleted);
            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted) break;
        }
        await reader.CompleteAsync().ConfigureAwait(false);
        return sum;
    }

    private long Drain(ref ReadOnlySequence<byte> buffer, bool isFinalBlock)
    {
        long sum = 0;
        while (_decoder.TryRead(ref buffer, isFinalBlock, out var frame)) sum += frame.Data.Length;
        return sum;
    }
}
