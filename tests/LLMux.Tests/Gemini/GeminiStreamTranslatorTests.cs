using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;
using LLMux.Providers.Gemini;
using LLMux.Tests.Decoders;

namespace LLMux.Tests.Gemini;

/// <summary>Gemini stream events → OpenAI chunks, fed to the translators directly in every split.</summary>
public sealed partial class GeminiStreamTranslatorTests
{
    private const string Request = """{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}""";

    private static readonly string[] Events =
    [
        """{"candidates":[{"content":{"parts":[{"text":"Let me think \"hard\" é","thought":true}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":9,"totalTokenCount":9},"responseId":"resp-1"}""",
        """{"candidates":[{"content":{"parts":[{"text":"Héllo\n, "}],"role":"model"},"index":0}],"responseId":"resp-1"}""",
        """{"candidates":[{"content":{"parts":[{"functionCall":{"name":"get_weather","args":{ "city" : "Zürich", "days": [1, 2.5] }}}],"role":"model"},"index":0}],"responseId":"resp-1"}""",
        """{"candidates":[{"content":{"parts":[{"text":""}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":5,"thoughtsTokenCount":4,"cachedContentTokenCount":3,"totalTokenCount":18},"responseId":"resp-1"}""",
    ];

    private static byte[] Sse(params string[] events) => Encoding.UTF8.GetBytes(string.Concat(events.Select(static e => "data: " + e + "\r\n\r\n")));

    private static byte[] JsonArray(params string[] events) => Encoding.UTF8.GetBytes("[" + string.Join(",\r\n", events.Select(static e => JsonSerializer.Serialize(JsonDocument.Parse(e).RootElement, new JsonSerializerOptions { WriteIndented = true }))) + "]");

    private static StreamTranslator Sse() => new GeminiStreamTranslator(GeminiTestContext.Chat(Request), "gemini", "gemini-2.5-flash");

    private static StreamTranslator Array() => new GeminiJsonArrayStreamTranslator(GeminiTestContext.Chat(Request), "gemini", "gemini-2.5-flash");

    private static string Run(StreamTranslator translator, IReadOnlyList<ReadOnlyMemory<byte>> chunks)
    {
        using (translator)
        {
            var output = new ArrayBufferWriter<byte>();
            var pending = new List<ReadOnlyMemory<byte>>();
            foreach (var chunk in chunks)
            {
                pending.Add(chunk);
                var sequence = PipeLoop.Sequence(pending);
                var buffer = sequence;
                translator.Decode(ref buffer, output);
                var consumed = sequence.Length - buffer.Length;
                while (consumed > 0)
                {
                    if (pending[0].Length <= consumed) { consumed -= pending[0].Length; pending.RemoveAt(0); }
                    else { pending[0] = pending[0][(int)consumed..]; consumed = 0; }
                }
            }
            translator.Complete(PipeLoop.Sequence(pending), output);
            return SynthesisedId().Replace(Encoding.UTF8.GetString(output.WrittenSpan), "call_X");
        }
    }

    [GeneratedRegex("call_[0-9a-f]{24}")]
    private static partial Regex SynthesisedId();

    private static List<JsonElement> Chunks(string sse)
    {
        var list = new List<JsonElement>();
        foreach (var frame in sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.StartsWith("data: ", frame);
            var data = frame[6..];
            if (data == "[DONE]") continue;
            list.Add(JsonDocument.Parse(data).RootElement.Clone());
        }
        return list;
    }

