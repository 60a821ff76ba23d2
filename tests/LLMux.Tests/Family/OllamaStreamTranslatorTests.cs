using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Wire;
using LLMux.Providers;

namespace LLMux.Tests.Family;

/// <summary>The Ollama NDJSON stream maps to the same OpenAI chunks however the upstream bytes are split.</summary>
public sealed partial class OllamaStreamTranslatorTests
{
    private static string Translate(byte[] input, int split)
    {
        var provider = new ProviderCatalog().Find("ollama_chat")!;
        var context = new LlmContext
        {
            Mode = LlmMode.Chat,
            Chat = new ChatRequest { Stream = true, StreamOptions = new StreamOptions { IncludeUsage = true } },
            Deployment = new Deployment { ModelName = "m", Model = "ollama_chat/llama3.2", ProviderName = "ollama_chat", UpstreamModel = "llama3.2", Provider = provider, Id = "d" },
        };
        using var translator = provider.CreateStreamTranslator(context);
        var output = new ArrayBufferWriter<byte>();
        var first = new ReadOnlySequence<byte>(input, 0, split);
        translator.Decode(ref first, output);
        var rest = first.ToArray().Concat(input[split..]).ToArray();
        var second = new ReadOnlySequence<byte>(rest);
        translator.Decode(ref second, output);
        translator.Complete(second, output);
        Assert.Equal(13, context.Usage?.TotalTokens);
        return Volatile().Replace(Encoding.UTF8.GetString(output.WrittenSpan), "");
    }

    [GeneratedRegex("\"(id|created)\":(\"[^\"]*\"|\\d+),?")]
    private static partial Regex Volatile();

    [Fact]
    public void Same_chunks_at_every_split_point()
    {
        var input = Encoding.UTF8.GetBytes(string.Join("\n", NdjsonDecoderTests.OllamaLines) + "\n");
        var expected = Translate(input, input.Length);
        Assert.Contains("\"content\":\"Hel\"", expected);
        Assert.Contains("\"finish_reason\":\"stop\"", expected);
        Assert.EndsWith("data: [DONE]\n\n", expected);
        for (var i = 0; i <= input.Length; i++) Assert.Equal(expected, Translate(input, i));
    }
}
