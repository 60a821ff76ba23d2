using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LLMux.Pipeline.Errors;
using LLMux.Stages.Messages;

namespace LLMux.Tests.Messages;

/// <summary>The request translator on the fields Claude Code sends, per kind of backend (see MessagesFieldMatrix).</summary>
public sealed class ClaudeCodeFieldTranslationTests
{
    private static readonly MessagesTarget OpenAI = new(false, "openai", MaxOutputTokens: 16384);
    private static readonly MessagesTarget Gemini = new(false, "gemini");
    private static readonly MessagesTarget Converse = new(true, "bedrock", Converse: true, MaxOutputTokens: 64000);
    private static readonly MessagesTarget Anthropic = new(true, "anthropic");

    private static (JsonObject Body, MessagesTranslation Translation) Translate(string anthropic, MessagesTarget target)
    {
        using var doc = AnthropicRequestReader.Parse(Encoding.UTF8.GetBytes(anthropic), countTokens: false);
        var translation = MessagesRequestTranslator.Translate(doc.RootElement, target);
        using var body = translation.Body;
        return (JsonNode.Parse(body.Span)!.AsObject(), translation);
    }

    [Fact]
    public void System_turns_inside_messages_stay_in_place_and_the_billing_line_is_left_out()
    {
        var (body, _) = Translate("""{"model":"m","max_tokens":5,"system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=1;"},{"type":"text","text":"Be brief."}],"messages":[{"role":"user","content":"q"},{"role":"system","content":[{"type":"text","text":"# Environment"}]},{"role":"assistant","content":"a"}]}""", OpenAI);
        var roles = body["messages"]!.AsArray().Select(static m => (string)m!["role"]!).ToArray();
        Assert.Equal(["system", "user", "system", "assistant"], roles);
        Assert.Equal("Be brief.", (string)body["messages"]![0]!["content"]!);
        Assert.Equal("# Environment", (string)body["messages"]![2]!["content"]!);
        Assert.DoesNotContain("billing", body.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_conversation_of_system_turns_only_is_refused()
    {
        var ex = Assert.Throws<LlmException>(() => AnthropicRequestReader.Parse("""{"model":"m","max_tokens":5,"messages":[{"role":"system","content":"s"}]}"""u8.ToArray(), countTokens: false).Dispose());
        Assert.Equal("messages", ex.Error.Param);
    }

    [Fact]
    public void Tool_references_from_ToolSearch_become_text_in_the_tool_result()
    {
        var (body, _) = Translate("""{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"q"},{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"ToolSearch","input":{"query":"select:WebSearch"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"tool_reference","tool_name":"WebSearch"},{"type":"tool_reference","tool_name":"WebFetch"}]},{"type":"text","text":"Tool loaded."}]}]}""", Gemini);
        var tool = body["messages"]!.AsArray().Single(static m => (string)m!["role"]! == "tool")!;
        Assert.Equal("""[{"type":"text","text":"Tool loaded: WebSearch"},{"type":"text","text":"Tool loaded: WebFetch"}]""", tool["content"]!.ToJsonString());
    }

    [Fact]
    public void Max_tokens_above_the_model_limit_is_lowered_with_a_warning_and_the_budget_follows()
    {
        var (body, t) = Translate("""{"model":"m","max_tokens":32000,"messages":[{"role":"user","content":"q"}]}""", OpenAI);
        Assert.Equal(16384, (int)body["max_tokens"]!);
        Assert.Equal(["max_tokens 32000 lowered to 16384, the model's output limit"], t.Warnings);

        var (claude, _) = Translate("""{"model":"m","max_tokens":128000,"thinking":{"type":"enabled","budget_tokens":100000},"messages":[{"role":"user","content":"q"}]}""", Converse);
        Assert.Equal(64000, (int)claude["max_tokens"]!);
        Assert.Equal(63999, (int)claude["thinking"]!["budget_tokens"]!);
    }

    [Theory]
    [InlineData("""{"type":"adaptive","display":"omitted"}""", """{"effort":"medium"}""", "medium")]
    [InlineData("""{"type":"adaptive"}""", """{"effort":"max"}""", "high")]
    [InlineData("""{"type":"enabled","budget_tokens":31999}""", null, "high")]
    [InlineData("""{"type":"adaptive"}""", null, null)]
    public void Thinking_and_effort_become_reasoning_effort_for_other_models(string thinking, string? outputConfig, string? effort)
    {
        var oc = outputConfig is null ? "" : $",\"output_config\":{outputConfig}";
        var (body, t) = Translate($$"""{"model":"m","max_tokens":32000,"thinking":{{thinking}}{{oc}},"messages":[{"role":"user","content":"q"}]}""", Gemini);
        Assert.Equal(effort, (string?)body["reasoning_effort"]);
        Assert.False(body.ContainsKey("thinking"));
        Assert.False(body.ContainsKey("output_config"));
        Assert.Null(t.DroppedHints); // an effort-only output_config is mapped, not dropped
        Assert.Contains("reasoning_effort", t.HintParams!);
    }

    [Fact]
    public void Converse_keeps_thinking_and_cache_markers_and_drops_Anthropic_only_fields()
    {
        var (body, t) = Translate("""{"model":"m","max_tokens":32000,"thinking":{"type":"adaptive","display":"omitted"},"output_config":{"effort":"low"},"context_management":{"edits":[{"type":"clear_thinking_20251015","keep":"all"}]},"cache_control":{"type":"ephemeral"},"system":[{"type":"text","text":"S","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":[{"type":"text","text":"q","cache_control":{"type":"ephemeral"}}]}]}""", Converse);
        Assert.Equal("adaptive", (string)body["thinking"]!["type"]!);
        Assert.Contains("cache_control", body["messages"]![0]!.ToJsonString(), StringComparison.Ordinal);
        Assert.False(body.ContainsKey("context_management"));
        Assert.False(body.ContainsKey("cache_control"));
        Assert.False(body.ContainsKey("output_config"));
        Assert.Equal(["output_config", "context_management", "cache_control"], t.DroppedHints); // in request order

        var (toAnthropic, a) = Translate("""{"model":"m","max_tokens":5,"context_management":{"edits":[]},"cache_control":{"type":"ephemeral"},"messages":[{"role":"user","content":"q"}]}""", Anthropic);
        Assert.True(toAnthropic.ContainsKey("context_management"));
        Assert.True(toAnthropic.ContainsKey("cache_control"));
        Assert.Null(a.DroppedHints);
        Assert.Null(a.HintParams);
    }

    [Theory]
    [InlineData("auto", "auto")]
    [InlineData("standard_only", "default")]
    public void Service_tier_takes_the_provider_words(string anthropic, string openai)
    {
        var (body, _) = Translate($$"""{"model":"m","max_tokens":5,"service_tier":"{{anthropic}}","messages":[{"role":"user","content":"q"}]}""", OpenAI);
        Assert.Equal(openai, (string)body["service_tier"]!);
        var (claude, _) = Translate($$"""{"model":"m","max_tokens":5,"service_tier":"{{anthropic}}","messages":[{"role":"user","content":"q"}]}""", Anthropic);
        Assert.Equal(anthropic, (string)claude["service_tier"]!);
    }

    [Fact]
    public void Fields_that_change_the_answer_are_refused_unless_drop_params()
    {
        const string Mcp = """{"model":"m","max_tokens":5,"mcp_servers":[{"type":"url","url":"https://x","name":"x"}],"tools":[{"type":"code_execution_20250825","name":"code_execution"}],"messages":[{"role":"user","content":"q"}]}""";
        var ex = Assert.Throws<LlmException>(() => Translate(Mcp, Converse));
        Assert.Equal(ErrorKind.InvalidRequest, ex.Error.Kind);
        Assert.Contains("drop_params", ex.Error.Message, StringComparison.Ordinal);

        var (body, t) = Translate(Mcp, Converse with { DropParams = true });
        Assert.False(body.ContainsKey("mcp_servers"));
        Assert.False(body.ContainsKey("tools"));
        Assert.Equal(["tools.code_execution_20250825", "mcp_servers"], t.DroppedHints);

        var (inBody, _) = Translate(Mcp.Replace("\"max_tokens\":5,", "\"max_tokens\":5,\"drop_params\":true,", StringComparison.Ordinal), OpenAI);
        Assert.False(inBody.ContainsKey("mcp_servers"));
    }

    [Fact]
    public void Thinking_blocks_go_only_where_their_signature_can_be_verified()
    {
        const string History = """{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"q"},{"role":"assistant","content":[{"type":"thinking","thinking":"a","signature":"llmux1:gemini:R0VN"},{"type":"thinking","thinking":"b","signature":"llmux1:bedrock:QkVE"},{"type":"thinking","thinking":"c","signature":"QU5U"},{"type":"thinking","thinking":"d","signature":""},{"type":"redacted_thinking","data":"llmux1:bedrock:UkVE"},{"type":"text","text":"x"}]}]}""";
        string[] Signatures(MessagesTarget target) =>
            Translate(History, target).Body["messages"]![1]!["thinking_blocks"]?.AsArray().Select(static b => (string?)b!["signature"] ?? "data:" + (string)b["data"]!).ToArray() ?? [];

        Assert.Equal(["R0VN"], Signatures(Gemini));
        Assert.Equal(["QkVE", "QU5U", "data:UkVE"], Signatures(Converse));
        Assert.Equal(["QU5U"], Signatures(Anthropic));
        Assert.Empty(Signatures(OpenAI));
    }
}
