using System.Buffers;
using System.Diagnostics;
using System.Net.ServerSentEvents;
using System.Text.Json;
using LLMux.Pipeline.Streaming.Decoders;
using Aws = Amazon.Runtime.EventStreams;

namespace LLMux.Benchmarks.Decoders;

/// <summary>
/// A cross-check of the decoder ratios for busy machines: baseline and candidate run interleaved in rounds, timed by
/// process CPU time (which excludes time the OS gave to other processes), best round of each kept.
/// Run: <c>dotnet run -c Release --project bench/LLMux.Benchmarks -- cputime</c>.
/// </summary>
internal static class DecoderCpuTime
{
    public static void Run()
    {
        Console.WriteLine("| Stream | Segment | Baseline | Baseline µs | LLMux decoder µs | Speed-up | Newline-scan floor µs |");
        Console.WriteLine("|---|---|---|---:|---:|---:|---:|");
        foreach (var file in new[] { "openai-chat-tools.sse", "anthropic-messages.sse" })
        {
            var data = BenchInput.Load(file);
            foreach (var segment in new[] { 0, BenchInput.NetworkSegment })
            {
                var sequence = BenchInput.Sequence(data, segment);
                using var decoder = new SseDecoder();
                long Parser()
                {
                    long sum = 0;
                    foreach (var item in SseParser.Create(new ChunkedStream(data, segment), static (_, d) => d.Length).Enumerate()) sum += item.Data;
                    return sum;
                }
                long Ours()
                {
                    long sum = 0;
                    var buffer = sequence;
                    while (decoder.TryRead(ref buffer, false, out var frame)) sum += frame.Data.Length;
                    while (decoder.TryRead(ref buffer, true, out var frame)) sum += frame.Data.Length;
                    return sum;
                }
                long Floor()
                {
                    long sum = 0;
                    foreach (var memory in sequence)
                    {
                        var span = memory.Span;
                        int i;
                        while ((i = span.IndexOfAny((byte)'\r', (byte)'\n')) >= 0) { sum += i; span = span[(i + 1)..]; }
                    }
                    return sum;
                }
                if (Parser() != Ours()) throw new InvalidOperationException($"{file}: decoders disagree");
                var (baseline, ours, floor) = Compare(Parser, Ours, Floor);
                Console.WriteLine($"| {file} | {segment} | SseParser | {baseline:F2} | {ours:F2} | {baseline / ours:F2}× | {floor:F2} |");
            }
        }

        var bedrock = BenchInput.Load("bedrock-converse.bin");
        foreach (var segment in new[] { 0, BenchInput.NetworkSegment })
        {
            var sequence = BenchInput.Sequence(bedrock, segment);
            var decoder = new EventStreamDecoder();
            var readBuffer = new byte[segment == 0 ? bedrock.Length : segment];
            long awsSum = 0;
            var aws = new Aws.Internal.EventStreamDecoder();
            aws.MessageReceived += (_, e) => awsSum += e.Message.Payload.Length;
            long Sdk()
            {
                awsSum = 0;
                for (var at = 0; at < bedrock.Length; at += readBuffer.Length)
                {
                    var length = Math.Min(readBuffer.Length, bedrock.Length - at);
                    bedrock.AsSpan(at, length).CopyTo(readBuffer);
                    aws.ProcessData(readBuffer, 0, length);
                }
                return awsSum;
            }
            long Ours()
            {
                long sum = 0;
                var buffer = sequence;
                while (decoder.TryRead(ref buffer, false, out var message)) sum += message.Payload.Length;
                return sum;
            }
            if (Sdk() != Ours()) throw new InvalidOperationException("eventstream decoders disagree");
            var (baseline, ours, _) = Compare(Sdk, Ours, null);
            Console.WriteLine($"| bedrock-converse.bin | {segment} | AWS SDK EventStreamDecoder | {baseline:F2} | {ours:F2} | {baseline / ours:F2}× | |");
        }

        var gemini = BenchInput.Load("gemini-stream.json");
        foreach (var segment in new[] { 0, BenchInput.NetworkSegment })
        {
            var sequence = BenchInput.Sequence(gemini, segment);
            long Reader()
            {
                long sum = 0;
                var reader = new Utf8JsonReader(sequence);
                reader.Read();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    var start = reader.TokenStartIndex;
                    reader.Skip();
                    sum += reader.BytesConsumed - start;
                }
                return sum;
            }
            long Ours()
            {
                long sum = 0;
                var decoder = new JsonArrayDecoder();
                var buffer = sequence;
                while (decoder.TryRead(ref buffer, true, out var element)) sum += element.Length;
                return sum;
            }
            if (Reader() != Ours()) throw new InvalidOperationException("JSON array decoders disagree");
            var (baseline, ours, _) = Compare(Reader, Ours, null);
            Console.WriteLine($"| gemini-stream.json | {segment} | Utf8JsonReader.Skip | {baseline:F2} | {ours:F2} | {baseline / ours:F2}× | |");
        }
    }

    private static (double Baseline, double Ours, double Floor) Compare(Func<long> baseline, Func<long> ours, Func<long>? floor)
    {
        const int PerRound = 2000;
        double bestBaseline = double.MaxValue, bestOurs = double.MaxValue, bestFloor = double.MaxValue;
        for (var round = 0; round < 8; round++)
        {
            bestBaseline = Math.Min(bestBaseline, CpuMicroseconds(baseline, PerRound));
            bestOurs = Math.Min(bestOurs, CpuMicroseconds(ours, PerRound));
            if (floor is not null) bestFloor = Math.Min(bestFloor, CpuMicroseconds(floor, PerRound));
        }
        return (bestBaseline, bestOurs, bestFloor);
    }

    private static double CpuMicroseconds(Func<long> action, int count)
    {
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var start = process.TotalProcessorTime;
        long sink = 0;
        for (var i = 0; i < count; i++) sink += action();
        process.Refresh();
        GC.KeepAlive(sink);
        return (process.TotalProcessorTime - start).TotalMicroseconds / count;
    }
}
