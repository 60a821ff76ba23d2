using System.Buffers;
using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using LLMux.Pipeline.Streaming.Decoders;
using Aws = Amazon.Runtime.EventStreams;

namespace LLMux.Benchmarks.Decoders;

/// <summary>AWS eventstream decoding of a Bedrock ConverseStream capture, against the AWS SDK for .NET's decoder.</summary>
[MemoryDiagnoser]
public class EventStreamDecoderBenchmarks
{
    private byte[] _data = [];
    private ReadOnlySequence<byte> _sequence;
    private readonly EventStreamDecoder _decoder = new();
    private Aws.Internal.EventStreamDecoder _aws = null!;
    private byte[] _readBuffer = [];
    private long _awsSum;

    [Params(0, BenchInput.NetworkSegment)]
    public int Segment { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = BenchInput.Load("bedrock-converse.bin");
        _sequence = BenchInput.Sequence(_data, Segment);
        _readBuffer = new byte[Segment == 0 ? _data.Length : Segment];
        _aws = new Aws.Internal.EventStreamDecoder();
        _aws.MessageReceived += (_, e) => _awsSum += e.Message.Payload.Length;
    }

    /// <summary>
    /// The SDK's decoder fed the way its network loop feeds it: each read lands at offset 0 of a read buffer.
    /// (AWSSDK.Core 4.1.0 mis-decodes when ProcessData is given a non-zero offset, so the bytes are copied first.)
    /// </summary>
    [Benchmark(Baseline = true)]
    public long AwsSdk_EventStreamDecoder()
    {
        _awsSum = 0;
        var step = _readBuffer.Length;
        for (var at = 0; at < _data.Length; at += step)
        {
            var length = Math.Min(step, _data.Length - at);
            _data.AsSpan(at, length).CopyTo(_readBuffer);
            _aws.ProcessData(_readBuffer, 0, length);
        }
        return _awsSum;
    }

    [Benchmark]
    public long EventStreamDecoder_Sequence()
    {
        long sum = 0;
        var buffer = _sequence;
        while (_decoder.TryRead(ref buffer, isFinalBlock: false, out var message)) sum += message.Payload.Length;
        while (_decoder.TryRead(ref buffer, isFinalBlock: true, out var message)) sum += message.Payload.Length;
        return sum;
    }

    [Benchmark]
    public async Task<long> EventStreamDecoder_PipeReader()
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
        while (_decoder.TryRead(ref buffer, isFinalBlock, out var message)) sum += message.Payload.Length;
        return sum;
    }
}
