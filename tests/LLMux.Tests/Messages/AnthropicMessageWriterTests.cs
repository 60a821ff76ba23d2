using System.Text;
using System.Text.Json.Nodes;
using LLMux.Pipeline.Errors;
using LLMux.Stages.Messages;

namespace LLMux.Tests.Messages;

public sealed class AnthropicMessageWriterTests
{
    public static TheoryData<string, string> Cases => new()
    {
        {
            """{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-x","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12}}""",
            """{"type":"message","role":"assistant","model":"gpt-x","content":[{"type":"text","text":"Hi"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":2,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}"""
        },
        {
            """{"id":"c","model":"gpt-x","choices":[{"index":0,"message":{"role":"assistant","content":"Let me check.","reasoning_content":"need weather","tool_calls":[{"id":"call_1","type":"function","function":{"name":"w","arguments":"{\"c\":\"P\"}"}},{"id":"call_2","type":"function","function":{"name":"t","arguments":""}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":30,"completion_tokens":9,"total_tokens":39,"prompt_tokens_details":{"cached_tokens":20,"cache_creation_tokens":4}}}""",
            """{"type":"message","role":"assistant","model":"gpt-x","content":[{"type":"thinking","thinking":"need weather","signature":""},{"type":"text","text":"Let me check."},{"type":"tool_use","id":"call_1","name":"w","input":{"c":"P"}},{"type":"tool_use","id":"call_2","name":"t","input":{}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":6,"output_tokens":9,"cache_creation_input_tokens":4,"cache_read_input_tokens":20}}"""
        },
        {
            """{"id":"msg_abc","model":"claude-x","choices":[{"index":0,"message":{"role":"assistant","content":null,"thinking_blocks":[{"type":"thinking","thinking":"t","signature":"sig"},{"type":"redacted_thinking","data":"r"}]},"finish_reason":"length"}]}""",
            """{"id":"msg_abc","type":"message","role":"assistant","model":"claude-x","content":[{"type":"thinking","thinking":"t","signature":"llmux1:openai:sig"},{"type":"redacted_thinking","data":"llmux1:openai:r"}],"stop_reason":"max_tokens","stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}"""
        },
        {
            """{"id":"c","model":"gpt-x","choices":[{"index":0,"message":{"role":"assistant","content":"","tool_calls":[{"id":"call_1","type":"function","function":{"name":"w","arguments":"{}"}}]},"finish_reason":"stop"}]}""",
            """{"type":"message","role":"assistant","model":"gpt-x","content":[{"type":"tool_use","id":"call_1","name":"w","input":{}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}"""
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void OpenAI_completion_becomes_an_Anthropic_message(string completion, string expected)
    {
        using var buffer = AnthropicMessageWriter.Write(Encoding.UTF8.GetBytes(completion), "requested", "openai");
        var actual = JsonNode.Parse(buffer.Span)!.AsObject();
        Assert.StartsWith("msg_", (string?)actual["id"]);
        var want = JsonNode.Parse(expected)!.AsObject();
        if (!want.ContainsKey("id")) actual.Remove("id");
        Assert.True(JsonNode.DeepEquals(want, actual), actual.ToJsonString());
    }

    [Fact]
    public void A_completion_without_choices_is_a_bad_gateway_error()
    {
        var ex = Assert.Throws<LlmException>(() => AnthropicMessageWriter.Write("""{"id":"c","choices":[]}"""u8.ToArray(), "m", "openai"));
        Assert.Equal(ErrorKind.BadGateway, ex.Error.Kind);
    }
}
