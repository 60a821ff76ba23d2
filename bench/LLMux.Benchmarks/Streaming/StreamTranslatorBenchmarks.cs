using System.Buffers;
using BenchmarkDotNet.Attributes;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Streaming;
using LLMux.Pipeline.Streaming.Decoders;
using LLMux.Pipeline.Wire;
using LLMux.Providers.Anthropic;
using LLMux.Providers.Gemini;
using LLMux.Providers.OpenAI;

namespace LLMux.Benchmarks.Streaming;

/// <summary>
/// Per upstream event: decode + map to the client's OpenAI chunks, fed in 1,460-byte network segments as the
/// pump feeds them. Each benchmark's operation is one upstream event, so "Allocated" is bytes per chunk.
/// The baseline only decodes the same SSE stream (no mapping).
/// </summary>
[MemoryDiagnoser]
public class StreamTranslatorBenchmarks
{
    private const int OpenAIFrames = 171;
    private const int AnthropicEvents = 151;
    private const int GeminiElements = 32;
    private const int BedrockMessages = 149;

    private byte[] _openai = null!;
    private byte[] _anthropic = null!;
    private byte[] _gemini = null!;
    private byte[] _bedrock = null!;
    private readonly ArrayBufferWriter<byte> _output = new(1 << 20);
    private LlmContext _openaiContext = null!;
    private LlmContext _anthropicContext = null!;
    private LlmContext _geminiContext = null!;
    private LlmContext _bedrockContext = null!;
    private OpenAIProvider _openaiProvider = null!;
    private AnthropicProvider _anthropicProvider = null!;
    private GeminiProvider _geminiProvider = null!;
    private LLMux.Providers.Bedrock.BedrockProvider _bedrockProvider = null!;

    [GlobalSetup]
    public void Setup()
    {
        _openai = File.ReadAllBytes(DataFile("openai-chat-tools.sse"));
        _anthropic = File.ReadAllBytes(DataFile("anthropic-messages.sse"));
        _gemini = File.ReadAllBytes(DataFile("gemini-stream.json"));
        _bedrock = File.ReadAllBytes(DataFile("bedrock-converse.bin"));
        _bedrockProvider = new LLMux.Providers.Bedrock.BedrockProvider();
        _bedrockContext = Context(_bedrockProvider, "bedrock", "converse/anthropic.claude-3-haiku-20240307-v1:0");
        _openaiProvider = new OpenAIProvider();
        _anthropicProvider = new AnthropicProvider();
        _geminiProvider = new GeminiProvider();
        _openaiContext = Context(_openaiProvider, "openai", "gpt-4o-mini");
        _anthropicContext = Context(_anthropicProvider, "anthropic", "claude-sonnet-4-5");
        _geminiContext = Context(_geminiProvider, "gemini", "gemini-2.5-flash");
        // Gemini picks its decoder from the upstream content type: JSON array here.
        var content = new ByteArrayContent([]);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        _geminiContext.UpstreamResponse = new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = content };
    }

    private static LlmContext Context(LlmProvider provider, string name, string model) => new()
    {
        Mode = LlmMode.Chat,
        IsStream = true,
        Chat = new ChatRequest { Model = "m", Stream = true, StreamOptions = new StreamOptions { IncludeUsage = true }, Messages = [] },
        Deployment = new Deployment { ModelName = "m", Model = name + "/" + model, ProviderName = name, UpstreamModel = model, Provider = provider, Id = "d" },
    };

    internal static string DataFile(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "bench", "data", name);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("bench/data/" + name);
    }

    /// <summary>Feeds the bytes in network-sized pieces, keeping unconsumed bytes as a PipeReader would.</summary>
    private int Pump(StreamTranslator translator, byte[] data)
    {
        _output.ResetWrittenCount();
        var pending = 0;
        var start = 0;
        while (start + pending < data.Length)
        {
            pending = Math.Min(pending + 1460, data.Length - start);
            var buffer = new ReadOnlySequence<byte>(data, start, pending);
            translator.Decode(ref buffer, _output);
            var consumed = pending - (int)buffer.Length;
            start += consumed;
            pending -= consumed;
        }
        translator.Complete(new ReadOnlySequence<byte>(data, start, pending), _output);
        translator.Dispose();
        return _output.WrittenCount;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = OpenAIFrames, Description = "SSE decode only (OpenAI stream)")]
    public int DecodeOnly()
    {
        using var decoder = new SseDecoder();
        var frames = 0;
        var buffer = new ReadOnlySequence<byte>(_openai);
        while (decoder.TryRead(ref buffer, isFinalBlock: true, out _)) frames++;
        return frames;
    }

    [Benchmark(OperationsPerInvoke = OpenAIFrames, Description = "OpenAI → OpenAI passthrough")]
    public int OpenAIPassthrough() => Pump(_openaiProvider.CreateStreamTranslator(_openaiContext), _openai);

    [Benchmark(OperationsPerInvoke = AnthropicEvents, Description = "Anthropic → OpenAI chunks")]
    public int AnthropicTranslate() => Pump(_anthropicProvider.CreateStreamTranslator(_anthropicContext), _anthropic);

    [Benchmark(OperationsPerInvoke = GeminiElements, Description = "Gemini (JSON array) → OpenAI chunks")]
    public int GeminiTranslate() => Pump(_geminiProvider.CreateStreamTranslator(_geminiContext), _gemini);

    [Benchmark(OperationsPerInvoke = BedrockMessages, Description = "Bedrock (eventstream) → OpenAI chunks")]
    public int BedrockTranslate() => Pump(_bedrockProvider.CreateStreamTranslator(_bedrockContext), _bedrock);
}
