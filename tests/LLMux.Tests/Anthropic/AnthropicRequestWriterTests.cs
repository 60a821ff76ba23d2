using System.Text.Json.Nodes;
using LLMux.Pipeline.Errors;
using LLMux.Providers.Anthropic;
using static LLMux.Tests.Anthropic.AnthropicTestContext;

namespace LLMux.Tests.Anthropic;

/// <summary>For each OpenAI parameter and message shape: the exact Anthropic body (compared as JSON).</summary>
public sealed class AnthropicRequestWriterTests
{
    private const string Hi = """[{"role":"user","content":"hi"}]""";
    private static string J(string json) => json.Replace("@HIOUT", HiOut, StringComparison.Ordinal).Replace("@HI", Hi, StringComparison.Ordinal);

    private const string HiOut = """[{"role":"user","content":[{"type":"text","text":"hi"}]}]""";

    /// <summary>name, OpenAI request fields (besides model/messages=hi unless given), expected Anthropic body, upstream model.</summary>
    public static TheoryData<string, string, string, string> Cases => new()
    {
        { "minimal: max_tokens from the price table", J("""{"messages":@HI}"""), J("""{"model":"claude-sonnet-4-5","messages":@HIOUT,"max_tokens":64000}"""), "claude-sonnet-4-5" },
        { "unknown model: LiteLLM's 4096 default", J("""{"messages":@HI}"""), J("""{"model":"claude-next","messages":@HIOUT,"max_tokens":4096}"""), "claude-next" },
        { "opus 4.6 default max_tokens", J("""{"messages":@HI}"""), J("""{"model":"claude-opus-4-6","messages":@HIOUT,"max_tokens":128000}"""), "claude-opus-4-6" },
        { "max_tokens", J("""{"messages":@HI,"max_tokens":300}"""), J("""{"model":"m","messages":@HIOUT,"max_tokens":300}"""), "m" },
        { "max_completion_tokens", J("""{"messages":@HI,"max_completion_tokens":200}"""), J("""{"model":"m","messages":@HIOUT,"max_tokens":200}"""), "m" },
        { "max_tokens wins over max_completion_tokens", J("""{"messages":@HI,"max_completion_tokens":200,"max_tokens":100}"""), J("""{"model":"m","messages":@HIOUT,"max_tokens":100}"""), "m" },
        { "temperature, top_p, top_k", J("""{"messages":@HI,"max_tokens":5,"temperature":0.2,"top_p":0.9,"top_k":40}"""), J("""{"model":"m","messages":@HIOUT,"max_tokens":5,"temperature":0.2,"top_p":0.9,"top_k":40}"""), "m" },
        { "stop string", J("""{"messages":@HI,"max_tokens":5,"stop":"END"}"""), J("""{"model":"m","messages":@HIOUT,"max_tokens":5,"stop_sequences":["END"]}"""), "m" },
        { "stop list", J("""{"messages":@HI,"max_tokens":5,"stop":["a","b"]}"""), J("""{"model":"m","messages":@HIOUT,"max_tokens":5,"stop_sequences":["a","b"]}"""), "m" },
        { "stream", J("""{"messages":@HI,"max_tokens":5,"stream":true,"stream_options":{"include_usage":true}}"""), J("""{"model":"m","messages":@HIOUT,"max_tokens":5,"stream":true}"""), "m" },
        { "stream false is not sent", J("""{"messages":@HI,"max_tokens":5,"stream":false}"""), J("""{"model":"m","messages":@HIOUT,"max_tokens":5}"""), "m" },
        { "user → metadata.user_id", J("""{"messages":@HI,"max_tokens":5,"user":"user-42"}"""), J("""{"model":"m","messages":@HIOUT,"max_tokens":5,"metadata":{"user_id":"user-42"}}"""), "m" },
        { "user that is an e-mail is not sent", J("""{"messages":@HI,"max_tokens":5,"user":"a.b@example.com"}"""), J("""{"model":"m","messages":@HIOUT,"max_tokens":5}"""), "m" },
        { "user that is a phone number is not sent", J("""{"messages":@HI,"max_tokens":5,"user":"+1 (555) 123-4567"}"""), J("""{"model":"m","messages":@HIOUT,"max_tokens":5}"""), "m" },
        { "OpenAI-only fields never reach Anthropic", J("""{"messages":@HI,"max_tokens":5,"n":1,"seed":7,"logit_bias":{"1":2},"logprobs":true,"top_logprobs":2,"presence_penalty":0.1,"frequency_penalty":0.1,"parallel_tool_calls":null,"drop_params":true,"service_tier":"auto","store":true,"prediction":{"type":"content","content":"x"},"verbosity":"low","modalities":["text"],"prompt_cache_key":"k","safety_identifier":"s","functions":[{"name":"f"}],"function_call":"auto","max_retries":2}"""), J("""{"model":"m","messages":@HIOUT,"max_tokens":5}"""), "m" },
        {
            "system and developer messages → system blocks, cache_control kept, empty and billing-header skipped",
            """{"max_tokens":5,"messages":[{"role":"system","content":"Be brief.","cache_control":{"type":"ephemeral"}},{"role":"user","content":"hi"},{"role":"developer","content":[{"type":"text","text":"Rule two.","cache_control":{"type":"ephemeral","ttl":"1h"}},{"type":"text","text":""}]},{"role":"system","content":"x-anthropic-billing-header: abc"}]}""",
            J("""{"model":"m","messages":@HIOUT,"max_tokens":5,"system":[{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}},{"type":"text","text":"Rule two.","cache_control":{"type":"ephemeral","ttl":"1h"}}]}"""),
            "m"
        },
        {
            "consecutive user messages merge into one turn; user cache_control kept",
            """{"max_tokens":5,"messages":[{"role":"user","content":"a","cache_control":{"type":"ephemeral"}},{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"b"}]}]}""",
            """{"model":"m","max_tokens":5,"system":[{"type":"text","text":"s"}],"messages":[{"role":"user","content":[{"type":"text","text":"a","cache_control":{"type":"ephemeral"}},{"type":"text","text":"b"}]}]}""",
            "m"
        },
        {
            "assistant tool_calls → tool_use; tool results merge into one user turn; ids sanitised",
            """{"max_tokens":5,"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],"messages":[{"role":"user","content":"weather?"},{"role":"assistant","content":"Checking.","tool_calls":[{"id":"call.1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},{"id":"call_2","type":"function","function":{"name":"get_weather","arguments":""}}]},{"role":"tool","tool_call_id":"call.1","content":"18C"},{"role":"tool","tool_call_id":"call_2","content":[{"type":"text","text":"20C"}]},{"role":"user","content":"thanks"}]}""",
            """{"model":"m","max_tokens":5,"tools":[{"name":"get_weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}],"messages":[{"role":"user","content":[{"type":"text","text":"weather?"}]},{"role":"assistant","content":[{"type":"text","text":"Checking."},{"type":"tool_use","id":"call_1","name":"get_weather","input":{"city":"Paris"}},{"type":"tool_use","id":"call_2","name":"get_weather","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"call_1","content":"18C"},{"type":"tool_result","tool_use_id":"call_2","content":[{"type":"text","text":"20C"}]},{"type":"text","text":"thanks"}]}]}""",
            "m"
        },
        {
            "assistant thinking_blocks come first; final assistant text loses trailing whitespace",
            """{"max_tokens":5,"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"Answer:  ","thinking_blocks":[{"type":"thinking","thinking":"hmm","signature":"sig1"}]}]}""",
            """{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":"q"}]},{"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"sig1"},{"type":"text","text":"Answer:"}]}]}""",
            "m"
        },
        {
            "image_url data URI → base64 source; https URL → url source; file_data PDF → document",
            """{"max_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},{"type":"image_url","image_url":{"url":"https://example.com/cat.jpg","detail":"high"}},{"type":"file","file":{"file_data":"data:application/pdf;base64,JVBERi0=","filename":"a.pdf"}}]}]}""",
            """{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":"look"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},{"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}},{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0="}}]}]}""",
            "m"
        },
        {
            "tools: schema keys filtered, description, cache_control; missing parameters → empty object schema",
            J("""{"messages":@HI,"max_tokens":5,"tools":[{"type":"function","function":{"name":"a","description":"A tool","parameters":{"type":"object","properties":{},"required":[],"additionalProperties":false,"title":"dropped","$schema":"dropped"}},"cache_control":{"type":"ephemeral"}},{"type":"function","function":{"name":"b"}}]}"""),
            J("""{"model":"m","messages":@HIOUT,"max_tokens":5,"tools":[{"name":"a","input_schema":{"type":"object","properties":{},"required":[],"additionalProperties":false},"description":"A tool","cache_control":{"type":"ephemeral"}},{"name":"b","input_schema":{"type":"object","properties":{}}}]}"""),
            "m"
        },
        { "tool_choice auto", J("""{"messages":@HI,"max_tokens":5,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"auto"}"""), J("""{"model":"m","messages":@HIOUT,"max_tokens":5,"tools":[{"name":"f","input_schema":{"type":"object","properties":{}}}],"tool_choice":{"type":"auto"}}"""), "m" },
        { "tool_choice required → any", J("""{"messages":@HI,"max_tokens":5,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"required"}"""), J("""{"model":"m","messages":@HIOUT,"max_tokens":5,"tools":[{"name":"f","input_schema":{"type":"object","properties":{}}}],"tool_choice":{"type":"any"}}"""), "m" },
        { "tool_choice none", J("""{"messages":@HI,"max_tokens":5,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"none","parallel_tool_calls":false}"""), J("""{"model":"m","messages":@HIOUT,"max_tokens":5,"tools":[{"name":"f","input_schema":{"type":"object","properties":{}}}],"tool_choice":{"type":"none"}}"""), "m" },
        { "tool_choice named → tool", J("""{"messages":@HI,"max_tokens":5,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"f"}}}"""), J("""{"model":"m","messages":@HIOUT,"max_tokens":5,"tools":[{"name":"f","input_schema":{"type":"object","properties":{}}}],"tool_choice":{"type":"tool","name":"f"}}"""), "m" },
        { "parallel_tool_calls false without tool_choice → auto + disable_parallel_tool_use", J("""{"messages":@HI,"max_tokens":5,"tools":[{"type":"function","function":{"name":"f"}}],"parallel_tool_calls":false}"""), J("""{"model":"m","messages":@HIOUT,"max_tokens":5,"tools":[{"name":"f","input_schema":{"type":"object","properties":{}}}],"tool_choice":{"type":"auto","disable_parallel_tool_use":true}}"""), "m" },
        { "parallel_tool_calls true with required", J("""{"messages":@HI,"max_tokens":5,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"required","parallel_tool_calls":true}"""), J("""{"model":"m","messages":@HIOUT,"max_tokens":5,"tools":[{"name":"f","input_schema":{"type":"object","properties":{}}}],"tool_choice":{"type":"any","disable_parallel_tool_use":false}}"""), "m" },
        {
            "response_format json_schema on Claude 4.5 → output_format with bounds moved to description",
            J("""{"messages":@HI,"max_tokens":5,"response_format":{"type":"json_schema","json_schema":{"name":"r","schema":{"type":"object","properties":{"n":{"type":"integer","minimum":1,"maximum":9},"tags":{"type":"array","items":{"type":"string","maxLength":5},"minItems":1,"description":"Tags"}},"required":["n"]}}}}"""),
            J("""{"model":"claude-sonnet-4-5","messages":@HIOUT,"max_tokens":5,"output_format":{"type":"json_schema","schema":{"type":"object","properties":{"n":{"description":"Note: minimum value: 1, maximum value: 9.","type":"integer"},"tags":{"description":"Tags Note: minimum number of items: 1.","type":"array","items":{"description":"Note: maximum length: 5.","type":"string"}}},"required":["n"]}}}"""),
            "claude-sonnet-4-5"
        },
        {
            "response_format json_schema on older models → forced json_tool_call tool",
            J("""{"messages":@HI,"max_tokens":5,"response_format":{"type":"json_schema","json_schema":{"name":"r","schema":{"type":"object","properties":{"a":{"type":"string"}}}}}}"""),
            J("""{"model":"claude-3-5-haiku-20241022","messages":@HIOUT,"max_tokens":5,"tools":[{"name":"json_tool_call","input_schema":{"type":"object","properties":{"a":{"type":"string"}}}}],"tool_choice":{"name":"json_tool_call","type":"tool"}}"""),
            "claude-3-5-haiku-20241022"
        },
        { "response_format json_object adds nothing", J("""{"messages":@HI,"max_tokens":5,"response_format":{"type":"json_object"}}"""), J("""{"model":"m","messages":@HIOUT,"max_tokens":5}"""), "m" },
        { "response_format text adds nothing", J("""{"messages":@HI,"max_tokens":5,"response_format":{"type":"text"}}"""), J("""{"model":"m","messages":@HIOUT,"max_tokens":5}"""), "m" },
        { "reasoning_effort low → 1024 budget, max_tokens budget+4096", J("""{"messages":@HI,"reasoning_effort":"low"}"""), J("""{"model":"claude-sonnet-4-5","messages":@HIOUT,"max_tokens":5120,"thinking":{"type":"enabled","budget_tokens":1024}}"""), "claude-sonnet-4-5" },
        { "reasoning_effort minimal", J("""{"messages":@HI,"max_tokens":900,"reasoning_effort":"minimal"}"""), J("""{"model":"claude-sonnet-4-5","messages":@HIOUT,"max_tokens":900,"thinking":{"type":"enabled","budget_tokens":128}}"""), "claude-sonnet-4-5" },
        { "reasoning_effort medium", J("""{"messages":@HI,"max_tokens":9000,"reasoning_effort":"medium"}"""), J("""{"model":"claude-sonnet-4-5","messages":@HIOUT,"max_tokens":9000,"thinking":{"type":"enabled","budget_tokens":2048}}"""), "claude-sonnet-4-5" },
        { "reasoning_effort high", J("""{"messages":@HI,"max_tokens":9000,"reasoning_effort":"high"}"""), J("""{"model":"claude-sonnet-4-5","messages":@HIOUT,"max_tokens":9000,"thinking":{"type":"enabled","budget_tokens":4096}}"""), "claude-sonnet-4-5" },
        { "reasoning_effort on a 4.6 model → adaptive", J("""{"messages":@HI,"max_tokens":9000,"reasoning_effort":"high"}"""), J("""{"model":"claude-opus-4-6","messages":@HIOUT,"max_tokens":9000,"thinking":{"type":"adaptive"}}"""), "claude-opus-4-6" },
        { "reasoning_effort none → no thinking", J("""{"messages":@HI,"max_tokens":9000,"reasoning_effort":"none"}"""), J("""{"model":"claude-sonnet-4-5","messages":@HIOUT,"max_tokens":9000}"""), "claude-sonnet-4-5" },
        { "thinking passes through; max_tokens = budget + 4096", J("""{"messages":@HI,"thinking":{"type":"enabled","budget_tokens":2000}}"""), J("""{"model":"claude-sonnet-4-5","messages":@HIOUT,"max_tokens":6096,"thinking":{"type":"enabled","budget_tokens":2000}}"""), "claude-sonnet-4-5" },
        {
            "web_search_options → web_search tool",
            J("""{"messages":@HI,"max_tokens":5,"web_search_options":{"search_context_size":"high","user_location":{"type":"approximate","approximate":{"city":"Paris","country":"FR"}}}}"""),
            J("""{"model":"m","messages":@HIOUT,"max_tokens":5,"tools":[{"type":"web_search_20250305","name":"web_search","user_location":{"type":"approximate","city":"Paris","country":"FR"},"max_uses":10}]}"""),
            "m"
        },
        {
            "context_management compaction list → compact edit",
            J("""{"messages":@HI,"max_tokens":5,"context_management":[{"type":"compaction","compact_threshold":100000}]}"""),
            J("""{"model":"m","messages":@HIOUT,"max_tokens":5,"context_management":{"edits":[{"type":"compact_20260112","trigger":{"type":"input_tokens","value":100000}}]}}"""),
            "m"
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Openai_request_becomes_the_anthropic_body(string name, string openAI, string expected, string model)
    {
        Assert.NotEmpty(name);
        var request = JsonNode.Parse(openAI)!.AsObject();
        request["model"] = "claude";
        var (body, _) = Write(request.ToJsonString(), model);
        var expectedNode = JsonNode.Parse(expected)!;
        expectedNode["model"] = model;
        AssertJsonEqual(expectedNode.ToJsonString(), body);
    }

    [Fact]
    public void Whitespace_only_stop_sequences_are_removed_only_under_drop_params()
    {
        var request = J("""{"model":"claude","messages":@HI,"max_tokens":5,"stop":["\n"," ","END"]}""");
        var (kept, _) = Write(request, "m");
        Assert.Equal(3, kept["stop_sequences"]!.AsArray().Count);
        var (dropped, _) = Write(request, "m", dropParams: true);
        AssertJsonEqual("""["END"]""", dropped["stop_sequences"]);
    }

    [Fact]
    public void Dropped_params_are_left_out()
    {
        var (body, _) = Write(J("""{"model":"claude","messages":@HI,"max_tokens":5,"temperature":0.3,"stop":"x","user":"u1"}"""), "m", false, "temperature", "stop", "user");
        AssertJsonEqual(J("""{"model":"m","messages":@HIOUT,"max_tokens":5}"""), body);
    }

    [Theory]
    [InlineData("""{"type":"function","function":{"name":"f"}}""", """{"type":"tool","name":"f"}""")]
    [InlineData("""{"type":"auto"}""", """{"type":"auto"}""")]
    [InlineData("""{"type":"required"}""", """{"type":"any"}""")]
    [InlineData("""{"type":"any"}""", """{"type":"any"}""")]
    [InlineData("""{"type":"none"}""", """{"type":"none"}""")]
    public void Tool_choice_objects_map_as_litellm_maps_them(string toolChoice, string expected)
    {
        var (body, _) = Write(J("""{"model":"claude","messages":@HI,"max_tokens":5,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":@TC}""").Replace("@TC", toolChoice, StringComparison.Ordinal), "m");
        AssertJsonEqual(expected, body["tool_choice"]);
    }

    [Fact]
    public void Json_tool_is_not_forced_while_thinking()
    {
        var (body, _) = Write(J("""{"model":"claude","messages":@HI,"max_tokens":9000,"reasoning_effort":"low","response_format":{"type":"json_schema","json_schema":{"name":"r","schema":{"type":"object"}}}}"""), "claude-3-7-sonnet-20250219");
        Assert.Null(body["tool_choice"]);
        Assert.Equal("json_tool_call", body["tools"]![0]!["name"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"response_format":{"type":"json_schema","json_schema":{"name":"r","schema":{"type":"object"}}}}""", "claude-sonnet-4-5", "structured-outputs-2025-11-13")]
    [InlineData("""{"tools":[{"type":"computer_20250124","function":{"name":"computer","parameters":{"display_width_px":1024,"display_height_px":768}}}]}""", "m", "computer-use-2025-01-24")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file_abc","format":"application/pdf"}}]}]}""", "m", "files-api-2025-04-14")]
    [InlineData("""{"mcp_servers":[{"type":"url","url":"https://mcp.example.com","name":"x"}]}""", "m", "mcp-client-2025-04-04")]
    [InlineData("""{"output_config":{"effort":"low"}}""", "claude-opus-4-5", "effort-2025-11-24")]
    [InlineData("""{"speed":"fast"}""", "claude-opus-4-6", "fast-mode-2026-02-01")]
    public void Features_that_need_a_beta_ask_for_it(string fields, string model, string beta)
    {
        var node = JsonNode.Parse(fields)!.AsObject();
        node["model"] = "claude";
        node["max_tokens"] = 5;
        if (!node.ContainsKey("messages")) node["messages"] = JsonNode.Parse(Hi);
        var (_, betas) = Write(node.ToJsonString(), model);
        Assert.Contains(beta, betas);
    }

    [Fact]
    public void No_beta_is_asked_for_a_plain_request_with_prompt_caching()
    {
        var (_, betas) = Write("""{"model":"claude","max_tokens":5,"messages":[{"role":"system","content":"s","cache_control":{"type":"ephemeral"}},{"role":"user","content":"hi"}]}""");
        Assert.Empty(betas);
    }

    [Fact]
    public void Tool_messages_without_tools_are_refused_before_any_call()
    {
        var ex = Assert.Throws<LlmException>(() => Write("""{"model":"claude","max_tokens":5,"messages":[{"role":"user","content":"q"},{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","content":"r"}]}"""));
        Assert.Equal(ErrorKind.UnsupportedParam, ex.Error.Kind);
        Assert.Contains("tools", ex.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_system_messages_is_a_clear_400()
    {
        var ex = Assert.Throws<LlmException>(() => Write("""{"model":"claude","messages":[{"role":"system","content":"s"}]}"""));
        Assert.Equal(400, ex.Error.HttpStatus);
        Assert.Contains("user", ex.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_reasoning_effort_is_a_clear_400()
    {
        var ex = Assert.Throws<LlmException>(() => Write(J("""{"model":"claude","messages":@HI,"reasoning_effort":"extreme"}""")));
        Assert.Equal("reasoning_effort", ex.Error.Param);
    }

    [Theory]
    [InlineData("http://127.0.0.1:4010", "http://127.0.0.1:4010/v1/messages")]
    [InlineData("http://127.0.0.1:4010/", "http://127.0.0.1:4010/v1/messages")]
    [InlineData("https://proxy.example.com/anthropic/v1/messages", "https://proxy.example.com/anthropic/v1/messages")]
    [InlineData(null, "https://api.anthropic.com/v1/messages")]
    public void Api_base_is_read_as_litellm_reads_it(string? apiBase, string expected)
    {
        var context = Create(J("""{"model":"claude","messages":@HI}"""), apiBase: apiBase);
        using var request = new AnthropicProvider().CreateRequest(context);
        Assert.Equal(expected, request.RequestUri!.ToString());
    }

    [Fact]
    public void Request_carries_the_key_version_and_merged_betas()
    {
        var context = Create(J("""{"model":"claude","messages":@HI,"extra_headers":{"anthropic-beta":"custom-beta-1","x-trace":"t1"},"response_format":{"type":"json_schema","json_schema":{"name":"r","schema":{"type":"object"}}}}"""));
        using var request = new AnthropicProvider().CreateRequest(context);
        Assert.Equal("sk-ant-test-key", request.Headers.GetValues("x-api-key").Single());
        Assert.Equal("2023-06-01", request.Headers.GetValues("anthropic-version").Single());
        Assert.Equal("custom-beta-1,structured-outputs-2025-11-13", request.Headers.GetValues("anthropic-beta").Single());
        Assert.Equal("t1", request.Headers.GetValues("x-trace").Single());
        Assert.False(request.Headers.Contains("authorization"));
    }
}
