using System.Text.Json;
using System.Text.Json.Nodes;
using LLMux.Pipeline.Wire;
using LLMux.Stages.Hosting;
using Microsoft.Extensions.AI;
using MeaiMessage = Microsoft.Extensions.AI.ChatMessage;

namespace LLMux.Tests.Library;

/// <summary>M.E.AI messages and options → the OpenAI request, compared as JSON.</summary>
public sealed class ChatRequestMapperTests
{
    private static JsonNode Map(IEnumerable<MeaiMessage> messages, ChatOptions? options = null) =>
        JsonNode.Parse(JsonSerializer.Serialize(ChatRequestMapper.ToRequest(messages, options, "default-model", null), WireJson.Default.ChatRequest))!;

    [Fact]
    public void Tool_calls_and_results_become_assistant_tool_calls_and_tool_messages()
    {
        var messages = new[]
        {
            new MeaiMessage(ChatRole.User, "weather?"),
            new MeaiMessage(ChatRole.Assistant, [new FunctionCallContent("call_9", "get_weather", new Dictionary<string, object?> { ["city"] = "Oslo" })]),
            new MeaiMessage(ChatRole.Tool, [new FunctionResultContent("call_9", new { temp = 3 })]),
        };
        var actual = Map(messages);
        var expected = JsonNode.Parse("""
            {"model":"default-model","messages":[
              {"role":"user","content":"weather?"},
              {"role":"assistant","tool_calls":[{"id":"call_9","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}]},
              {"role":"tool","content":"{\"temp\":3}","tool_call_id":"call_9"}]}
            """);
        Assert.True(JsonNode.DeepEquals(expected, actual), actual.ToJsonString());
    }

    [Fact]
    public void Images_make_content_parts_and_text_alone_stays_a_string()
    {
        var image = new DataContent(new byte[] { 1, 2, 3 }, "image/png");
        var actual = Map([new MeaiMessage(ChatRole.User, [new TextContent("what is this"), image])]);
        var parts = actual["messages"]![0]!["content"]!.AsArray();
        Assert.Equal("text", parts[0]!["type"]!.GetValue<string>());
        Assert.Equal("image_url", parts[1]!["type"]!.GetValue<string>());
        Assert.Equal("data:image/png;base64,AQID", parts[1]!["image_url"]!["url"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("auto", "\"auto\"")]
    [InlineData("none", "\"none\"")]
    [InlineData("any", "\"required\"")]
    [InlineData("specific", "{\"type\":\"function\",\"function\":{\"name\":\"f\"}}")]
    public void Tool_modes_become_tool_choice(string mode, string expected)
    {
        var options = new ChatOptions
        {
            Tools = [AIFunctionFactory.Create(static (int x) => x, "f")],
            ToolMode = mode switch { "auto" => ChatToolMode.Auto, "none" => ChatToolMode.None, "any" => ChatToolMode.RequireAny, _ => ChatToolMode.RequireSpecific("f") },
        };
        var actual = Map([new MeaiMessage(ChatRole.User, "x")], options);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual["tool_choice"]), actual["tool_choice"]!.ToJsonString());
        Assert.Equal("f", actual["tools"]![0]!["function"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public void Json_without_schema_is_json_object_and_options_model_wins()
    {
        var actual = Map([new MeaiMessage(ChatRole.User, "x")], new ChatOptions { ModelId = "other", ResponseFormat = ChatResponseFormat.Json, Instructions = "be terse" });
        Assert.Equal("other", actual["model"]!.GetValue<string>());
        Assert.Equal("json_object", actual["response_format"]!["type"]!.GetValue<string>());
        Assert.Equal("system", actual["messages"]![0]!["role"]!.GetValue<string>());
        Assert.Equal("be terse", actual["messages"]![0]!["content"]!.GetValue<string>());
    }
}
