using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Wire;
using LLMux.Providers.Cohere;

namespace LLMux.Tests.Family;

/// <summary>OpenAI chat request → Cohere <c>/v2/chat</c> body, compared as parsed JSON.</summary>
public sealed class CohereRequestWriterTests
{
    public static TheoryData<string, string, string, string[]> Cases => new()
    {
        {
            "sampling parameters are renamed",
            """{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.3,"top_p":0.9,"max_tokens":64,"stop":"END","seed":7,"frequency_penalty":0.5,"presence_penalty":0.25}""",
            """{"model":"command-r-plus","messages":[{"role":"user","content":"hi"}],"stream":false,"temperature":0.3,"p":0.9,"max_tokens":64,"stop_sequences":["END"],"seed":7,"frequency_penalty":0.5,"presence_penalty":0.25}""",
            []
        },
        {
            "system, developer, tool calls and tool results",
            """
            {"model":"m","stream":true,"max_completion_tokens":10,"max_tokens":99,"messages":[
              {"role":"system","content":"be terse"},
              {"role":"developer","content":[{"type":"text","text":"metric"}]},
              {"role":"user","content":"weather?"},
              {"role":"assistant","content":"Let me look.","tool_calls":[{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
              {"role":"tool","tool_call_id":"c1","content":"18C"}]}
            """,
            """
            {"model":"command-r-plus","stream":true,"max_tokens":10,"messages":[
              {"role":"system","content":"be terse"},
              {"role":"system","content":"metric"},
              {"role":"user","content":"weather?"},
              {"role":"assistant","tool_plan":"Let me look.","tool_calls":[{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
              {"role":"tool","tool_call_id":"c1","content":"18C"}]}
            """,
            []
        },
        {
            "tools, required tool_choice and json_schema response_format",
            """
            {"model":"m","messages":[{"role":"user","content":"x"}],
             "tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object","properties":{"a":{"type":"string"}}}}}],
             "tool_choice":"required",
             "response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"type":"object"}}}}
            """,
            """
            {"model":"command-r-plus","stream":false,"messages":[{"role":"user","content":"x"}],
             "tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object","properties":{"a":{"type":"string"}}}}}],
             "tool_choice":"REQUIRED",
             "response_format":{"type":"json_object","json_schema":{"type":"object"}}}
            """,
            []
        },
        {
            "json_object and auto tool_choice",
            """{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"auto","response_format":{"type":"json_object"}}""",
            """{"model":"command-r-plus","stream":false,"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}}""",
            []
        },
        {
            "dropped parameters are left out",
            """{"model":"m","messages":[{"role":"user","content":"x"}],"seed":3,"temperature":1,"n":1,"logit_bias":{"1":2}}""",
            """{"model":"command-r-plus","stream":false,"messages":[{"role":"user","content":"x"}],"temperature":1}""",
            ["seed", "n", "logit_bias"]
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Writes_the_cohere_body(string name, string openAI, string expected, string[] dropped)
    {
        _ = name;
        var bytes = Encoding.UTF8.GetBytes(openAI);
        var chat = JsonSerializer.Deserialize(bytes, WireJson.Default.ChatRequest)!;
        var context = new LlmContext
        {
            Mode = LlmMode.Chat,
            Body = bytes,
            Chat = chat,
            IsStream = chat.IsStream,
            Deployment = new Deployment { ModelName = "c", Model = "cohere/command-r-plus", ProviderName = "cohere", UpstreamModel = "command-r-plus", Provider = new CohereProvider(), Id = "d" },
        };
        foreach (var d in dropped) context.AddDroppedParam(d);
        using var buffer = new PooledBuffer();
        CohereRequestWriter.Write(context, buffer);
        var actual = JsonNode.Parse(buffer.Span.ToArray());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), actual?.ToJsonString());
    }

    [Fact]
    public void Spec_covers_every_openai_chat_parameter_anthropic_does()
    {
        foreach (var rule in LLMux.Providers.Anthropic.AnthropicSpec.ChatParams)
        {
            if (rule.Param is "thinking" or "speed" or "output_config" or "container" or "mcp_servers" or "context_management" or "extra_headers" or "metadata" or "top_k") continue;
            Assert.True(CohereSpec.Spec.ChatParams.ContainsKey(rule.Param), rule.Param);
        }
    }
}
