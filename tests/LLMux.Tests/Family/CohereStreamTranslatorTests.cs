using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;
using LLMux.Providers;

namespace LLMux.Tests.Family;

/// <summary>Cohere v2 SSE maps to the same OpenAI chunks however the upstream bytes are split.</summary>
public sealed partial class CohereStreamTranslatorTests
{
    private const string Events =
        "event: message-start\ndata: {\"id\":\"x\",\"type\":\"message-start\",\"delta\":{\"message\":{\"role\":\"assistant\",\"content\":[]}}}\n\n"
        + "event: content-delta\ndata: {\"type\":\"content-delta\",\"index\":0,\"delta\":{\"message\":{\"content\":{\"text\":\"Héllo\"}}}}\n\n"
        + "event: content-delta\ndata: {\"type\":\"content-delta\",\"index\":0,\"delta\":{\"message\":{\"content\":{\"text\":\" ✓\"}}}}\n\n"
        + "event: tool-call-start\ndata: {\"type\":\"tool-call-start\",\"index\":0,\"delta\":{\"message\":{\"tool_calls\":{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"\"}}}}}\n\n"
        + "event: tool-call-delta\ndata: {\"type\":\"tool-call-delta\",\"index\":0,\"delta\":{\"message\":{\"tool_calls\":{\"function\":{\"arguments\":\"{\\\"a\\\":\"}}}}}\n\n"
        + "event: tool-call-delta\ndata: {\"type\":\"tool-call-delta\",\"index\":0,\"delta\":{\"message\":{\"tool_calls\":{\"function\":{\"arguments\":\"1}\"}}}}}\n\n"
        + "event: tool-call-end\ndata: {\"type\":\"tool-call-end\",\"index\":0}\n\n"
        + "event: message-end\ndata: {\"type\":\"message-end\",\"delta\":{\"finish_reason\":\"TOOL_CALL\",\"usage\":{\"billed_units\":{\"input_tokens\":1,\"output_tokens\":2},\"tokens\":{\"input_tokens\":8,\"output_tokens\":5}}}}\n\n";

    private static (string Output, LlmContext Context) Translate(byte[] input, int split)
    {
        var provider = new ProviderCatalog().Find("cohere")!;
        var context = new LlmContext
        {
            Mode = LlmMode.Chat,
            Chat = new ChatRequest { Stream = true, StreamOptions = new StreamOptions { IncludeUsage = true } },
            Deployment = new Deployment { ModelName = "m", Model = "cohere/command-r", ProviderName = "cohere", UpstreamModel = "command-r", Provider = provider, Id = "d" },
        };
        using var translator = provider.CreateStreamTranslator(context);
        var output = new ArrayBufferWriter<byte>();
        var first = new ReadOnlySequence<byte>(input, 0, split);
        translator.Decode(ref first, output);
        var rest = first.ToArray().Concat(input[split..]).ToArray();
        var second = new ReadOnlySequence<byte>(rest);
        translator.Decode(ref second, output);
        translator.Complete(second, output);
        return (Volatile().Replace(Encoding.UTF8.GetString(output.WrittenSpan), ""), context);
    }

    [GeneratedRegex("\"(id|created)\":(\"chatcmpl-[^\"]*\"|\\d+),?")]
    private static partial Regex Volatile();

    [Fact]
    public void Same_chunks_at_every_split_point()
    {
        var input = Encoding.UTF8.GetBytes(Events);
        var (expected, context) = Translate(input, input.Length);
        Assert.Contains("\"content\":\"Héllo\"", expected);
        Assert.Contains("\"name\":\"f\"", expected);
        Assert.Contains("\"arguments\":\"1}\"", expected);
        Assert.Contains("\"finish_reason\":\"tool_calls\"", expected);
        Assert.EndsWith("data: [DONE]\n\n", expected);
        Assert.Equal(8, context.Usage?.PromptTokens);
        Assert.Equal(13, context.Usage?.TotalTokens);
        for (var i = 0; i <= input.Length; i++) Assert.Equal(expected, Translate(input, i).Output);
    }

    [Fact]
    public void Stream_cut_before_message_end_is_bad_gateway()
    {
        var cut = Events[..Events.IndexOf("event: message-end", StringComparison.Ordinal)];
        var ex = Assert.Throws<LlmException>(() => Translate(Encoding.UTF8.GetBytes(cut), 0));
        Assert.Equal(ErrorKind.BadGateway, ex.Error.Kind);
    }
}
