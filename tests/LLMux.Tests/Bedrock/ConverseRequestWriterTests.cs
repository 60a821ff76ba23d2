using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;
using LLMux.Providers.Bedrock;

namespace LLMux.Tests.Bedrock;

/// <summary>OpenAI chat request → Converse body, compared as JSON (both sides parsed).</summary>
public sealed class ConverseRequestWriterTests
{
    public static TheoryData<string, string, string, string> Cases => new()
    {
        {
            "conversation with tool calls and merged tool results",
            "anthropic.claude-3-haiku-20240307-v1:0",
            """
            {"model":"m","max_completion_tokens":50,"stop":"END","top_p":0.9,"user":"u1","messages":[
              {"role":"system","content":"You are terse."},
              {"role":"developer","content":[{"type":"text","text":"Use metric."}]},
              {"role":"user","content":"Weather in Paris and Rome?"},
              {"role":"assistant","content":null,"tool_calls":[
                {"id":"c1","type":"function","function":{"name":"get-weather","arguments":"{\"city\":\"Paris\"}"}},
                {"id":"c2","type":"function","function":{"name":"get-weather","arguments":""}}]},
              {"role":"tool","tool_call_id":"c1","content":"18C"},
              {"role":"tool","tool_call_id":"c2","content":[{"type":"text","text":"21C"}]},
              {"role":"user","content":[{"type":"text","text":"Thanks"}]},
              {"role":"assistant","content":"  "}]}
            """,
            """
            {"system":[{"text":"You are terse."},{"text":"Use metric."}],
             "messages":[
               {"role":"user","content":[{"text":"Weather in Paris and Rome?"}]},
               {"role":"assistant","content":[
                 {"toolUse":{"toolUseId":"c1","name":"get_weather","input":{"city":"Paris"}}},
                 {"toolUse":{"toolUseId":"c2","name":"get_weather","input":{}}}]},
               {"role":"user","content":[
                 {"toolResult":{"toolUseId":"c1","content":[{"text":"18C"}]}},
                 {"toolResult":{"toolUseId":"c2","content":[{"text":"21C"}]}},
                 {"text":"Thanks"}]},
               {"role":"assistant","content":[]}],
             "inferenceConfig":{"maxTokens":50,"topP":0.9,"stopSequences":["END"]}}
            """
        },
        {
            "image and pdf as bytes, cache points",
            "anthropic.claude-3-haiku-20240307-v1:0",
            """
            {"model":"m","messages":[
              {"role":"system","content":[{"type":"text","text":"Long context","cache_control":{"type":"ephemeral"}}]},
              {"role":"user","content":[
                {"type":"image_url","image_url":{"url":"data:image/jpg;base64,AAAA"}},
                {"type":"file","file":{"file_data":"data:application/pdf;base64,JVBERg=="}},
                {"type":"text","text":"Describe","cache_control":{"type":"ephemeral"}}]}]}
            """,
            """
            {"system":[{"text":"Long context"},{"cachePoint":{"type":"default"}}],
             "messages":[{"role":"user","content":[
               {"image":{"format":"jpeg","source":{"bytes":"AAAA"}}},
               {"document":{"format":"pdf","name":"DocumentPDFmessages_7915496e19c383f8_pdf","source":{"bytes":"JVBERg=="}}},
               {"text":"Describe"},{"cachePoint":{"type":"default"}}]}]}
            """
        },
        {
            "tools with $defs inlined, named choice, parallel_tool_calls on Claude, top_k",
            "us.anthropic.claude-3-5-sonnet-20241022-v2:0",
            """
            {"model":"m","top_k":5,"parallel_tool_calls":false,"messages":[{"role":"user","content":"hi"}],
             "tools":[{"type":"function","function":{"name":"find","parameters":{"type":"object","$defs":{"Q":{"type":"string"}},
               "properties":{"q":{"$ref":"#/$defs/Q"}},"required":["q"],"additionalProperties":false}}}],
             "tool_choice":{"type":"function","function":{"name":"find"}}}
            """,
            """
            {"messages":[{"role":"user","content":[{"text":"hi"}]}],
             "toolConfig":{"tools":[{"toolSpec":{"name":"find","description":"find","inputSchema":{"json":{"type":"object","properties":{"q":{"type":"string"}},"required":["q"]}}}}],
                           "toolChoice":{"tool":{"name":"find"}}},
             "additionalModelRequestFields":{"top_k":5,"tool_choice":{"disable_parallel_tool_use":true}}}
            """
        },
        {
            "response_format json_schema becomes the forced json_tool_call tool",
            "anthropic.claude-3-haiku-20240307-v1:0",
            """
            {"model":"m","messages":[{"role":"user","content":"x"}],
             "response_format":{"type":"json_schema","json_schema":{"name":"r","schema":{"type":"object","properties":{"a":{"type":"integer"}}}}}}
            """,
            """
            {"messages":[{"role":"user","content":[{"text":"x"}]}],
             "toolConfig":{"tools":[{"toolSpec":{"name":"json_tool_call","description":"Respond with a JSON object.","inputSchema":{"json":{"type":"object","properties":{"a":{"type":"integer"}}}}}}],
                           "toolChoice":{"tool":{"name":"json_tool_call"}}}}
            """
        },
        {
            "reasoning_effort on Claude 4 sets a thinking budget, raises maxTokens and un-forces tool_choice",
            "us.anthropic.claude-sonnet-4-20250514-v1:0",
            """
            {"model":"m","reasoning_effort":"medium","tool_choice":"required","messages":[{"role":"user","content":"x"}],
             "tools":[{"type":"function","function":{"name":"t","description":"d"}}]}
            """,
            """
            {"messages":[{"role":"user","content":[{"text":"x"}]}],
             "inferenceConfig":{"maxTokens":6144},
             "toolConfig":{"tools":[{"toolSpec":{"name":"t","description":"d","inputSchema":{"json":{"type":"object","properties":{}}}}}],"toolChoice":{"auto":{}}},
             "additionalModelRequestFields":{"thinking":{"type":"enabled","budget_tokens":2048}}}
            """
        },
        {
            "thinking budget below 1024 is raised; assistant thinking blocks go back as reasoningContent",
            "anthropic.claude-3-7-sonnet-20250219-v1:0",
            """
            {"model":"m","max_tokens":3000,"thinking":{"type":"enabled","budget_tokens":100},"messages":[
              {"role":"user","content":"x"},
              {"role":"assistant","content":"y","thinking_blocks":[{"type":"thinking","thinking":"hmm","signature":"s1"},{"type":"redacted_thinking","data":"zz"}]},
              {"role":"user","content":"z"}]}
            """,
            """
            {"messages":[{"role":"user","content":[{"text":"x"}]},
               {"role":"assistant","content":[{"reasoningContent":{"reasoningText":{"text":"hmm","signature":"s1"}}},{"reasoningContent":{"redactedContent":"zz"}},{"text":"y"}]},
               {"role":"user","content":[{"text":"z"}]}],
             "inferenceConfig":{"maxTokens":3000},
             "additionalModelRequestFields":{"thinking":{"type":"enabled","budget_tokens":1024}}}
            """
        },
        {
            "Nova: top_k inside additionalModelRequestFields.inferenceConfig; service_tier and requestMetadata",
            "us.amazon.nova-pro-v1:0",
            """
            {"model":"m","top_k":20,"temperature":0.2,"service_tier":"auto","requestMetadata":{"team":"a"},"messages":[{"role":"user","content":"x"}]}
            """,
            """
            {"messages":[{"role":"user","content":[{"text":"x"}]}],
             "inferenceConfig":{"temperature":0.2},
             "additionalModelRequestFields":{"inferenceConfig":{"topK":20}},
             "serviceTier":{"type":"default"},
             "requestMetadata":{"team":"a"}}
            """
        },
        {
            "concatenated JSON objects in one arguments string become several toolUse blocks; invalid arguments become {}",
            "anthropic.claude-3-haiku-20240307-v1:0",
            """
            {"model":"m","messages":[{"role":"user","content":"x"},
              {"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{\"a\":1}{\"a\":2}"}},
                                                {"id":"d","type":"function","function":{"name":"f","arguments":"{oops"}}]},
              {"role":"tool","tool_call_id":"c","content":"ok"}],
             "tools":[{"type":"function","function":{"name":"f","description":"F"}}]}
            """,
            """
            {"messages":[{"role":"user","content":[{"text":"x"}]},
               {"role":"assistant","content":[{"toolUse":{"toolUseId":"c","name":"f","input":{"a":1}}},{"toolUse":{"toolUseId":"c_1","name":"f","input":{"a":2}}},
                                              {"toolUse":{"toolUseId":"d","name":"f","input":{}}}]},
               {"role":"user","content":[{"toolResult":{"toolUseId":"c","content":[{"text":"ok"}]}}]}],
             "toolConfig":{"tools":[{"toolSpec":{"name":"f","description":"F","inputSchema":{"json":{"type":"object","properties":{}}}}}]}}
            """
        },
        {
            "gpt-oss reasoning_effort passes as is",
            "openai.gpt-oss-120b-1:0",
            """{"model":"m","reasoning_effort":"high","messages":[{"role":"user","content":"x"}]}""",
            """{"messages":[{"role":"user","content":[{"text":"x"}]}],"additionalModelRequestFields":{"reasoning_effort":"high"}}"""
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Request_is_written_as_converse_json(string name, string modelId, string openAi, string expected)
    {
        _ = name;
        var (actual, _) = Write(openAi, modelId);
        AssertJsonEqual(expected, actual);
    }

    [Fact]
    public void Top_k_is_dropped_with_a_warning_for_models_without_it()
    {
        var (body, context) = Write("""{"model":"m","top_k":3,"messages":[{"role":"user","content":"x"}]}""", "meta.llama3-1-70b-instruct-v1:0");
        Assert.DoesNotContain("top", body);
        Assert.Contains("top_k", context.DroppedParams);
    }

    [Fact]
    public void Dropped_params_are_left_out()
    {
        var (body, _) = Write("""{"model":"m","temperature":0.3,"max_tokens":9,"messages":[{"role":"user","content":"x"}]}""", "anthropic.claude-3-haiku-20240307-v1:0", dropped: ["temperature"]);
        AssertJsonEqual("""{"messages":[{"role":"user","content":[{"text":"x"}]}],"inferenceConfig":{"maxTokens":9}}""", body);
    }

    [Fact]
    public void Tool_choice_none_is_refused_without_drop_params_and_dropped_with_it()
    {
        const string request = """{"model":"m","tool_choice":"none","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"t"}}]}""";
        var ex = Assert.Throws<LlmException>(() => Write(request, "anthropic.claude-3-haiku-20240307-v1:0"));
        Assert.Equal(ErrorKind.UnsupportedParam, ex.Error.Kind);
        var (body, context) = Write(request, "anthropic.claude-3-haiku-20240307-v1:0", dropParams: true);
        Assert.DoesNotContain("toolChoice", body);
        Assert.Contains("tool_choice", context.DroppedParams);
    }

    [Fact]
    public void Http_image_urls_are_refused_with_a_clear_message()
    {
        var ex = Assert.Throws<LlmException>(() => Write("""{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}""", "anthropic.claude-3-haiku-20240307-v1:0"));
        Assert.Contains("data: URI", ex.Error.Message);
    }

    [Theory]
    [InlineData("us.anthropic.claude-3-5-sonnet-20241022-v2:0", "anthropic.claude-3-5-sonnet-20241022-v2:0")]
    [InlineData("converse/eu.amazon.nova-lite-v1:0", "amazon.nova-lite-v1:0")]
    [InlineData("anthropic.claude-3-haiku-20240307-v1:0:48k", "anthropic.claude-3-haiku-20240307-v1:0")]
    [InlineData("arn:aws:bedrock:eu-west-1:123:inference-profile/eu.meta.llama3-2-1b-instruct-v1:0", "meta.llama3-2-1b-instruct-v1:0")]
    public void Base_model_strips_route_region_arn_and_throughput(string upstream, string baseModel)
    {
        Assert.Equal(baseModel, BedrockModel.Parse(upstream, null).BaseModel);
    }

    private static (string Body, LlmContext Context) Write(string openAi, string modelId, IEnumerable<string>? dropped = null, bool dropParams = false)
    {
        var context = new LlmContext { Chat = JsonSerializer.Deserialize(openAi, WireJson.Default.ChatRequest), DropParams = dropParams };
        foreach (var d in dropped ?? []) context.AddDroppedParam(d);
        using var buffer = new PooledBuffer();
        ConverseRequestWriter.Write(context, BedrockModel.Parse(modelId, null), buffer);
        return (System.Text.Encoding.UTF8.GetString(buffer.Span), context);
    }

    private static void AssertJsonEqual(string expected, string actual)
    {
        using var e = JsonDocument.Parse(expected);
        using var a = JsonDocument.Parse(actual);
        Assert.True(JsonElement.DeepEquals(e.RootElement, a.RootElement), $"expected:\n{JsonSerializer.Serialize(e.RootElement)}\nactual:\n{actual}");
    }
}
