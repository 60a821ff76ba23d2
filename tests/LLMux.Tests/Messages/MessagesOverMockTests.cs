using Anthropic;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using LLMux.Tests.Infrastructure;

namespace LLMux.Tests.Messages;

/// <summary>The Anthropic SDK against LLMux's built-in mock provider (in-process upstream, same pipeline).</summary>
public sealed class MessagesOverMockTests : IAsyncLifetime
{
    private GatewayHost _gateway = null!;
    private AnthropicClient _client = null!;

    public async Task InitializeAsync()
    {
        _gateway = await GatewayHost.StartAsync($"""
            general_settings:
              master_key: {AnthropicSdk.MasterKey}
            router_settings:
              num_retries: 0
            model_list:
              - model_name: mock-gpt
                litellm_params:
                  model: mock/mock-gpt
              - model_name: mock-failing
                litellm_params:
                  model: mock/mock-gpt
                  mock_error_status: 429
              - model_name: mock-breaks
                litellm_params:
                  model: mock/mock-gpt
                  mock_error_after_chunks: 3
            """);
        _client = AnthropicSdk.For(_gateway);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _gateway.DisposeAsync();
    }

    private static MessageCreateParams Ask(string model, string text) => new()
    {
        Model = model,
        MaxTokens = 128,
        Messages = [new UserMessageParam(text)],
    };

    [Fact]
    public async Task Mock_answers_a_non_stream_message()
    {
        var message = await _client.Messages.Create(Ask("mock-gpt", "ping pong"));
        Assert.True(message.Content[0].TryPickText(out var text));
        Assert.Equal("This is LLMux's mock model. You said: ping pong", text!.Text);
        Assert.Equal(StopReason.EndTurn, message.StopReason!.Value());
        Assert.True(message.Usage.InputTokens > 0);
        Assert.Equal(9, message.Usage.OutputTokens);
    }

    [Fact]
    public async Task Mock_stream_aggregates_to_the_same_text_as_the_non_stream_answer()
    {
        var streamed = await _client.Messages.CreateStreaming(Ask("mock-gpt", "ping pong")).Aggregate();
        var whole = await _client.Messages.Create(Ask("mock-gpt", "ping pong"));
        streamed.Content.Single().TryPickText(out var s);
        whole.Content.Single().TryPickText(out var w);
        Assert.Equal(w!.Text, s!.Text);
        Assert.Equal(whole.Usage.OutputTokens, streamed.Usage.OutputTokens);
        Assert.Equal(whole.Usage.InputTokens, streamed.Usage.InputTokens);
    }

    [Fact]
    public async Task Forced_tool_choice_streams_a_tool_use_block()
    {
        var message = await _client.Messages.CreateStreaming(Ask("mock-gpt", "weather?") with
        {
            Tools = [new Tool { Name = "get_weather", InputSchema = new() { Properties = new Dictionary<string, System.Text.Json.JsonElement>() } }],
            ToolChoice = new ToolChoiceTool { Name = "get_weather" },
        }).Aggregate();

        Assert.Equal(StopReason.ToolUse, message.StopReason!.Value());
        Assert.True(message.Content.Single().TryPickToolUse(out var use));
        Assert.Equal("get_weather", use!.Name);
        Assert.Equal("Paris", use.Input["location"].GetString());
        Assert.Equal("celsius", use.Input["unit"].GetString());
    }

    [Fact]
    public async Task Mock_rate_limit_is_a_rate_limit_exception()
    {
        await Assert.ThrowsAsync<AnthropicRateLimitException>(() => _client.Messages.Create(Ask("mock-failing", "hi")));
    }

    [Fact]
    public async Task Mock_mid_stream_failure_reaches_the_sdk_as_an_sse_error()
    {
        var deltas = 0;
        await Assert.ThrowsAsync<AnthropicSseException>(async () =>
        {
            await foreach (var e in _client.Messages.CreateStreaming(Ask("mock-breaks", "one two three four five six seven eight")))
            {
                if (e.TryPickContentBlockDelta(out _)) deltas++;
            }
        });
        Assert.Equal(3, deltas);
    }
}
