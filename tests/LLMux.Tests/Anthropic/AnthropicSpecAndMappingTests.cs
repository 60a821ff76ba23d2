using System.Text;
using System.Text.Json.Nodes;
using LLMux.Emulators;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Errors;
using LLMux.Providers.Anthropic;
using LLMux.Providers.OpenAI;
using static LLMux.Tests.Anthropic.AnthropicTestContext;

namespace LLMux.Tests.Anthropic;

/// <summary>The parameter table, the non-stream answer mapping and the error mapping.</summary>
public sealed class AnthropicSpecAndMappingTests
{
    public static TheoryData<string> OpenAIChatParams()
    {
        var data = new TheoryData<string>();
        foreach (var p in OpenAISpec.ChatParams) data.Add(p);
        data.Add("thinking");
        return data;
    }

    [Theory]
    [MemberData(nameof(OpenAIChatParams))]
    public void Every_openai_chat_parameter_has_an_explicit_row(string param)
    {
        Assert.True(AnthropicSpec.Spec.ChatParams.ContainsKey(param), $"`{param}` has no row in AnthropicSpec.ChatParams");
    }

    [Fact]
    public void Mapped_rows_say_what_they_map_to_and_rejected_rows_say_why()
    {
        foreach (var rule in AnthropicSpec.ChatParams)
        {
            if (rule.Kind == ParamSupportKind.Mapped) Assert.False(string.IsNullOrEmpty(rule.MappedTo), rule.Param);
            if (rule.Kind == ParamSupportKind.Rejected) Assert.False(string.IsNullOrEmpty(rule.Note), rule.Param);
        }
        Assert.True(AnthropicSpec.Spec.Supports(LlmMode.Chat));
        Assert.False(AnthropicSpec.Spec.Supports(LlmMode.Embeddings));
        Assert.False(AnthropicSpec.Spec.ForwardsUnknownFields);
    }

    private static JsonNode ReadCompletion(string anthropicJson, bool jsonTool = false)
    {
        var completion = AnthropicResponseReader.Read(Encoding.UTF8.GetBytes(anthropicJson), 1700000000, jsonTool);
        var context = Create("""{"model":"claude","messages":[{"role":"user","content":"hi"}]}""");
        LLMux.Providers.Common.ChatCompletionResponse.Write(context, completion);
        return JsonNode.Parse(context.ResponseBody!.Span)!;
    }

    [Fact]
    public void Message_with_thinking_text_and_tool_use_becomes_an_openai_completion()
    {
        var script = new AnthropicScript { Thinking = "hmm", Text = "Let me check.", ToolCalls = [("toolu_1", "get_weather", """{"city":"Paris"}""")], CacheCreationTokens = 5, CacheReadTokens = 50 };
        var actual = ReadCompletion(AnthropicEmulator.Message("msg_1", "claude-sonnet-4-5", script));
        AssertJsonEqual($$"""
            {
              "id": "msg_1", "object": "chat.completion", "created": 1700000000, "model": "claude-sonnet-4-5",
              "choices": [{
                "index": 0,
                "message": {
                  "role": "assistant", "content": "Let me check.",
                  "tool_calls": [{"id": "toolu_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}, "index": 2}],
                  "reasoning_content": "hmm",
                  "thinking_blocks": [{"type": "thinking", "thinking": "hmm", "signature": "{{script.Signature}}"}]
                },
                "finish_reason": "tool_calls"
              }],
              "usage": {
                "prompt_tokens": 80, "completion_tokens": 12, "total_tokens": 92,
                "prompt_tokens_details": {"cached_tokens": 50, "cache_creation_tokens": 5},
                "cache_creation_input_tokens": 5, "cache_read_input_tokens": 50
              }
            }
            """, actual);
    }

