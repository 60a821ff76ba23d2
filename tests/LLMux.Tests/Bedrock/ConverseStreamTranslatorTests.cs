using EventStreamEncoder = LLMux.Emulators.EventStreamEncoder;
using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;
using LLMux.Emulators;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;
using LLMux.Providers.Bedrock;
using LLMux.Tests.Decoders;

namespace LLMux.Tests.Bedrock;

/// <summary>The ConverseStream translator fed eventstream bytes directly, split at every position.</summary>
public sealed partial class ConverseStreamTranslatorTests
{
    private static readonly BedrockScript Rich = new()
    {
        Content = "Héllo, wörld — tools next",
        Chunks = 4,
        Reasoning = ("Let me think about it.", "sig-abc"),
        ToolCall = ("get_weather", """{"city":"Paris"}"""),
        CacheReadTokens = 3,
    };

    private static LlmContext Context()
    {
        var tools = new List<ToolDefinition> { new() { Type = "function", Function = new FunctionDefinition { Name = "get-weather" } } };
        return new LlmContext { TimeProvider = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero)), Chat = new ChatRequest { Stream = true, StreamOptions = new StreamOptions { IncludeUsage = true }, Tools = tools } };
    }

    private static byte[] Bytes(BedrockScript s) => BedrockEmulator.StreamMessages(s).SelectMany(static m => m).ToArray();

    /// <summary>Runs the translator over the input as the given reads; returns the client bytes with the random id masked.</summary>
    private static string Translate(byte[] data, IReadOnlyList<int> cuts, LlmContext? context = null)
    {
        context ??= Context();
        using var translator = new ConverseStreamTranslator(context, "test-model", jsonMode: false);
        var output = new ArrayBufferWriter<byte>();
        var pieces = new List<ReadOnlyMemory<byte>>();
        var start = 0;
        var buffer = ReadOnlySequence<byte>.Empty;
        foreach (var cut in cuts.Append(data.Length))
        {
            // Unconsumed bytes stay in front as their own segments, the new read is appended behind them.
            var unconsumed = new List<ReadOnlyMemory<byte>>();
            foreach (var m in buffer) unconsumed.Add(m);
            unconsumed.Add(data.AsMemory(start, cut - start));
            buffer = PipeLoop.Sequence(unconsumed);
            translator.Decode(ref buffer, output);
            start = cut;
        }
        translator.Complete(buffer, output);
        return MaskId(Encoding.UTF8.GetString(output.WrittenSpan));
    }

    private static string MaskId(string sse) => IdPattern().Replace(sse, "\"id\":\"chatcmpl-X\"");

    [GeneratedRegex("\"id\":\"chatcmpl-[0-9a-f]+\"")]
    private static partial Regex IdPattern();

    [Fact]
    public void Stream_output_is_identical_at_every_split_position()
    {
        var data = Bytes(Rich);
        var whole = Translate(data, []);
        for (var cut = 1; cut < data.Length; cut++)
            Assert.Equal(whole, Translate(data, [cut]));
    }

    [Fact]
    public void One_byte_reads_give_the_same_stream()
    {
        var data = Bytes(Rich);
        Assert.Equal(Translate(data, []), Translate(data, Enumerable.Range(1, data.Length - 1).ToArray()));
    }

    [Fact]
    public void Stream_maps_reasoning_text_tool_call_finish_and_usage()
    {
        var sse = Translate(Bytes(Rich), []);
        var frames = sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("\"role\":\"assistant\"", frames[0]);
        var reasoning = string.Concat(Regex.Matches(sse, "\"reasoning_content\":\"([^\"]*)\"").Select(static m => m.Groups[1].Value));
        Assert.Equal("Let me think about it.", reasoning);
        Assert.Contains("\"signature\":\"sig-abc\"", sse);
        var text = string.Concat(Regex.Matches(sse, "\"content\":\"([^\"]*)\"").Select(static m => m.Groups[1].Value));
        Assert.Equal("Héllo, wörld — tools next", text);
        Assert.Contains("\"id\":\"tooluse_emu1\",\"type\":\"function\",\"function\":{\"name\":\"get-weather\",\"arguments\":\"\"}", sse);
        var args = string.Concat(Regex.Matches(sse, "\"function\":\\{\"arguments\":\"((?:[^\"\\\\]|\\\\.)*)\"\\}").Select(static m => Regex.Unescape(m.Groups[1].Value)));
        Assert.Equal("""{"city":"Paris"}""", args);
        Assert.Contains("\"finish_reason\":\"tool_calls\"", sse);
        Assert.Contains("\"choices\":[],\"usage\":{\"prompt_tokens\":15,\"completion_tokens\":8,\"total_tokens\":23,\"prompt_tokens_details\":{\"cached_tokens\":3}", sse);
        Assert.Equal("data: [DONE]", frames[^1]);
    }

    [Fact]
    public void Tool_call_without_input_gets_empty_object_arguments()
    {
        var messages = new List<byte[]>
        {
            EventStreamEncoder.Event("messageStart", """{"role":"assistant"}"""),
            EventStreamEncoder.Event("contentBlockStart", """{"contentBlockIndex":0,"start":{"toolUse":{"toolUseId":"t1","name":"now"}}}"""),
            EventStreamEncoder.Event("contentBlockStop", """{"contentBlockIndex":0}"""),
            EventStreamEncoder.Event("messageStop", """{"stopReason":"tool_use"}"""),
        };
        var sse = Translate(messages.SelectMany(static m => m).ToArray(), []);
        Assert.Contains("\"function\":{\"arguments\":\"{}\"}", sse);
        Assert.Contains("\"finish_reason\":\"tool_calls\"", sse);
    }

    [Theory]
    [InlineData("throttlingException", ErrorKind.RateLimit)]
    [InlineData("validationException", ErrorKind.InvalidRequest)]
    [InlineData("modelStreamErrorException", ErrorKind.ServerError)]
    [InlineData("serviceUnavailableException", ErrorKind.Unavailable)]
    [InlineData("internalServerException", ErrorKind.Unavailable)]
    [InlineData("modelTimeoutException", ErrorKind.Timeout)]
    public void Exception_message_throws_an_error_of_its_kind(string type, ErrorKind kind)
    {
        var data = EventStreamEncoder.Exception(type, "upstream said no");
        var ex = Assert.Throws<LlmException>(() => Translate(data, []));
        Assert.Equal(kind, ex.Error.Kind);
        Assert.Contains("upstream said no", ex.Error.Message);
    }

    [Fact]
    public void Stream_ending_without_message_stop_throws_bad_gateway()
    {
        var data = Bytes(Rich with { TruncateAfter = 2 });
        var ex = Assert.Throws<LlmException>(() => Translate(data, []));
        Assert.Equal(ErrorKind.BadGateway, ex.Error.Kind);
    }

    [Fact]
    public void Corrupt_crc_throws_invalid_data()
    {
        var data = Bytes(new BedrockScript { Content = "abc", CorruptAfter = 1 });
        Assert.Throws<InvalidDataException>(() => Translate(data, []));
    }

    [Fact]
    public void Json_mode_streams_the_json_tool_input_as_content()
    {
        var script = new BedrockScript { Content = "", ToolCall = (ConverseRequestWriter.JsonToolName, """{"a":1}""") };
        var context = Context();
        using var translator = new ConverseStreamTranslator(context, "m", jsonMode: true);
        var output = new ArrayBufferWriter<byte>();
        var buffer = new ReadOnlySequence<byte>(Bytes(script));
        translator.Decode(ref buffer, output);
        translator.Complete(buffer, output);
        var sse = Encoding.UTF8.GetString(output.WrittenSpan);
        var text = string.Concat(Regex.Matches(sse, "\"content\":\"((?:[^\"\\\\]|\\\\.)*)\"").Select(static m => Regex.Unescape(m.Groups[1].Value)));
        Assert.Equal("""{"a":1}""", text);
        Assert.DoesNotContain("tool_calls", sse);
        Assert.Contains("\"finish_reason\":\"stop\"", sse);
    }
}
