using System.Buffers;
using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;
using LLMux.Providers.Common;

namespace LLMux.Tests.Messages;

public sealed class AnthropicEventTranslatorTests
{
    /// <summary>Reasoning with a signature, text with escapes and non-ASCII, two tool calls, finish, usage with cache reads.</summary>
    private static byte[] RichUpstream()
    {
        var output = new ArrayBufferWriter<byte>();
        var w = new OpenAIChunkWriter("chatcmpl-1", "gpt-upstream", 1700000000, includeUsage: true);
        w.Text(output, "");
        w.Reasoning(output, "Let me \"think\"…");
        w.Reasoning(output, " about 😀", "sig-123");
        w.Text(output, "Héllo\n");
        w.Text(output, "wörld \\ done");
        var first = w.ToolCallStart(output, "call_a", "get_weather");
        w.ToolCallArguments(output, first, "{\"city\":");
        w.ToolCallArguments(output, first, "\"Paris\"}");
        w.ToolCallStart(output, "call_b", "get_time", "{}");
        w.Finish(output, "stop");
        w.Usage(output, new Usage { PromptTokens = 30, CompletionTokens = 12, PromptTokensDetails = new PromptTokensDetails { CachedTokens = 10 } });
        OpenAIChunkWriter.Done(output);
        return output.WrittenSpan.ToArray();
    }

    [Fact]
    public void Rich_stream_becomes_ordered_blocks_with_stop_reason_and_usage()
    {
        var (events, error) = AnthropicEventStream.Translate(RichUpstream(), int.MaxValue);
        Assert.Null(error);
        var blocks = AnthropicEventStream.AssertValid(events, complete: true);

        Assert.Equal(["thinking", "text", "tool_use", "tool_use"], blocks.Select(static b => b.Type));
        Assert.Equal("Let me \"think\"… about 😀", blocks[0].Text);
        Assert.Equal("llmux1:openai:sig-123", blocks[0].Signature); // tagged with the provider that signed it
        Assert.Equal("Héllo\nwörld \\ done", blocks[1].Text);
        Assert.Equal(("call_a", "get_weather", "{\"city\":\"Paris\"}"), (blocks[2].Id, blocks[2].Name, blocks[2].Text));
        Assert.Equal(("call_b", "get_time", "{}"), (blocks[3].Id, blocks[3].Name, blocks[3].Text));

        Assert.Equal("gpt-upstream", (string?)events[0].Data["message"]!["model"]);
        var delta = events.Single(static e => e.Name == "message_delta").Data;
        Assert.Equal("tool_use", (string?)delta["delta"]!["stop_reason"]);
        Assert.Equal(20, (int)delta["usage"]!["input_tokens"]!);
        Assert.Equal(10, (int)delta["usage"]!["cache_read_input_tokens"]!);
        Assert.Equal(12, (int)delta["usage"]!["output_tokens"]!);
    }

    [Fact]
    public void Stream_events_are_the_same_when_the_upstream_bytes_split_at_every_boundary()
    {
        var upstream = RichUpstream();
        var (whole, _) = AnthropicEventStream.Translate(upstream, int.MaxValue);
        var expected = AnthropicEventStream.Normalised(whole);
        for (var split = 0; split <= upstream.Length; split++)
        {
            var (events, error) = AnthropicEventStream.TranslateSplitAt(upstream, split);
            Assert.Null(error);
            Assert.Equal(expected, AnthropicEventStream.Normalised(events));
        }
        var (trickle, trickleError) = AnthropicEventStream.Translate(upstream, 1);
        Assert.Null(trickleError);
        Assert.Equal(expected, AnthropicEventStream.Normalised(trickle));
    }

