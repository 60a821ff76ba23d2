using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Errors;
using LLMux.Providers.Gemini;

namespace LLMux.Tests.Gemini;

/// <summary>Non-stream GenerateContentResponse → OpenAI chat completion.</summary>
public sealed class GeminiResponseReaderTests
{
    private static LLMux.Pipeline.Wire.ChatCompletion Read(string json) => GeminiResponseReader.Read(Encoding.UTF8.GetBytes(json), "gemini", "gemini-2.5-flash", 1700000000);

    [Fact]
    public void Candidates_become_choices_with_text_reasoning_and_usage()
    {
        var completion = Read("""
            {"candidates":[
              {"content":{"parts":[{"text":"thinking...","thought":true,"thoughtSignature":"c2ln"},{"text":"Hel"},{"text":"lo"}],"role":"model"},"finishReason":"STOP","index":0},
              {"content":{"parts":[{"text":"Hi"}],"role":"model"},"finishReason":"MAX_TOKENS","index":1}],
             "usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":4,"thoughtsTokenCount":3,"cachedContentTokenCount":6,"totalTokenCount":17},
             "responseId":"r-1"}
            """);
        Assert.Equal("r-1", completion.Id);
        Assert.Equal(2, completion.Choices.Count);
        Assert.Equal("Hello", completion.Choices[0].Message.Content!.Value.GetString());
        Assert.Equal("thinking...", completion.Choices[0].Message.ReasoningContent);
        Assert.Equal("c2ln", completion.Choices[0].Message.ThinkingBlocks!.Value[0].GetProperty("signature").GetString());
        Assert.Equal("stop", completion.Choices[0].FinishReason);
        Assert.Equal("length", completion.Choices[1].FinishReason);
        Assert.Equal(1, completion.Choices[1].Index);
        var usage = completion.Usage!;
        Assert.Equal(10, usage.PromptTokens);
        Assert.Equal(7, usage.CompletionTokens);
        Assert.Equal(17, usage.TotalTokens);
        Assert.Equal(6, usage.CachedTokens);
        Assert.Equal(3, usage.ReasoningTokens);
    }

    [Fact]
    public void Function_calls_get_ids_carry_thought_signatures_and_force_tool_calls()
    {
        var completion = Read("""{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{"q":"é"}},"thoughtSignature":"U0lH"}],"role":"model"},"finishReason":"MAX_TOKENS","index":0}],"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":1,"totalTokenCount":2}}""");
        var choice = Assert.Single(completion.Choices);
        Assert.Equal("tool_calls", choice.FinishReason);
        var call = Assert.Single(choice.Message.ToolCalls!);
        Assert.Matches("^call_[0-9a-f]{24}__thought__U0lH$", call.Id);
        Assert.Equal("""{"q":"é"}""", call.Function!.Arguments);
    }

    [Fact]
    public void Generated_images_go_to_images_not_content()
    {
        var completion = Read("""{"candidates":[{"content":{"parts":[{"text":"here"},{"inlineData":{"mimeType":"image/png","data":"iVBO"}}],"role":"model"},"finishReason":"STOP"}],"usageMetadata":{}}""");
        var message = completion.Choices[0].Message;
        Assert.Equal("here", message.Content!.Value.GetString());
        Assert.Equal("data:image/png;base64,iVBO", message.Extra!["images"][0].GetProperty("image_url").GetProperty("url").GetString());
    }

    [Fact]
    public void A_safety_finish_replaces_the_answer_with_an_empty_content_filter_choice()
    {
        var completion = Read("""{"candidates":[{"content":{"parts":[{"text":"partial"}],"role":"model"},"finishReason":"SAFETY","index":0}],"usageMetadata":{"promptTokenCount":3,"totalTokenCount":3}}""");
        var choice = Assert.Single(completion.Choices);
        Assert.Equal("content_filter", choice.FinishReason);
        Assert.Null(choice.Message.Content);
        Assert.Equal(3, completion.Usage!.PromptTokens);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("{\"usageMetadata\":{}}")]
    public void Answers_that_are_not_a_response_are_bad_gateway_errors(string body)
    {
        var ex = Assert.Throws<LlmException>(() => Read(body));
        Assert.Equal(ErrorKind.BadGateway, ex.Error.Kind);
    }
}
