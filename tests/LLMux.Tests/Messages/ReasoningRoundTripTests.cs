using System.Text.Json;
using Anthropic;
using Anthropic.Models.Messages;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;

namespace LLMux.Tests.Messages;

/// <summary>
/// Multi-turn thinking with tool use through /v1/messages (Anthropic SDK as the client): Gemini's
/// <c>thoughtSignature</c> and Bedrock Converse's <c>reasoningContent</c> signatures reach the client inside the
/// thinking block's <c>signature</c>, tagged with their provider, go back to that provider as they came, and are
/// left out when the next turn goes to another provider (Anthropic included) instead of failing the call.
/// Streams keep Anthropic's grammar with parallel tool calls.
/// </summary>
public sealed class ReasoningRoundTripTests : IAsyncLifetime
{
    private const string GeminiSignature = "Z2VtaW5pLXRob3VnaHQtc2lnbmF0dXJl";
    private const string BedrockSignature = "YmVkcm9jay1yZWFzb25pbmctc2lnbmF0dXJl";

    private GeminiEmulator _gemini = null!;
    private BedrockEmulator _bedrock = null!;
    private AnthropicEmulator _anthropic = null!;
    private GatewayHost _gateway = null!;
    private AnthropicClient _client = null!;

    public async Task InitializeAsync()
    {
        _gemini = await GeminiEmulator.StartNewAsync();
        _bedrock = await BedrockEmulator.StartNewAsync();
        _anthropic = await AnthropicEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync($"""
            general_settings:
              master_key: {AnthropicSdk.MasterKey}
            router_settings:
              num_retries: 0
            model_list:
              - model_name: gem
                litellm_params:
                  model: gemini/gemini-2.5-flash
                  api_base: {_gemini.GeminiApiBase}
                  api_key: gemini-test-key
              - model_name: bed
                litellm_params:
                  model: bedrock/converse/anthropic.claude-sonnet-4-5-20250929-v1:0
                  api_base: {_bedrock.ApiBase}
                  aws_access_key_id: {BedrockEmulator.AccessKeyId}
                  aws_secret_access_key: {BedrockEmulator.SecretAccessKey}
                  aws_region_name: {BedrockEmulator.Region}
              - model_name: ant
                litellm_params:
                  model: anthropic/claude-sonnet-4-5
                  api_base: {_anthropic.ApiBase}
                  api_key: sk-ant-upstream
            """);
        _client = AnthropicSdk.For(_gateway);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _gateway.DisposeAsync();
        await _gemini.DisposeAsync();
        await _bedrock.DisposeAsync();
        await _anthropic.DisposeAsync();
    }

    private static readonly Tool Weather = new()
    {
        Name = "get_weather",
        Description = "Weather for a city",
        InputSchema = new() { Properties = new Dictionary<string, JsonElement> { ["city"] = JsonSerializer.SerializeToElement(new { type = "string" }) }, Required = ["city"] },
    };

    private static MessageCreateParams FirstTurn(string model) => new()
    {
        Model = model,
        MaxTokens = 4096,
        Thinking = new ThinkingConfigEnabled { BudgetTokens = 2048 },
        Tools = [Weather],
        Messages = [new UserMessageParam("Weather in Paris?")],
    };

    /// <summary>The second turn: the first answer's blocks as the client got them, then the tool result.</summary>
    private static MessageCreateParams SecondTurn(string model, Message first)
    {
        var assistant = new List<ContentBlockParam>();
        foreach (var block in first.Content)
        {
            if (block.TryPickThinking(out var t)) assistant.Add(new ThinkingBlockParam { Thinking = t.Thinking, Signature = t.Signature });
            else if (block.TryPickText(out var x)) assistant.Add(new TextBlockParam { Text = x.Text });
            else if (block.TryPickToolUse(out var u)) assistant.Add(new ToolUseBlockParam { ID = u.ID, Name = u.Name, Input = u.Input });
        }
        var use = first.Content.Select(static b => b.TryPickToolUse(out var u) ? u : null).First(static u => u is not null)!;
        return FirstTurn(model) with
        {
            Messages =
            [
                new UserMessageParam("Weather in Paris?"),
                new AssistantMessageParam { Content = assistant },
                new UserMessageParam { Content = new List<ContentBlockParam> { new ToolResultBlockParam { ToolUseID = use.ID, Content = "sunny, 21C" } } },
            ],
        };
    }

    private async Task<Message> AskAsync(MessageCreateParams request, bool stream) =>
        stream ? await _client.Messages.CreateStreaming(request).Aggregate() : await _client.Messages.Create(request);

