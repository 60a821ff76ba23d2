using System.Buffers;
using BenchmarkDotNet.Attributes;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Wire;
using LLMux.Providers.Common;
using LLMux.Providers.OpenAI;
using LLMux.Stages.Messages;

namespace LLMux.Benchmarks;

/// <summary>
/// /v1/messages streaming over an OpenAI-compatible upstream: the OpenAI passthrough alone (baseline) versus
/// the same stream turned into Anthropic events. 200 text chunks, then finish, usage and [DONE].
/// </summary>
[MemoryDiagnoser]
public class AnthropicEventTranslatorBenchmarks
{
    private const int Chunks = 200;
    private byte[] _upstream = [];
    private readonly ArrayBufferWriter<byte> _output = new(1 << 20);

    [GlobalSetup]
    public void Setup()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var w = new OpenAIChunkWriter("chatcmpl-bench", "gpt-4o-mini", 1700000000, includeUsage: true);
        w.Text(buffer, "");
        for (var i = 0; i < Chunks; i++) w.Text(buffer, "a few words of text ");
        w.Finish(buffer, "stop");
        w.Usage(buffer, new Usage { PromptTokens = 100, CompletionTokens = 800 });
        OpenAIChunkWriter.Done(buffer);
        _upstream = buffer.WrittenSpan.ToArray();
    }

    [Benchmark(Baseline = true)]
    public long OpenAIPassthrough()
    {
        _output.ResetWrittenCount();
        using var translator = new OpenAIStreamPassthrough(new LlmContext(), "openai");
        return Run(translator);
    }

    [Benchmark]
    public long AnthropicEvents()
    {
        _output.ResetWrittenCount();
        using var translator = new AnthropicEventTranslator(new OpenAIStreamPassthrough(new LlmContext(), "openai"), "gpt-test", "openai");
        return Run(translator);
    }

    private long Run(global::LLMux.Pipeline.Streaming.StreamTranslator translator)
    {
        var seq = new ReadOnlySequence<byte>(_upstream);
        translator.Decode(ref seq, _output);
        translator.Complete(seq, _output);
        return _output.WrittenCount;
    }
}
