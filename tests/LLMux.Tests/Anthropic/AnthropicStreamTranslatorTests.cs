using System.Buffers;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Pipeline.Errors;
using LLMux.Providers.Anthropic;
using static LLMux.Tests.Anthropic.AnthropicTestContext;

namespace LLMux.Tests.Anthropic;

/// <summary>The Anthropic SSE → OpenAI chunk mapping, fed directly with upstream bytes.</summary>
public sealed class AnthropicStreamTranslatorTests
{
    private const string Request = """{"model":"claude","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}""";

    private static readonly AnthropicScript Everything = new()
    {
        Thinking = "Think \"hard\" — é ✓",
        Text = "Héllo, wörld! 🌍 Done.",
        ToolCalls = [("toolu_01", "get_weather", """{"city":"Zürich"}"""), ("toolu_02", "get_time", "{}")],
        Chunks = 5,
        CacheCreationTokens = 3,
        CacheReadTokens = 40,
    };

    private static byte[] Body(AnthropicScript script) => Encoding.UTF8.GetBytes(AnthropicEmulator.StreamBody("msg_01", "claude-sonnet-4-5", script));

    /// <summary>Feeds the bytes in two reads split at <paramref name="split"/>, as a pipe delivers them.</summary>
    private static string TranslateSplit(byte[] bytes, int split, string request = Request)
    {
        var context = Create(request);
        using var translator = new AnthropicStreamTranslator(context, jsonTool: false);
        var output = new ArrayBufferWriter<byte>();
        var first = new ReadOnlySequence<byte>(bytes, 0, split);
        translator.Decode(ref first, output);
        var rest = new byte[first.Length + bytes.Length - split];
        first.CopyTo(rest);
        bytes.AsSpan(split).CopyTo(rest.AsSpan((int)first.Length));
        var second = new ReadOnlySequence<byte>(rest);
        translator.Decode(ref second, output);
        translator.Complete(second, output);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    /// <summary>Feeds the bytes in one read of a two-segment sequence split at <paramref name="split"/>.</summary>
    private static string TranslateSegmented(byte[] bytes, int split)
    {
        var context = Create(Request);
        using var translator = new AnthropicStreamTranslator(context, jsonTool: false);
        var output = new ArrayBufferWriter<byte>();
        var firstSegment = new Segment(bytes.AsMemory(0, split));
        var last = firstSegment.Append(bytes.AsMemory(split));
        var sequence = new ReadOnlySequence<byte>(firstSegment, 0, last, last.Memory.Length);
        translator.Decode(ref sequence, output);
        translator.Complete(sequence, output);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }

    private static List<JsonElement> Chunks(string sse)
    {
        var list = new List<JsonElement>();
        foreach (var frame in sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.StartsWith("data: ", frame, StringComparison.Ordinal);
            var data = frame["data: ".Length..];
            if (data == "[DONE]") continue;
            list.Add(JsonDocument.Parse(data).RootElement.Clone());
        }
        return list;
    }

    [Fact]
    public void Stream_gives_the_same_chunks_when_split_at_every_byte_boundary()
    {
        var bytes = Body(Everything);
        var whole = TranslateSplit(bytes, bytes.Length);
        Assert.Contains("[DONE]", whole, StringComparison.Ordinal);
        for (var split = 0; split <= bytes.Length; split++)
        {
            Assert.Equal(whole, TranslateSplit(bytes, split));
            Assert.Equal(whole, TranslateSegmented(bytes, split));
        }
    }

    [Fact]
    public void Stream_maps_thinking_text_and_tool_calls_as_they_arrive()
    {
        var bytes = Body(Everything);
        var sse = TranslateSplit(bytes, bytes.Length);
        Assert.EndsWith("data: [DONE]\n\n", sse, StringComparison.Ordinal);
        var chunks = Chunks(sse);

        var reasoning = new StringBuilder();
        var text = new StringBuilder();
        var args = new Dictionary<int, StringBuilder>();
        string? signature = null;
        var starts = new List<JsonElement>();
        foreach (var c in chunks)
        {
            Assert.Equal("msg_01", c.GetProperty("id").GetString());
            Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString());
            Assert.Equal(Now.ToUnixTimeSeconds(), c.GetProperty("created").GetInt64());
            if (c.GetProperty("choices").GetArrayLength() == 0) continue;
            var delta = c.GetProperty("choices")[0].GetProperty("delta");
            if (delta.TryGetProperty("reasoning_content", out var r)) reasoning.Append(r.GetString());
            if (delta.TryGetProperty("thinking_blocks", out var tb) && tb[0].TryGetProperty("signature", out var sig)) signature = sig.GetString();
            if (delta.TryGetProperty("content", out var ct) && ct.ValueKind == JsonValueKind.String) text.Append(ct.GetString());
            if (delta.TryGetProperty("tool_calls", out var tcs))
            {
                var tc = tcs[0];
                var index = tc.GetProperty("index").GetInt32();
                if (tc.TryGetProperty("id", out _)) starts.Add(tc);
                else Assert.False(tc.GetProperty("function").TryGetProperty("name", out _), "only the first tool-call delta names the function");
                if (!args.TryGetValue(index, out var sb)) args[index] = sb = new StringBuilder();
                sb.Append(tc.GetProperty("function").GetProperty("arguments").GetString());
            }
        }
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        Assert.Equal(Everything.Thinking, reasoning.ToString());
        Assert.Equal(Everything.Signature, signature);
        Assert.Equal(Everything.Text, text.ToString());
        Assert.Equal(2, starts.Count);
        Assert.Equal("toolu_01", starts[0].GetProperty("id").GetString());
        Assert.Equal("function", starts[0].GetProperty("type").GetString());
        Assert.Equal("get_weather", starts[0].GetProperty("function").GetProperty("name").GetString());
        Assert.Equal(1, starts[1].GetProperty("index").GetInt32());
        Assert.Equal("""{"city":"Zürich"}""", args[0].ToString());
        Assert.Equal("{}", args[1].ToString());

        // finish_reason is on the last choice chunk; the usage chunk (choices: []) follows it.
        var finish = chunks[^2];
        Assert.Equal("tool_calls", finish.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        for (var i = 0; i < chunks.Count - 2; i++) Assert.Equal(JsonValueKind.Null, chunks[i].GetProperty("choices")[0].GetProperty("finish_reason").ValueKind);
        var usage = chunks[^1].GetProperty("usage");
        Assert.Equal(0, chunks[^1].GetProperty("choices").GetArrayLength());
        Assert.Equal(25 + 3 + 40, usage.GetProperty("prompt_tokens").GetInt64());
        Assert.Equal(12, usage.GetProperty("completion_tokens").GetInt64());
        Assert.Equal(40, usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt64());
        Assert.Equal(3, usage.GetProperty("prompt_tokens_details").GetProperty("cache_creation_tokens").GetInt64());
    }

    [Fact]
    public void Usage_chunk_is_written_only_when_the_client_asked_but_usage_is_always_recorded()
    {
        var context = Create("""{"model":"claude","stream":true,"messages":[{"role":"user","content":"hi"}]}""");
        using var translator = new AnthropicStreamTranslator(context, jsonTool: false);
        var output = new ArrayBufferWriter<byte>();
        var seq = new ReadOnlySequence<byte>(Body(new AnthropicScript { Text = "ok", StopReason = "max_tokens" }));
        translator.Decode(ref seq, output);
        translator.Complete(seq, output);
        var chunks = Chunks(Encoding.UTF8.GetString(output.WrittenSpan));
        Assert.DoesNotContain(chunks, c => c.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object);
        Assert.Equal("length", chunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(37, context.Usage!.TotalTokens);
    }

    [Fact]
    public void Error_event_before_content_throws_with_nothing_written()
    {
        var context = Create(Request);
        using var translator = new AnthropicStreamTranslator(context, jsonTool: false);
        var output = new ArrayBufferWriter<byte>();
        var seq = new ReadOnlySequence<byte>(Body(new AnthropicScript { ErrorEventAfter = 0, ErrorType = "overloaded_error", ErrorMessage = "Overloaded" }));
        var ex = Assert.Throws<LlmException>(() => translator.Decode(ref seq, output));
        Assert.Equal(ErrorKind.Unavailable, ex.Error.Kind);
        Assert.Equal(503, ex.Error.HttpStatus);
        Assert.False(translator.ContentStarted);
        Assert.Equal(0, output.WrittenCount);
    }

    [Fact]
    public void Error_event_after_content_throws_with_content_started()
    {
        var context = Create(Request);
        using var translator = new AnthropicStreamTranslator(context, jsonTool: false);
        var output = new ArrayBufferWriter<byte>();
        var seq = new ReadOnlySequence<byte>(Body(new AnthropicScript { ErrorEventAfter = 2, ErrorType = "api_error", ErrorMessage = "Internal server error" }));
        var ex = Assert.Throws<LlmException>(() => translator.Decode(ref seq, output));
        Assert.Equal(ErrorKind.ServerError, ex.Error.Kind);
        Assert.True(translator.ContentStarted);
        Assert.DoesNotContain("[DONE]", Encoding.UTF8.GetString(output.WrittenSpan), StringComparison.Ordinal);
    }

    [Fact]
    public void Stream_cut_before_message_stop_is_a_bad_gateway_not_a_made_up_finish()
    {
        var context = Create(Request);
        using var translator = new AnthropicStreamTranslator(context, jsonTool: false);
        var output = new ArrayBufferWriter<byte>();
        var seq = new ReadOnlySequence<byte>(Body(new AnthropicScript { TruncateAfter = 2 }));
        translator.Decode(ref seq, output);
        var ex = Assert.Throws<LlmException>(() => translator.Complete(seq, output));
        Assert.Equal(ErrorKind.BadGateway, ex.Error.Kind);
        var sse = Encoding.UTF8.GetString(output.WrittenSpan);
        Assert.DoesNotContain("finish_reason\":\"", sse, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", sse, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_tool_deltas_stream_as_content_with_finish_stop()
    {
        var context = Create(Request);
        using var translator = new AnthropicStreamTranslator(context, jsonTool: true);
        var output = new ArrayBufferWriter<byte>();
        var seq = new ReadOnlySequence<byte>(Body(new AnthropicScript { Text = null, ToolCalls = [("toolu_9", "json_tool_call", """{"a":1}""")] }));
        translator.Decode(ref seq, output);
        translator.Complete(seq, output);
        var chunks = Chunks(Encoding.UTF8.GetString(output.WrittenSpan));
        var text = new StringBuilder();
        foreach (var c in chunks)
        {
            if (c.GetProperty("choices").GetArrayLength() == 0) continue;
            var delta = c.GetProperty("choices")[0].GetProperty("delta");
            Assert.False(delta.TryGetProperty("tool_calls", out _));
            if (delta.TryGetProperty("content", out var ct)) text.Append(ct.GetString());
        }
        Assert.Equal("""{"a":1}""", text.ToString());
        Assert.Equal("stop", chunks[^2].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public void Events_without_event_lines_are_read_by_their_json_type()
    {
        var withEvents = Encoding.UTF8.GetString(Body(new AnthropicScript { Text = "plain" }));
        var dataOnly = string.Join("\n", withEvents.Split('\n').Where(l => !l.StartsWith("event: ", StringComparison.Ordinal)));
        Assert.Equal(TranslateSplit(Encoding.UTF8.GetBytes(withEvents), 0), TranslateSplit(Encoding.UTF8.GetBytes(dataOnly), 0));
    }
}
