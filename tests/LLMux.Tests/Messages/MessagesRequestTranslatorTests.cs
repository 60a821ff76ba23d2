using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LLMux.Pipeline.Errors;
using LLMux.Stages.Messages;

namespace LLMux.Tests.Messages;

public sealed class MessagesRequestTranslatorTests
{
    private static readonly MessagesTarget OpenAI = new(false, "openai");
    private static readonly MessagesTarget Claude = new(true, "anthropic");

    public static TheoryData<string, string, bool, string> Cases => new()
    {
        {
            "system string, stop_sequences, metadata, top_k forwarded",
            """{"model":"m","max_tokens":5,"system":"Be brief.","stop_sequences":["END"],"metadata":{"user_id":"u1"},"temperature":0.2,"top_k":40,"messages":[{"role":"user","content":"hi"}]}""",
            false,
            """{"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}],"max_tokens":5,"temperature":0.2,"stop":["END"],"user":"u1","top_k":40}"""
        },
        {
            "system blocks keep cache_control only for Claude",
            """{"model":"m","max_tokens":5,"system":[{"type":"text","text":"A","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":[{"type":"text","text":"q","cache_control":{"type":"ephemeral"}}]}]}""",
            true,
            """{"model":"m","messages":[{"role":"system","content":[{"type":"text","text":"A","cache_control":{"type":"ephemeral"}}]},{"role":"user","content":[{"type":"text","text":"q","cache_control":{"type":"ephemeral"}}]}],"max_tokens":5}"""
        },
        {
            "cache_control is dropped for other models",
            """{"model":"m","max_tokens":5,"system":[{"type":"text","text":"A","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":[{"type":"text","text":"q","cache_control":{"type":"ephemeral"}}]}]}""",
            false,
            """{"model":"m","messages":[{"role":"system","content":"A"},{"role":"user","content":"q"}],"max_tokens":5}"""
        },
        {
            "tool results become tool messages before the rest of the user turn",
            """{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"w?"},{"role":"assistant","content":[{"type":"text","text":"Checking."},{"type":"tool_use","id":"t1","name":"w","input":{"c":"P"}}]},{"role":"user","content":[{"type":"text","text":"thanks"},{"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":"sunny"}]}]}]}""",
            false,
            """{"model":"m","messages":[{"role":"user","content":"w?"},{"role":"assistant","content":"Checking.","tool_calls":[{"id":"t1","type":"function","function":{"name":"w","arguments":"{\"c\":\"P\"}"}}]},{"role":"tool","tool_call_id":"t1","content":"sunny"},{"role":"user","content":"thanks"}],"max_tokens":5}"""
        },
        {
            "thinking blocks in the history reach Claude and are dropped elsewhere",
            """{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"q"},{"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"s"},{"type":"redacted_thinking","data":"x"},{"type":"text","text":"A"}]}]}""",
            true,
            """{"model":"m","messages":[{"role":"user","content":"q"},{"role":"assistant","content":"A","thinking_blocks":[{"type":"thinking","thinking":"hmm","signature":"s"},{"type":"redacted_thinking","data":"x"}]}],"max_tokens":5}"""
        },
        {
            "thinking blocks dropped for other models",
            """{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"q"},{"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"s"},{"type":"text","text":"A"}]}]}""",
            false,
            """{"model":"m","messages":[{"role":"user","content":"q"},{"role":"assistant","content":"A"}],"max_tokens":5}"""
        },
        {
            "images and PDFs become image_url and file parts",
            """{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAA="}},{"type":"image","source":{"type":"url","url":"https://x/y.png"}},{"type":"document","title":"r.pdf","source":{"type":"base64","media_type":"application/pdf","data":"JVBE"}},{"type":"document","source":{"type":"text","media_type":"text/plain","data":"plain"}}]}]}""",
            false,
            """{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AAA="}},{"type":"image_url","image_url":{"url":"https://x/y.png"}},{"type":"file","file":{"file_data":"data:application/pdf;base64,JVBE","filename":"r.pdf"}},{"type":"text","text":"plain"}]}],"max_tokens":5}"""
        },
        {
            "tools, tool_choice tool with parallel use disabled",
            """{"model":"m","max_tokens":5,"tools":[{"name":"w","description":"weather","input_schema":{"type":"object","properties":{"c":{"type":"string"}}}}],"tool_choice":{"type":"tool","name":"w","disable_parallel_tool_use":true},"messages":[{"role":"user","content":"q"}]}""",
            false,
            """{"model":"m","messages":[{"role":"user","content":"q"}],"max_tokens":5,"tools":[{"type":"function","function":{"name":"w","description":"weather","parameters":{"type":"object","properties":{"c":{"type":"string"}}}}}],"tool_choice":{"type":"function","function":{"name":"w"}},"parallel_tool_calls":false}"""
        },
        {
            "tool_choice none",
            """{"model":"m","max_tokens":5,"tools":[{"name":"w","input_schema":{"type":"object"}}],"tool_choice":{"type":"none"},"messages":[{"role":"user","content":"q"}]}""",
            false,
            """{"model":"m","messages":[{"role":"user","content":"q"}],"max_tokens":5,"tools":[{"type":"function","function":{"name":"w","parameters":{"type":"object"}}}],"tool_choice":"none"}"""
        },
        {
            "web search tool becomes web_search_options",
            """{"model":"m","max_tokens":5,"tools":[{"type":"web_search_20250305","name":"web_search"}],"messages":[{"role":"user","content":"q"}]}""",
            false,
            """{"model":"m","messages":[{"role":"user","content":"q"}],"max_tokens":5,"web_search_options":{}}"""
        },
        {
            "stream asks for include_usage; thinking budget maps to reasoning_effort",
            """{"model":"m","max_tokens":9000,"stream":true,"thinking":{"type":"enabled","budget_tokens":5000},"messages":[{"role":"user","content":"q"}]}""",
            false,
            """{"model":"m","messages":[{"role":"user","content":"q"}],"max_tokens":9000,"stream":true,"stream_options":{"include_usage":true},"reasoning_effort":"medium"}"""
        },
        {
            "thinking passes through to Claude",
            """{"model":"m","max_tokens":9000,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[{"role":"user","content":"q"}]}""",
            true,
            """{"model":"m","messages":[{"role":"user","content":"q"}],"max_tokens":9000,"thinking":{"type":"enabled","budget_tokens":1024}}"""
        },
        {
            "output_format becomes a strict json_schema response_format; service_tier auto is OpenAI's auto",
            """{"model":"m","max_tokens":5,"service_tier":"auto","output_format":{"type":"json_schema","schema":{"type":"object"}},"messages":[{"role":"user","content":"q"}]}""",
            false,
            """{"model":"m","messages":[{"role":"user","content":"q"}],"max_tokens":5,"service_tier":"auto","response_format":{"type":"json_schema","json_schema":{"name":"structured_output","schema":{"type":"object"},"strict":true}}}"""
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Anthropic_request_translates_to_the_OpenAI_chat_body(string name, string anthropic, bool claude, string expected)
    {
        using var doc = AnthropicRequestReader.Parse(Encoding.UTF8.GetBytes(anthropic), countTokens: false);
        var translation = MessagesRequestTranslator.Translate(doc.RootElement, claude ? Claude : OpenAI);
        using var body = translation.Body;
        Assert.Null(translation.ToolNames);
        if (name.StartsWith("cache_control", StringComparison.Ordinal)) Assert.Equal(["cache_control"], translation.DroppedHints);
        else Assert.Null(translation.DroppedHints);
        var actual = JsonNode.Parse(body.Span)!;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), actual.ToJsonString());
    }

