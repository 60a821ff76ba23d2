using LLMux.Providers.Bedrock;

namespace LLMux.Tests.Bedrock;

/// <summary>Non-stream Converse answers read into OpenAI completions.</summary>
public sealed class ConverseResponseReaderTests
{
    [Theory]
    [InlineData("<think>plan</think>\n\nAnswer", "plan", "Answer")]
    [InlineData("  <thinking> a b </thinking>Done", "a b", "Done")]
    public void Leading_think_section_becomes_reasoning(string text, string reasoning, string answer)
    {
        Assert.Equal((reasoning, answer), ConverseResponseReader.SplitThinking(text));
    }

    [Theory]
    [InlineData("No tags here")]
    [InlineData("<think>never closed")]
    [InlineData("Answer <think>late</think>")]
    public void Text_without_a_leading_closed_think_section_is_left_alone(string text)
    {
        Assert.Null(ConverseResponseReader.SplitThinking(text));
    }

    [Fact]
    public void Tool_use_and_usage_are_read_with_the_clients_tool_name()
    {
        var context = new LLMux.Pipeline.Context.LlmContext
        {
            Chat = new LLMux.Pipeline.Wire.ChatRequest { Tools = [new() { Function = new() { Name = "get-weather" } }] },
        };
        var body = """
            {"output":{"message":{"role":"assistant","content":[{"text":"Checking."},{"toolUse":{"toolUseId":"t-1","name":"get_weather","input":{"city":"Oslo"}}}]}},
             "stopReason":"tool_use","usage":{"inputTokens":7,"outputTokens":3,"totalTokens":20,"cacheReadInputTokens":10,"cacheWriteInputTokens":0}}
            """u8;
        var completion = ConverseResponseReader.Read(body, context, "m", jsonMode: false);
        var choice = Assert.Single(completion.Choices);
        Assert.Equal("tool_calls", choice.FinishReason);
        Assert.Equal("Checking.", choice.Message.Content!.Value.GetString());
        var call = Assert.Single(choice.Message.ToolCalls!);
        Assert.Equal(("t-1", "get-weather", """{"city":"Oslo"}"""), (call.Id, call.Function!.Name, call.Function.Arguments));
        Assert.Equal(17, completion.Usage!.PromptTokens);
        Assert.Equal(20, completion.Usage.TotalTokens);
        Assert.Equal(10, completion.Usage.CachedTokens);
    }

    [Fact]
    public void Body_without_output_message_is_a_bad_gateway()
    {
        var ex = Assert.Throws<LLMux.Pipeline.Errors.LlmException>(() => ConverseResponseReader.Read("""{"Output":{}}"""u8, new LLMux.Pipeline.Context.LlmContext(), "m", false));
        Assert.Equal(LLMux.Pipeline.Errors.ErrorKind.BadGateway, ex.Error.Kind);
    }
}