    [Theory]
    [InlineData("stop", "end_turn")]
    [InlineData("length", "max_tokens")]
    [InlineData("tool_calls", "tool_use")]
    [InlineData("content_filter", "refusal")]
    [InlineData("something_new", "end_turn")]
    public void Finish_reason_maps_to_stop_reason(string finish, string stopReason)
    {
        var output = new ArrayBufferWriter<byte>();
        var w = new OpenAIChunkWriter("c", "m", 1, includeUsage: false);
        w.Text(output, "hi");
        w.Finish(output, finish);
        OpenAIChunkWriter.Done(output);
        var (events, error) = AnthropicEventStream.Translate(output.WrittenSpan.ToArray(), int.MaxValue);
        Assert.Null(error);
        AnthropicEventStream.AssertValid(events, complete: true);
        Assert.Equal(stopReason, (string?)events.Single(static e => e.Name == "message_delta").Data["delta"]!["stop_reason"]);
    }

    [Fact]
    public void Redacted_thinking_is_a_block_of_its_own()
    {
        var upstream = Encoding.UTF8.GetBytes(
            "data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"thinking_blocks\":[{\"type\":\"redacted_thinking\",\"data\":\"opaque==\"}]},\"finish_reason\":null}]}\n\n" +
            "data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"},\"finish_reason\":null}]}\n\n" +
            "data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n" +
            "data: [DONE]\n\n");
        var (events, error) = AnthropicEventStream.Translate(upstream, int.MaxValue);
        Assert.Null(error);
        var blocks = AnthropicEventStream.AssertValid(events, complete: true);
        Assert.Equal(["redacted_thinking", "text"], blocks.Select(static b => b.Type));
        Assert.Equal("llmux1:openai:opaque==", blocks[0].Text);
    }

    [Fact]
    public void Stream_that_ends_without_a_finish_reason_is_a_bad_gateway_error_and_never_a_message_stop()
    {
        var output = new ArrayBufferWriter<byte>();
        var w = new OpenAIChunkWriter("c", "m", 1, includeUsage: false);
        w.Text(output, "partial");
        OpenAIChunkWriter.Done(output); // [DONE] without any finish_reason
        var (events, error) = AnthropicEventStream.Translate(output.WrittenSpan.ToArray(), int.MaxValue);
        Assert.NotNull(error);
        Assert.Equal(ErrorKind.BadGateway, error.Error.Kind);
        AnthropicEventStream.AssertValid(events, complete: false);
    }

    [Fact]
    public void Upstream_error_event_before_content_writes_nothing_so_the_host_can_answer_with_a_status()
    {
        var upstream = Encoding.UTF8.GetBytes(
            "data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n" +
            "data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n");
        var (events, error) = AnthropicEventStream.Translate(upstream, int.MaxValue);
        Assert.NotNull(error);
        Assert.Empty(events);
    }

    [Fact]
    public void Upstream_error_after_content_keeps_the_content_already_translated()
    {
        var upstream = Encoding.UTF8.GetBytes(
            "data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n" +
            "data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n");
        var (events, error) = AnthropicEventStream.Translate(upstream, int.MaxValue);
        Assert.NotNull(error);
        var blocks = AnthropicEventStream.AssertValid(events, complete: false);
        Assert.Equal("Hel", Assert.Single(blocks).Text);
    }

    [Fact]
    public void Empty_answer_still_is_a_complete_message()
    {
        var output = new ArrayBufferWriter<byte>();
        var w = new OpenAIChunkWriter("c", "m", 1, includeUsage: false);
        w.Text(output, "");
        w.Finish(output, "length");
        OpenAIChunkWriter.Done(output);
        var (events, error) = AnthropicEventStream.Translate(output.WrittenSpan.ToArray(), int.MaxValue);
        Assert.Null(error);
        Assert.Empty(AnthropicEventStream.AssertValid(events, complete: true));
        Assert.Equal(["message_start", "ping", "message_delta", "message_stop"], events.Select(static e => e.Name));
        Assert.Equal("requested-model", (string?)events[0].Data["message"]!["model"]);
    }
}