    [Fact]
    public void Redacted_thinking_is_kept_in_thinking_blocks_and_empty_text_is_null_content()
    {
        var actual = ReadCompletion("""{"id":"msg_2","type":"message","role":"assistant","model":"m","content":[{"type":"redacted_thinking","data":"EmwKAhgB"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":2}}""");
        var message = actual["choices"]![0]!["message"]!;
        Assert.Null(message["content"]);
        AssertJsonEqual("""[{"type":"redacted_thinking","data":"EmwKAhgB"}]""", message["thinking_blocks"]);
        Assert.Equal("stop", actual["choices"]![0]!["finish_reason"]!.GetValue<string>());
    }

    [Fact]
    public void Json_tool_answer_with_values_key_is_unwrapped_into_content()
    {
        var actual = ReadCompletion("""{"id":"msg_3","type":"message","role":"assistant","model":"m","content":[{"type":"tool_use","id":"toolu_9","name":"json_tool_call","input":{"values":{"a":1}}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":2}}""", jsonTool: true);
        Assert.Equal("""{"a":1}""", actual["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal("stop", actual["choices"]![0]!["finish_reason"]!.GetValue<string>());
    }

    [Fact]
    public void Answer_that_is_not_json_is_a_bad_gateway()
    {
        var ex = Assert.Throws<LlmException>(() => AnthropicResponseReader.Read("<html>oops</html>"u8.ToArray(), 0, false));
        Assert.Equal(ErrorKind.BadGateway, ex.Error.Kind);
    }

    [Theory]
    [InlineData("end_turn", "stop")]
    [InlineData("stop_sequence", "stop")]
    [InlineData("pause_turn", "stop")]
    [InlineData("tool_use", "tool_calls")]
    [InlineData("max_tokens", "length")]
    [InlineData("compaction", "length")]
    [InlineData("model_context_window_exceeded", "length")]
    [InlineData("refusal", "content_filter")]
    [InlineData("something_new", "something_new")]
    public void Stop_reason_table(string stopReason, string finishReason) =>
        Assert.Equal(finishReason, AnthropicResponseReader.FinishReason(stopReason));

    [Theory]
    [InlineData(400, "invalid_request_error", "max_tokens: Field required", ErrorKind.InvalidRequest)]
    [InlineData(400, "invalid_request_error", "prompt is too long: 300000 tokens > 200000 maximum", ErrorKind.ContextWindowExceeded)]
    [InlineData(400, "invalid_request_error", "Output blocked by content filtering policy", ErrorKind.ContentPolicy)]
    [InlineData(401, "authentication_error", "invalid x-api-key", ErrorKind.Auth)]
    [InlineData(400, "invalid_request_error", "Invalid API Key", ErrorKind.Auth)]
    [InlineData(403, "permission_error", "not allowed", ErrorKind.Permission)]
    [InlineData(404, "not_found_error", "model: x", ErrorKind.NotFound)]
    [InlineData(413, "request_too_large", "too big", ErrorKind.InvalidRequest)]
    [InlineData(429, "rate_limit_error", "slow down", ErrorKind.RateLimit)]
    [InlineData(500, "api_error", "Internal server error", ErrorKind.ServerError)]
    [InlineData(529, "overloaded_error", "Overloaded", ErrorKind.Unavailable)]
    [InlineData(0, "overloaded_error", "Overloaded", ErrorKind.Unavailable)]
    [InlineData(0, "api_error", "boom", ErrorKind.ServerError)]
    [InlineData(502, null, null, ErrorKind.BadGateway)]
    [InlineData(503, null, null, ErrorKind.Unavailable)]
    [InlineData(504, null, null, ErrorKind.Timeout)]
    public void Error_table(int status, string? type, string? message, ErrorKind kind)
    {
        var body = type is null ? "<html>gateway</html>" : $$"""{"type":"error","error":{"type":"{{type}}","message":"{{message}}"},"request_id":"req_123"}""";
        var error = AnthropicErrorMapper.Map(status, Encoding.UTF8.GetBytes(body), null);
        Assert.Equal(kind, error.Kind);
        Assert.Equal("anthropic", error.Provider);
        if (type is not null)
        {
            Assert.Equal("req_123", error.UpstreamRequestId);
            Assert.Equal(type, error.Code);
            Assert.Contains(message!, error.Message, StringComparison.Ordinal);
        }
    }
}
