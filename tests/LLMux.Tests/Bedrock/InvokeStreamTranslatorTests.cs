using System.Buffers;
using System.Text;
using LLMux.Emulators;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;
using LLMux.Providers.Bedrock;
using LLMux.Tests.Decoders;

namespace LLMux.Tests.Bedrock;

/// <summary>The InvokeModelWithResponseStream translator fed eventstream bytes directly, split at every position.</summary>
public sealed class InvokeStreamTranslatorTests
{
    private static readonly BedrockScript Rich = new()
    {
        Claude = new AnthropicScript
        {
            Text = "Héllo, wörld — tools next",
            Chunks = 3,
            Thinking = "Let me think.",
            Signature = "EqQBCgIYAhIMsigXYZ",
            ToolCalls = [("toolu_01", "get_weather", """{"city":"Paris"}""")],
            InputTokens = 30,
            OutputTokens = 11,
            CacheReadTokens = 5,
            CacheCreationTokens = 2,
        },
    };

    private static byte[] Bytes(BedrockScript s) => BedrockEmulator.InvokeStreamMessages("anthropic.claude-sonnet-4-5-20250929-v1:0", "msg_1", s).SelectMany(static m => m).ToArray();

    private static LlmContext Context(bool passthrough) => new()
    {
        TimeProvider = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero)),
        MessagesPassthrough = passthrough,
        Chat = passthrough ? null : new ChatRequest { Stream = true, StreamOptions = new StreamOptions { IncludeUsage = true } },
    };

    private static string Translate(byte[] data, IReadOnlyList<int> cuts, bool passthrough, LlmContext? context = null)
    {
        context ??= Context(passthrough);
        using var translator = new InvokeStreamTranslator(context, jsonTool: false);
        var output = new ArrayBufferWriter<byte>();
        var start = 0;
        var buffer = ReadOnlySequence<byte>.Empty;
        foreach (var cut in cuts.Append(data.Length))
        {
            var unconsumed = new List<ReadOnlyMemory<byte>>();
            foreach (var m in buffer) unconsumed.Add(m);
            unconsumed.Add(data.AsMemory(start, cut - start));
            buffer = PipeLoop.Sequence(unconsumed);
            translator.Decode(ref buffer, output);
            start = cut;
        }
        translator.Complete(buffer, output);
        return System.Text.RegularExpressions.Regex.Replace(Encoding.UTF8.GetString(output.WrittenSpan), "\"id\":\"(msg|chatcmpl)-?[0-9a-f_]+\"", "\"id\":\"X\"");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Output_is_identical_at_every_split_position(bool passthrough)
    {
        var data = Bytes(Rich);
        var whole = Translate(data, [], passthrough);
        for (var cut = 1; cut < data.Length; cut++)
            Assert.Equal(whole, Translate(data, [cut], passthrough));
        Assert.Equal(whole, Translate(data, Enumerable.Range(1, data.Length - 1).ToArray(), passthrough));
    }

    [Fact]
    public void Passthrough_writes_each_anthropic_event_with_its_event_line_and_the_signature_untouched()
    {
        var context = Context(passthrough: true);
        var sse = Translate(Bytes(Rich), [], passthrough: true, context);
        var frames = sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        var expected = AnthropicEmulator.Events("msg_1", "anthropic.claude-sonnet-4-5-20250929-v1:0", Rich.Claude);
        Assert.Equal(expected.Count, frames.Length);
        for (var i = 0; i < frames.Length; i++)
        {
            Assert.StartsWith("event: " + expected[i].Event + "\ndata: ", frames[i]);
        }
        Assert.Contains("\"signature\":\"EqQBCgIYAhIMsigXYZ\"", sse);
        Assert.Equal("event: message_stop\ndata: {\"type\":\"message_stop\"}", frames[^1]);
        Assert.DoesNotContain("invocationMetrics", sse);
        Assert.Equal(30 + 5 + 2, context.Usage!.PromptTokens);
        Assert.Equal(11, context.Usage.CompletionTokens);
        Assert.Equal(5, context.Usage.PromptTokensDetails?.CachedTokens);
    }

    [Fact]
    public void Chat_completions_get_openai_chunks_with_the_tool_call_and_cache_usage()
    {
        var sse = Translate(Bytes(Rich), [], passthrough: false);
        var reasoning = string.Concat(System.Text.RegularExpressions.Regex.Matches(sse, "\"reasoning_content\":\"([^\"]*)\"").Select(static m => m.Groups[1].Value));
        Assert.Equal("Let me think.", reasoning);
        Assert.Contains("\"name\":\"get_weather\"", sse);
        Assert.Contains("\"finish_reason\":\"tool_calls\"", sse);
        Assert.Contains("\"prompt_tokens\":37", sse);
        Assert.Contains("\"cached_tokens\":5", sse);
        Assert.EndsWith("data: [DONE]\n\n", sse);
    }

    [Fact]
    public void A_throttling_exception_after_the_first_event_is_a_rate_limit_error()
    {
        var data = Bytes(Rich with { StreamException = (2, "throttlingException", "Too many tokens, please wait before trying again.") });
        var ex = Assert.Throws<LlmException>(() => Translate(data, [], passthrough: true));
        Assert.Equal(ErrorKind.RateLimit, ex.Error.Kind);
        Assert.Equal("bedrock", ex.Error.Provider);
    }

    [Fact]
    public void A_stream_cut_before_message_stop_is_an_error_not_a_clean_end()
    {
        var data = Bytes(Rich with { TruncateAfter = 2 });
        var ex = Assert.Throws<LlmException>(() => Translate(data, [], passthrough: true));
        Assert.Equal(ErrorKind.BadGateway, ex.Error.Kind);
        Assert.Contains("message_stop", ex.Error.Message);
    }
}