    private static string Signature(Message message) =>
        message.Content.Select(static b => b.TryPickThinking(out var t) ? t.Signature : null).Single(static s => s is not null)!;

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public async Task Gemini_thought_signature_goes_back_to_Gemini_as_it_came(bool stream, bool onFunctionCall)
    {
        // Gemini 2.5 signs its thought part; Gemini 3 signs the function call itself.
        _gemini.Enqueue(new GeminiScript { Thought = onFunctionCall ? null : "Checking the weather tool.", ThoughtSignature = GeminiSignature, FunctionCalls = [("get_weather", """{"city":"Paris"}""")] });
        var first = await AskAsync(FirstTurn("gem"), stream);
        Assert.Equal(StopReason.ToolUse, first.StopReason!.Value());

        if (!onFunctionCall) Assert.Equal("llmux1:gemini:" + GeminiSignature, Signature(first));
        _gemini.Enqueue(new GeminiScript { Text = "Sunny, 21C." });
        var second = await _client.Messages.Create(SecondTurn("gem", first));
        Assert.True(second.Content.Last().TryPickText(out var text));
        Assert.Equal("Sunny, 21C.", text!.Text);

        using var sent = _gemini.ModelRequests.Last().Json();
        var modelTurn = sent.RootElement.GetProperty("contents").EnumerateArray().Single(static c => c.TryGetProperty("role", out var r) && r.GetString() == "model");
        var signed = modelTurn.GetProperty("parts").EnumerateArray().Where(static p => p.TryGetProperty("thoughtSignature", out _)).ToList();
        Assert.NotEmpty(signed);
        Assert.All(signed, static p => Assert.Equal(GeminiSignature, p.GetProperty("thoughtSignature").GetString()));
        Assert.Contains(modelTurn.GetProperty("parts").EnumerateArray(), static p => p.TryGetProperty("functionCall", out _) || p.TryGetProperty("function_call", out _));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Bedrock_reasoning_signature_goes_back_to_Converse_as_it_came(bool stream)
    {
        _bedrock.Enqueue(new BedrockScript { Reasoning = ("Checking the weather tool.", BedrockSignature), ToolCall = ("get_weather", """{"city":"Paris"}""") });
        var first = await AskAsync(FirstTurn("bed"), stream);
        Assert.Equal(StopReason.ToolUse, first.StopReason!.Value());
        Assert.Equal("llmux1:bedrock:" + BedrockSignature, Signature(first));

        _bedrock.Enqueue(new BedrockScript { Content = "Sunny, 21C." });
        var second = await _client.Messages.Create(SecondTurn("bed", first));
        Assert.True(second.Content.Last().TryPickText(out var text));
        Assert.Equal("Sunny, 21C.", text!.Text);

        using var sent = _bedrock.Requests.Last().Json();
        var assistant = sent.RootElement.GetProperty("messages").EnumerateArray().Single(static m => m.GetProperty("role").GetString() == "assistant");
        var blocks = assistant.GetProperty("content").EnumerateArray().ToList();
        // Anthropic's rule on Bedrock too: the signed reasoning comes first, unchanged, then the tool use.
        var reasoning = blocks[0].GetProperty("reasoningContent").GetProperty("reasoningText");
        Assert.Equal(BedrockSignature, reasoning.GetProperty("signature").GetString());
        Assert.Equal("Checking the weather tool.", reasoning.GetProperty("text").GetString());
        Assert.Contains(blocks, static b => b.TryGetProperty("toolUse", out _));
    }

    [Fact]
    public async Task Reasoning_signed_by_one_provider_is_left_out_when_the_conversation_moves_to_another()
    {
        _bedrock.Enqueue(new BedrockScript { Reasoning = ("Checking the weather tool.", BedrockSignature), ToolCall = ("get_weather", """{"city":"Paris"}""") });
        var fromBedrock = await AskAsync(FirstTurn("bed"), stream: true);

        // Bedrock's reasoning to Gemini: the tool call and its result survive, the signature does not.
        _gemini.Enqueue(new GeminiScript { Text = "Sunny, 21C." });
        var onGemini = await _client.Messages.Create(SecondTurn("gem", fromBedrock));
        Assert.True(onGemini.Content.Last().TryPickText(out _));
        var geminiBody = _gemini.ModelRequests.Last().BodyText;
        Assert.DoesNotContain(BedrockSignature, geminiBody, StringComparison.Ordinal);
        Assert.DoesNotContain("thoughtSignature", geminiBody, StringComparison.Ordinal);
        Assert.Contains("function_response", geminiBody, StringComparison.Ordinal);

        // Gemini's to Bedrock Converse (a Claude model, which would refuse the signature).
        _gemini.Enqueue(new GeminiScript { Thought = "Checking.", ThoughtSignature = GeminiSignature, FunctionCalls = [("get_weather", """{"city":"Paris"}""")] });
        var fromGemini = await AskAsync(FirstTurn("gem"), stream: true);
        _bedrock.Enqueue(new BedrockScript { Content = "Sunny, 21C." });
        await _client.Messages.Create(SecondTurn("bed", fromGemini));
        var bedrockBody = _bedrock.Requests.Last().BodyText;
        Assert.DoesNotContain(GeminiSignature, bedrockBody, StringComparison.Ordinal);
        Assert.DoesNotContain("reasoningContent", bedrockBody, StringComparison.Ordinal);
        Assert.Contains("toolResult", bedrockBody, StringComparison.Ordinal);

        // Either to Anthropic, whose body goes up as it is: the foreign block is taken out, and thinking with it.
        using var raw = await _client.Messages.WithRawResponse.Create(SecondTurn("ant", fromBedrock));
        var anthropicBody = _anthropic.Requests.Last().BodyText;
        Assert.DoesNotContain(BedrockSignature, anthropicBody, StringComparison.Ordinal);
        Assert.DoesNotContain("\"thinking\"", anthropicBody, StringComparison.Ordinal);
        Assert.Contains("tool_result", anthropicBody, StringComparison.Ordinal);
        Assert.Contains("signed by another provider", string.Join(";", raw.Headers.Where(static h => h.Key.Equals("x-llmux-warnings", StringComparison.OrdinalIgnoreCase)).SelectMany(static h => h.Value)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Anthropic_signatures_stay_as_they_are_and_reach_Anthropic()
    {
        _anthropic.Enqueue(new AnthropicScript { Thinking = "Let me check.", ToolCalls = [("toolu_a1", "get_weather", """{"city":"Paris"}""")] });
        var first = await AskAsync(FirstTurn("ant"), stream: true);
        var signature = Signature(first);
        Assert.DoesNotContain("llmux1:", signature, StringComparison.Ordinal);
        await _client.Messages.Create(SecondTurn("ant", first));
        Assert.Contains(signature, _anthropic.Requests.Last().BodyText, StringComparison.Ordinal);
    }

    public static TheoryData<string> ParallelBackends => new() { "gem", "bed" };

    [Theory]
    [MemberData(nameof(ParallelBackends))]
    public async Task Parallel_tool_calls_stream_in_Anthropic_grammar(string model)
    {
        if (model == "gem")
            _gemini.Enqueue(new GeminiScript { Thought = "Two cities.", ThoughtSignature = GeminiSignature, FunctionCalls = [("get_weather", """{"city":"Paris"}"""), ("get_weather", """{"city":"Rome"}""")] });
        else
            _bedrock.Enqueue(new BedrockScript { Reasoning = ("Two cities.", BedrockSignature), Content = "", ToolCall = ("get_weather", """{"city":"Paris"}"""), MoreToolCalls = [("get_weather", """{"city":"Rome"}""")] });

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages")
        {
            Content = new StringContent($$$$$"""{"model":"{{{{{model}}}}}","max_tokens":4096,"stream":true,"thinking":{"type":"enabled","budget_tokens":2048},"tools":[{"name":"get_weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}],"messages":[{"role":"user","content":"Weather in Paris and Rome?"}]}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-api-key", AnthropicSdk.MasterKey);
        using var response = await _gateway.Http.SendAsync(request);
        var events = AnthropicEventStream.Parse(await response.Content.ReadAsStringAsync());
        var blocks = AnthropicEventStream.AssertValid(events, complete: true);

        Assert.Equal("ping", events[1].Name);
        Assert.Equal("thinking", blocks[0].Type);
        var tools = blocks.Where(static b => b.Type == "tool_use").ToList();
        Assert.Equal(2, tools.Count);
        Assert.Equal(["Paris", "Rome"], tools.Select(static t => JsonDocument.Parse(t.Text).RootElement.GetProperty("city").GetString()));
        Assert.Equal(tools.Count, tools.Select(static t => t.Id).Distinct().Count());
        Assert.Equal("tool_use", (string?)events.Single(static e => e.Name == "message_delta").Data["delta"]!["stop_reason"]);
        Assert.Contains(events, static e => e.Name == "content_block_delta" && (string?)e.Data["delta"]!["type"] == "input_json_delta");
    }
}