    [Fact]
    public void Sse_events_become_openai_chunks_with_reasoning_text_tool_call_finish_and_usage()
    {
        var output = Run(Sse(), [Sse(Events)]);
        Assert.EndsWith("data: [DONE]\n\n", output);
        var chunks = Chunks(output);
        Assert.All(chunks, static c => Assert.Equal("resp-1", c.GetProperty("id").GetString()));
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        Assert.Equal("Let me think \"hard\" é", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("reasoning_content").GetString());
        Assert.Equal("Héllo\n, ", chunks[1].GetProperty("choices")[0].GetProperty("delta").GetProperty("content").GetString());
        var call = chunks[2].GetProperty("choices")[0].GetProperty("delta").GetProperty("tool_calls")[0];
        Assert.Equal("call_X", call.GetProperty("id").GetString());
        Assert.Equal(0, call.GetProperty("index").GetInt32());
        Assert.Equal("get_weather", call.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("""{"city":"Zürich","days":[1,2.5]}""", call.GetProperty("function").GetProperty("arguments").GetString());
        var finish = chunks[3].GetProperty("choices")[0];
        Assert.Equal("tool_calls", finish.GetProperty("finish_reason").GetString());
        var usage = chunks[4].GetProperty("usage");
        Assert.Equal(0, chunks[4].GetProperty("choices").GetArrayLength());
        Assert.Equal(9, usage.GetProperty("prompt_tokens").GetInt64());
        Assert.Equal(9, usage.GetProperty("completion_tokens").GetInt64()); // candidates 5 + thoughts 4
        Assert.Equal(18, usage.GetProperty("total_tokens").GetInt64());
        Assert.Equal(3, usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt64());
        Assert.Equal(4, usage.GetProperty("completion_tokens_details").GetProperty("reasoning_tokens").GetInt64());
        Assert.Equal(5, chunks.Count);
    }

    [Fact]
    public void Sse_stream_gives_the_same_chunks_at_every_split()
    {
        var data = Sse(Events);
        var whole = Run(Sse(), [data]);
        foreach (var (name, chunks) in PipeLoop.Splits(data))
        {
            Assert.True(whole == Run(Sse(), chunks), name);
        }
    }

    [Fact]
    public void Json_array_stream_gives_the_same_chunks_as_sse_at_every_split()
    {
        var whole = Run(Sse(), [Sse(Events)]);
        var data = JsonArray(Events);
        foreach (var (name, chunks) in PipeLoop.Splits(data))
        {
            Assert.True(whole == Run(Array(), chunks), name);
        }
    }

    [Fact]
    public void A_stream_that_ends_without_a_finish_reason_is_a_bad_gateway_error()
    {
        var ex = Assert.Throws<LlmException>(() => Run(Sse(), [Sse(Events[0], Events[1])]));
        Assert.Equal(ErrorKind.BadGateway, ex.Error.Kind);
    }

    [Fact]
    public void A_json_array_cut_before_its_closing_bracket_is_an_error()
    {
        var data = JsonArray(Events);
        Assert.ThrowsAny<Exception>(() => Run(Array(), [data.AsMemory(0, data.Length - 1)]));
    }

    [Fact]
    public void An_error_event_before_content_is_thrown_before_any_content()
    {
        using var translator = Sse();
        var output = new ArrayBufferWriter<byte>();
        var buffer = new ReadOnlySequence<byte>(Sse("""{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}"""));
        LlmException? ex = null;
        try { translator.Decode(ref buffer, output); }
        catch (LlmException e) { ex = e; }
        Assert.NotNull(ex);
        Assert.Equal(ErrorKind.RateLimit, ex.Error.Kind);
        Assert.Equal(429, ex.Error.HttpStatus);
        Assert.False(translator.ContentStarted);
    }

    [Fact]
    public void An_error_event_after_content_is_thrown_with_content_started()
    {
        using var translator = Sse();
        var output = new ArrayBufferWriter<byte>();
        var buffer = new ReadOnlySequence<byte>(Sse(Events[1], """{"error":{"code":500,"message":"Internal error encountered.","status":"INTERNAL"}}"""));
        var ex = Assert.Throws<LlmException>(() => Decode(translator, ref buffer, output));
        Assert.Equal(ErrorKind.ServerError, ex.Error.Kind);
        Assert.True(translator.ContentStarted);
    }

    private static void Decode(StreamTranslator t, ref ReadOnlySequence<byte> buffer, IBufferWriter<byte> output) => t.Decode(ref buffer, output);

    [Theory]
    [InlineData("SAFETY", "content_filter")]
    [InlineData("RECITATION", "content_filter")]
    [InlineData("PROHIBITED_CONTENT", "content_filter")]
    [InlineData("MAX_TOKENS", "length")]
    [InlineData("MALFORMED_FUNCTION_CALL", "malformed_function_call")]
    [InlineData("STOP", "stop")]
    public void Finish_reasons_map_as_litellm_maps_them(string gemini, string openai)
    {
        var output = Run(Sse(), [Sse(Events[1], $$$"""{"candidates":[{"content":{"parts":[{"text":"x"}],"role":"model"},"finishReason":"{{{gemini}}}","index":0}],"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":1,"totalTokenCount":2}}""")]);
        var finish = Chunks(output).Last(static c => c.GetProperty("choices").GetArrayLength() > 0);
        Assert.Equal(openai, finish.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public void A_blocked_prompt_ends_with_content_filter()
    {
        var output = Run(Sse(), [Sse("""{"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":4,"totalTokenCount":4}}""")]);
        var chunks = Chunks(output);
        Assert.Equal("content_filter", chunks[0].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(4, chunks[1].GetProperty("usage").GetProperty("prompt_tokens").GetInt64());
    }

    [Fact]
    public void A_recorded_json_array_stream_maps_text_and_a_tool_call_identically_at_every_split()
    {
        var data = BenchData.GeminiJsonArray();
        var whole = Run(Array(), [data]);
        var chunks = Chunks(whole);
        var text = new System.Text.StringBuilder();
        foreach (var c in chunks)
        {
            if (c.GetProperty("choices").GetArrayLength() == 0) continue;
            if (c.GetProperty("choices")[0].GetProperty("delta").TryGetProperty("content", out var t)) text.Append(t.GetString());
        }
        Assert.StartsWith("Sure! Here is a short overview of the weather in the three cities you asked about,", text.ToString());
        Assert.EndsWith(" confidence.", text.ToString());
        var call = chunks.Single(static c => c.GetProperty("choices").GetArrayLength() > 0 && c.GetProperty("choices")[0].GetProperty("delta").TryGetProperty("tool_calls", out _))
            .GetProperty("choices")[0].GetProperty("delta").GetProperty("tool_calls")[0].GetProperty("function");
        Assert.Equal("get_forecast", call.GetProperty("name").GetString());
        Assert.Equal("""{"locations":[{"city":"San Francisco","country":"US"},{"city":"New York","country":"US"},{"city":"Tokyo","country":"JP"}],"unit":"celsius","days":3}""", call.GetProperty("arguments").GetString());
        Assert.Equal("tool_calls", chunks.Last(static c => c.GetProperty("choices").GetArrayLength() > 0).GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(306, chunks.Last().GetProperty("usage").GetProperty("total_tokens").GetInt64());

        for (var i = 1; i < data.Length; i++)
        {
            var split = Run(Array(), [data.AsMemory(0, i), data.AsMemory(i)]);
            if (split != whole) Assert.Fail($"split at {i} differs");
        }
    }
}
