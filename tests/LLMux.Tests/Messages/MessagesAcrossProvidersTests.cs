using System.Text.Json;
using Anthropic;
using Anthropic.Models.Messages;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;

namespace LLMux.Tests.Messages;

/// <summary>
/// The official Anthropic SDK against /v1/messages, routed to the Gemini and Bedrock emulators: text and tools,
/// stream and non-stream, each upstream receiving its own wire format.
/// </summary>
public sealed class MessagesAcrossProvidersTests : IAsyncLifetime
{
    private GeminiEmulator _gemini = null!;
    private BedrockEmulator _bedrock = null!;
    private GatewayHost _gateway = null!;
    private AnthropicClient _client = null!;

    public async Task InitializeAsync()
    {
        _gemini = await GeminiEmulator.StartNewAsync();
        _bedrock = await BedrockEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync($"""
            general_settings:
              master_key: {AnthropicSdk.MasterKey}
            router_settings:
              num_retries: 0
            model_list:
              - model_name: gemini-flash
                litellm_params:
                  model: gemini/gemini-2.5-flash
                  api_base: {_gemini.GeminiApiBase}
                  api_key: gemini-test-key
              - model_name: bedrock-claude
                litellm_params:
                  model: bedrock/converse/anthropic.claude-3-haiku-20240307-v1:0
                  api_base: {_bedrock.ApiBase}
                  aws_access_key_id: {BedrockEmulator.AccessKeyId}
                  aws_secret_access_key: {BedrockEmulator.SecretAccessKey}
                  aws_region_name: {BedrockEmulator.Region}
            """);
        _client = AnthropicSdk.For(_gateway);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _gateway.DisposeAsync();
        await _gemini.DisposeAsync();
        await _bedrock.DisposeAsync();
    }

    private static readonly Tool Weather = new()
    {
        Name = "get_weather",
        Description = "Weather for a city",
        InputSchema = new() { Properties = new Dictionary<string, JsonElement> { ["city"] = JsonSerializer.SerializeToElement(new { type = "string" }) }, Required = ["city"] },
    };

    private static MessageCreateParams Ask(string model, string text) => new() { Model = model, MaxTokens = 256, Messages = [new UserMessageParam(text)] };

    private void ScriptText(string model, string text)
    {
        if (model == "gemini-flash") _gemini.Enqueue(new GeminiScript { Text = text, Chunks = 3 });
        else _bedrock.Enqueue(new BedrockScript { Content = text, Chunks = 3 });
    }

    private void ScriptTool(string model)
    {
        if (model == "gemini-flash") _gemini.Enqueue(new GeminiScript { FunctionCalls = [("get_weather", """{"city":"Paris"}""")] });
        else _bedrock.Enqueue(new BedrockScript { ToolCall = ("get_weather", """{"city":"Paris"}"""), Chunks = 3 });
    }

    public static TheoryData<string, bool> Cases => new()
    {
        { "gemini-flash", false }, { "gemini-flash", true }, { "bedrock-claude", false }, { "bedrock-claude", true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Text_answer_comes_back_as_an_anthropic_message(string model, bool stream)
    {
        ScriptText(model, "Bonjour tout le monde");
        var request = Ask(model, "Say hello in French");
        var message = stream ? await _client.Messages.CreateStreaming(request).Aggregate() : await _client.Messages.Create(request);
        Assert.True(message.Content.Single().TryPickText(out var text));
        Assert.Equal("Bonjour tout le monde", text!.Text);
        Assert.Equal(StopReason.EndTurn, message.StopReason!.Value());
        Assert.True(message.Usage.OutputTokens > 0);
        Assert.True(message.Usage.InputTokens > 0);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Tool_use_round_trip_reaches_the_provider_in_its_own_format(string model, bool stream)
    {
        ScriptTool(model);
        var request = Ask(model, "Weather in Paris?") with { Tools = [Weather] };
        var first = stream ? await _client.Messages.CreateStreaming(request).Aggregate() : await _client.Messages.Create(request);
        Assert.Equal(StopReason.ToolUse, first.StopReason!.Value());
        var block = first.Content.Single(static b => b.TryPickToolUse(out _));
        block.TryPickToolUse(out var use);
        Assert.Equal("get_weather", use!.Name);
        Assert.Equal("Paris", use.Input["city"].GetString());
        Assert.False(string.IsNullOrEmpty(use.ID));

        ScriptText(model, "Sunny, 21C.");
        var second = await _client.Messages.Create(new MessageCreateParams
        {
            Model = model,
            MaxTokens = 256,
            Tools = [Weather],
            Messages =
            [
                new UserMessageParam("Weather in Paris?"),
                new AssistantMessageParam { Content = new List<ContentBlockParam> { new ToolUseBlockParam { ID = use.ID, Name = use.Name, Input = use.Input } } },
                new UserMessageParam { Content = new List<ContentBlockParam> { new ToolResultBlockParam { ToolUseID = use.ID, Content = "sunny, 21C" } } },
            ],
        });
        Assert.True(second.Content[0].TryPickText(out var answer));
        Assert.Equal("Sunny, 21C.", answer!.Text);

        // The tool result reached the provider in its own shape.
        if (model == "gemini-flash")
        {
            using var sent = _gemini.ModelRequests.Last().Json();
            var contents = sent.RootElement.GetProperty("contents");
            Assert.Contains(contents.EnumerateArray(), c => c.GetProperty("parts").EnumerateArray().Any(p => p.TryGetProperty("functionResponse", out _) || p.TryGetProperty("function_response", out _)));
        }
        else
        {
            using var sent = _bedrock.Requests.Last().Json();
            var messages = sent.RootElement.GetProperty("messages");
            Assert.Contains(messages.EnumerateArray(), m => m.GetProperty("content").EnumerateArray().Any(p => p.TryGetProperty("toolResult", out _)));
        }
    }
}
