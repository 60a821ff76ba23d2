using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;
using LLMux.Providers.Common;
using LLMux.Providers.OpenAI;
using LLMux.Stages.Responses;

namespace LLMux.Tests.Responses;

public sealed partial class ResponsesEventTranslatorTests
{
    /// <summary>Reasoning with a signature, text with escapes and non-ASCII, a function call, a custom tool call, finish, usage.</summary>
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
        w.ToolCallStart(output, "call_b", "apply_patch", "{\"input\":\"*** Begin Patch\\n+x\\n*** End Patch\"}");
        w.Finish(output, "tool_calls");
        w.Usage(output, new Usage { PromptTokens = 30, CompletionTokens = 12, PromptTokensDetails = new PromptTokensDetails { CachedTokens = 10 }, CompletionTokensDetails = new CompletionTokensDetails { ReasoningTokens = 4 } });
        OpenAIChunkWriter.Done(output);
        return output.WrittenSpan.ToArray();
    }

    private static (ResponsesEventTranslator Translator, ResponsesStreamState State) Create()
    {
        using var request = JsonDocument.Parse("""{"model":"m","input":"x","include":["reasoning.encrypted_content"]}""");
        var shape = ResponsesApi.Shape(request.RootElement, 1700000000);
        var state = ResponsesApi.StreamState(shape);
        var tools = new BridgeTools();
        tools.AddCustom("apply_patch");
        return (new ResponsesEventTranslator(new OpenAIStreamPassthrough(new LlmContext(), "anthropic"), state, "anthropic", tools), state);
    }

    private static string TranslateSplitAt(byte[] upstream, int split)
    {
        var output = new ArrayBufferWriter<byte>();
        var (translator, _) = Create();
        using (translator)
        {
            var first = new ReadOnlySequence<byte>(upstream.AsMemory(0, split));
            translator.Decode(ref first, output);
            byte[] rest = [.. first.ToArray(), .. upstream.AsSpan(split)];
            var second = new ReadOnlySequence<byte>(rest);
            translator.Decode(ref second, output);
            translator.Complete(second, output);
        }
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    [GeneratedRegex("(resp|msg|fc|ctc|rs)_[0-9a-f]{48}")]
    private static partial Regex Ids();

    [Fact]
    public void Rich_stream_becomes_the_Responses_event_sequence()
    {
        var events = ResponsesEventStream.Parse(TranslateSplitAt(RichUpstream(), 0));
        events.AssertWellFormed();
        var output = events.Terminal.GetProperty("response").GetProperty("output");
        Assert.Equal(["reasoning", "message", "function_call", "custom_tool_call"], output.EnumerateArray().Select(static i => i.GetProperty("type").GetString()!));
        Assert.Equal("Let me \"think\"… about 😀", output[0].GetProperty("summary")[0].GetProperty("text").GetString());
        Assert.StartsWith("llmux.v1.", output[0].GetProperty("encrypted_content").GetString());
        Assert.Equal("Héllo\nwörld \\ done", output[1].GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal(("call_a", "get_weather", "{\"city\":\"Paris\"}"), (output[2].GetProperty("call_id").GetString(), output[2].GetProperty("name").GetString(), output[2].GetProperty("arguments").GetString()));
        Assert.Equal("*** Begin Patch\n+x\n*** End Patch", output[3].GetProperty("input").GetString());
        var usage = events.Terminal.GetProperty("response").GetProperty("usage");
        Assert.Equal(30, usage.GetProperty("input_tokens").GetInt32());
        Assert.Equal(10, usage.GetProperty("input_tokens_details").GetProperty("cached_tokens").GetInt32());
        Assert.Equal(12, usage.GetProperty("output_tokens").GetInt32());
        Assert.Equal(4, usage.GetProperty("output_tokens_details").GetProperty("reasoning_tokens").GetInt32());
        Assert.Equal(42, usage.GetProperty("total_tokens").GetInt32());
        Assert.Equal("gpt-upstream", events.Terminal.GetProperty("response").GetProperty("model").GetString());
        var deltas = string.Concat(events.Events.Where(static e => e.Event == "response.reasoning_summary_text.delta").Select(static e => e.Data.GetProperty("delta").GetString()));
        Assert.Equal("Let me \"think\"… about 😀", deltas);
    }

    [Fact]
    public void Events_are_the_same_when_the_upstream_bytes_split_at_every_boundary()
    {
        var upstream = RichUpstream();
        var expected = Ids().Replace(TranslateSplitAt(upstream, 0), "ID");
        for (var split = 1; split <= upstream.Length; split++)
            Assert.Equal(expected, Ids().Replace(TranslateSplitAt(upstream, split), "ID"));
    }

    [Fact]
    public void Nothing_is_written_before_the_first_chunk_and_a_stream_without_finish_is_an_error()
    {
        var output = new ArrayBufferWriter<byte>();
        var (translator, state) = Create();
        using (translator)
        {
            var empty = ReadOnlySequence<byte>.Empty;
            translator.Decode(ref empty, output);
            Assert.Equal(0, output.WrittenCount);
            Assert.False(translator.ContentStarted);
            var chunk = new ArrayBufferWriter<byte>();
            new OpenAIChunkWriter("c", "m", 1, includeUsage: false).Text(chunk, "partial");
            var seq = new ReadOnlySequence<byte>(chunk.WrittenMemory);
            translator.Decode(ref seq, output);
            Assert.True(translator.ContentStarted);
            var ex = Assert.Throws<LlmException>(() => translator.Complete(ReadOnlySequence<byte>.Empty, output));
            Assert.Equal(ErrorKind.BadGateway, ex.Error.Kind);
            state.WriteFailure(output, ex.Error);
        }
        var events = ResponsesEventStream.Parse(Encoding.UTF8.GetString(output.WrittenSpan));
        events.AssertWellFormed();
        Assert.Equal("response.failed", events.Events[^1].Event);
    }

    /// <summary>A native Responses stream as OpenAI sends it, with obfuscation padding and a frame-split-prone multi-byte text.</summary>
    private static byte[] NativeUpstream()
    {
        var sb = new StringBuilder();
        var seq = 0;
        void Event(string type, string rest) => sb.Append($"event: {type}\ndata: {{\"type\":\"{type}\",\"sequence_number\":{seq++},{rest}}}\n\n");
        Event("response.created", "\"response\":{\"id\":\"resp_1\",\"status\":\"in_progress\",\"output\":[],\"usage\":null}");
        Event("response.output_text.delta", "\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\"héllo 😀\",\"logprobs\":[],\"obfuscation\":\"ab\"");
        Event("response.completed", "\"response\":{\"id\":\"resp_1\",\"status\":\"completed\",\"output\":[],\"usage\":{\"input_tokens\":5,\"input_tokens_details\":{\"cached_tokens\":2},\"output_tokens\":3,\"output_tokens_details\":{\"reasoning_tokens\":1},\"total_tokens\":8}}");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    [Fact]
    public void Native_frames_pass_byte_for_byte_at_every_split_and_usage_is_read()
    {
        var upstream = NativeUpstream();
        for (var split = 0; split <= upstream.Length; split++)
        {
            var context = new LlmContext();
            var output = new ArrayBufferWriter<byte>();
            using (var translator = new OpenAIResponsesPassthrough(context, "openai"))
            {
                var first = new ReadOnlySequence<byte>(upstream.AsMemory(0, split));
                translator.Decode(ref first, output);
                byte[] rest = [.. first.ToArray(), .. upstream.AsSpan(split)];
                var second = new ReadOnlySequence<byte>(rest);
                translator.Decode(ref second, output);
                translator.Complete(second, output);
            }
            Assert.Equal(upstream, output.WrittenSpan.ToArray());
            Assert.Equal((5L, 3L, 8L, 2L, 1L), (context.Usage!.PromptTokens, context.Usage.CompletionTokens, context.Usage.TotalTokens, context.Usage.CachedTokens, context.Usage.ReasoningTokens));
        }
    }
}
