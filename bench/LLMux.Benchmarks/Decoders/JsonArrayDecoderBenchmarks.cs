using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using LLMux.Pipeline.Streaming.Decoders;

namespace LLMux.Benchmarks.Decoders;

/// <summary>Splitting Gemini's streamed JSON array into elements, against Utf8JsonReader skipping over each element.</summary>
[MemoryDiagnoser]
public class JsonArrayDecoderBenchmarks
{
    private byte[] _data = [];
    private ReadOnlySequence<byte> _sequence;

    [Params(0, BenchInput.NetworkSegment)]
    public int Segment { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = BenchInput.Load("gemini-stream.json");
        _sequence = BenchInput.Sequence(_data, Segment);
    }

    /// <summary>Utf8JsonReader over the complete array (it cannot resume mid-element without extra state).</summary>
    [Benchmark(Baseline = true)]
    public long Utf8JsonReader_Skip()
    {
        long sum = 0;
        var reader = new Utf8JsonReader(_sequence);
        reader.Read();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var start = reader.TokenStartIndex;
            reader.Skip();
            sum += reader.BytesConsumed - start;
        }
        return sum;
    }

    [Benchmark]
    public long JsonArrayDecoder_Sequence()
    {
        long sum = 0;
        var decoder = new JsonArrayDecoder();
        var buffer = _sequence;
        while (decoder.TryRead(ref buffer, isFinalBlock: false, out var element)) sum += element.Length;
        while (decoder.TryRead(ref buffer, isFinalBlock: true, out var element)) sum += element.Length;
        return sum;
    }

    [Benchmark]
    public async Task<long> JsonArrayDecoder_PipeReader()
    {
        long sum = 0;
        var decoder = new JsonArrayDecoder();
        var reader = PipeReader.Create(new ChunkedStream(_data, Segment), new StreamPipeReaderOptions(bufferSize: 4096, minimumReadSize: 1024));
        while (true)
        {
            var result = await reader.ReadAsync().ConfigureAwait(false);
            var buffer = result.Buffer;
            sum += Drain(decoder, ref buffer, result.IsCompleted);
            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted) break;
        }
        await reader.CompleteAsync().ConfigureAwait(false);
        return sum;
    }

    private static long Drain(JsonArrayDecoder decoder, ref ReadOnlySequence<byte> buffer, bool isFinalBlock)
    {
        long sum = 0;
        while (decoder.TryRead(ref buffer, isFinalBlock, out var element)) sum += element.Length;
        return sum;
    }
}