    [Theory]
    [InlineData("""{"max_tokens":5,"messages":[{"role":"user","content":"q"}]}""", "model")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"q"}]}""", "max_tokens")]
    [InlineData("""{"model":"m","max_tokens":0,"messages":[{"role":"user","content":"q"}]}""", "max_tokens")]
    [InlineData("""{"model":"m","max_tokens":"5","messages":[{"role":"user","content":"q"}]}""", "max_tokens")]
    [InlineData("""{"model":"m","max_tokens":5,"messages":[]}""", "messages")]
    [InlineData("""{"model":"m","max_tokens":5,"messages":[{"role":"tool","content":"q"}]}""", "messages.0.role")]
    [InlineData("""{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_use","id":"a","name":"b","input":{}}]}]}""", "messages.0.content.0")]
    [InlineData("""{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","data":"x"}}]}]}""", "messages.0.content.0.source")]
    [InlineData("""{"model":"m","max_tokens":5,"temperature":1.5,"messages":[{"role":"user","content":"q"}]}""", "temperature")]
    [InlineData("""{"model":"m","max_tokens":5,"tool_choice":{"type":"tool","name":"nope"},"tools":[{"name":"w","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"q"}]}""", "tool_choice.name")]
    [InlineData("""{"model":"m","max_tokens":5,"tools":[{"name":"w"}],"messages":[{"role":"user","content":"q"}]}""", "tools.0.input_schema")]
    [InlineData("""{"model":"m","max_tokens":2000,"thinking":{"type":"enabled","budget_tokens":512},"messages":[{"role":"user","content":"q"}]}""", "thinking.budget_tokens")]
    [InlineData("""{"model":"m","max_tokens":2000,"thinking":{"type":"enabled","budget_tokens":4000},"messages":[{"role":"user","content":"q"}]}""", "max_tokens")]
    [InlineData("""[1,2]""", null)]
    public void Invalid_requests_are_refused_naming_the_field(string body, string? param)
    {
        var ex = Assert.Throws<LlmException>(() => AnthropicRequestReader.Parse(Encoding.UTF8.GetBytes(body), countTokens: false).Dispose());
        Assert.Equal(ErrorKind.InvalidRequest, ex.Error.Kind);
        Assert.Equal(param, ex.Error.Param);
        Assert.Equal("invalid_request_error", ErrorJsonWriter.AnthropicType(ex.Error));
    }

    [Fact]
    public void Anthropic_server_tools_are_refused_for_other_models_and_forwarded_to_Claude()
    {
        var body = """{"model":"m","max_tokens":5,"tools":[{"type":"bash_20250124","name":"bash"}],"messages":[{"role":"user","content":"q"}]}""";
        using var doc = AnthropicRequestReader.Parse(Encoding.UTF8.GetBytes(body), countTokens: false);
        var ex = Assert.Throws<LlmException>(() => MessagesRequestTranslator.Translate(doc.RootElement, OpenAI).Body.Dispose());
        Assert.Contains("bash_20250124", ex.Error.Message);
        using var claude = MessagesRequestTranslator.Translate(doc.RootElement, Claude).Body;
        using var out_ = JsonDocument.Parse(claude.Memory);
        Assert.Equal("bash_20250124", out_.RootElement.GetProperty("tools")[0].GetProperty("type").GetString());
    }

    [Fact]
    public void Tool_names_over_64_characters_are_shortened_everywhere_and_can_be_restored()
    {
        var longName = "mcp__a_very_long_server_name__and_an_even_longer_tool_name_that_goes_on";
        var body = $$$"""{"model":"m","max_tokens":5,"tools":[{"name":"{{{longName}}}","input_schema":{"type":"object"}},{"name":"short","input_schema":{"type":"object"}}],"tool_choice":{"type":"tool","name":"{{{longName}}}"},"messages":[{"role":"user","content":"q"},{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"{{{longName}}}","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"r"}]}]}""";
        using var doc = AnthropicRequestReader.Parse(Encoding.UTF8.GetBytes(body), countTokens: false);
        var translation = MessagesRequestTranslator.Translate(doc.RootElement, OpenAI);
        using var buffer = translation.Body;
        using var sent = JsonDocument.Parse(buffer.Memory);
        var root = sent.RootElement;

        var shortName = root.GetProperty("tools")[0].GetProperty("function").GetProperty("name").GetString()!;
        Assert.Equal(64, shortName.Length);
        Assert.StartsWith(longName[..55] + "_", shortName);
        Assert.Equal("short", root.GetProperty("tools")[1].GetProperty("function").GetProperty("name").GetString());
        Assert.Equal(shortName, root.GetProperty("tool_choice").GetProperty("function").GetProperty("name").GetString());
        Assert.Equal(shortName, root.GetProperty("messages")[1].GetProperty("tool_calls")[0].GetProperty("function").GetProperty("name").GetString());
        var restore = Assert.Single(translation.ToolNames!);
        Assert.Equal(shortName, restore.Key);
        Assert.Equal(longName, restore.Value);
    }

    [Fact]
    public void Claude_only_hints_are_dropped_with_a_warning_and_claude_only_features_refused_for_other_models()
    {
        var hints = """{"model":"m","max_tokens":5,"context_management":{"edits":[]},"output_config":{"effort":"low"},"messages":[{"role":"user","content":"q"}]}""";
        using (var doc = AnthropicRequestReader.Parse(Encoding.UTF8.GetBytes(hints), countTokens: false))
        {
            var translation = MessagesRequestTranslator.Translate(doc.RootElement, OpenAI);
            using var other = translation.Body;
            using var sent = JsonDocument.Parse(other.Memory);
            Assert.False(sent.RootElement.TryGetProperty("context_management", out _));
            Assert.False(sent.RootElement.TryGetProperty("output_config", out _));
            Assert.Equal(["context_management", "output_config"], translation.DroppedHints);

            using var claude = MessagesRequestTranslator.Translate(doc.RootElement, Claude).Body;
            using var toClaude = JsonDocument.Parse(claude.Memory);
            Assert.True(toClaude.RootElement.TryGetProperty("context_management", out _));
        }
        var mcp = """{"model":"m","max_tokens":5,"mcp_servers":[{"type":"url","url":"https://x","name":"x"}],"messages":[{"role":"user","content":"q"}]}""";
        using var mcpDoc = AnthropicRequestReader.Parse(Encoding.UTF8.GetBytes(mcp), countTokens: false);
        var ex = Assert.Throws<LlmException>(() => MessagesRequestTranslator.Translate(mcpDoc.RootElement, OpenAI).Body.Dispose());
        Assert.Equal("mcp_servers", ex.Error.Param);
    }

    [Fact]
    public void Count_tokens_requests_need_no_max_tokens()
    {
        using var doc = AnthropicRequestReader.Parse("""{"model":"m","messages":[{"role":"user","content":"q"}]}"""u8.ToArray(), countTokens: true);
        Assert.True(MessagesTokenEstimator.Count(doc.RootElement) > 0);
    }
}
