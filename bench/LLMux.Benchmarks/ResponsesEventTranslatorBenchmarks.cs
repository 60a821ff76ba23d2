using System.Buffers;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Wire;
using LLMux.Providers.Common;
using LLMux.Providers.OpenAI;
using LLMux.Stages.Messages;
using LLMux.Stages.Responses;

namespace LLMux.Benchmarks;

/// <summary>
/// /v1/responses streaming through the chat bridge: the same OpenAI-compatible upstream stream (200 text chunks,
/// a tool call, finish, usage, [DONE]) as chat chunks (the OpenAI passthrough, baseline), as Responses events,
/// and as Anthropic events (the other inbound translator). Divide by 200 for the cost per streamed event.
/// </summary>
[MemoryDiagnoser]
public class ResponsesEventTranslatorBenchmarks
{
    private const int Chunks = 200;
    private byte[] _upstream = [];
    private readonly ArrayBufferWriter<byte> _output = new(1 << 20);
    private ResponseShape _shape = null!;
    private readonly BridgeTools _tools = new();

    [GlobalSetup]
    public void Setup()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var w = new OpenAIChunkWriter("chatcmpl-bench", "gpt-4o-mini", 1700000000, includeUsage: true);
        w.Text(buffer, "");
        for (var i = 0; i < Chunks; i++) w.Text(buffer, "a few words of text ");
        var call = w.ToolCallStart(buffer, "call_bench", "exec_command");
        w.ToolCallArguments(buffer, call, "{\"cmd\":\"ls -la\"}");
        w.Finish(buffer, "tool_calls");
        w.Usage(buffer, new Usage { PromptTokens = 100, CompletionTokens = 800 });
        OpenAIChunkWriter.Done(buffer);
        _upstream = buffer.WrittenSpan.ToArray();
        using var request = JsonDocument.Parse("""{"model":"gpt-5-codex","input":"hi","stream":true,"store":false,"tools":[{"type":"function","name":"exec_command","parameters":{"type":"object"}}]}""");
        _shape = ResponsesApi.Shape(request.RootElement, 1700000000);
    }

    [Benchmark(Baseline = true)]
    public long ChatChunks()
    {
        _output.ResetWrittenCount();
        using var translator = new OpenAIStreamPassthrough(new LlmContext(), "openai");
        return Run(translator);
    }

    [Benchmark]
    public long ResponsesEvents()
    {
        _output.ResetWrittenCount();
        using var translator = new ResponsesEventTranslator(new OpenAIStreamPassthrough(new LlmContext(), "openai"), ResponsesApi.StreamState(_shape), "openai", _tools);
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
