using System.Text.Json;
using Anthropic;
using Anthropic.Models.Messages;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;

namespace LLMux.Tests.Messages;

/// <summary>
/// /v1/messages to a Claude deployment (now the untranslated passthrough): thinking with its signature, cache
/// markers and tools survive both ways.
/// </summary>
public sealed class MessagesOverAnthropicTranslationTests : IAsyncLifetime
{
    private AnthropicEmulator _upstream = null!;
    private GatewayHost _gateway = null!;
    private AnthropicClient _client = null!;

    public async Task InitializeAsync()
    {
        _upstream = await AnthropicEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync($"""
            general_settings:
              master_key: {AnthropicSdk.MasterKey}
            router_settings:
              num_retries: 0
            model_list:
              - model_name: claude-test
                litellm_params:
                  model: anthropic/claude-sonnet-4-5
                  api_base: {_upstream.ApiBase}
                  api_key: sk-ant-upstream
            """);
        _client = AnthropicSdk.For(_gateway);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private JsonElement LastUpstreamBody() => _upstream.Requests.Last().Json().RootElement;

    [Fact]
    public async Task Thinking_and_cache_markers_reach_Claude_and_the_signed_thinking_block_comes_back()
    {
        _upstream.Enqueue(new AnthropicScript { Thinking = "Considering.", Text = "Answer." });
        var message = await _client.Messages.Create(new MessageCreateParams
        {
            Model = "claude-test",
            MaxTokens = 4096,
            Thinking = new ThinkingConfigEnabled { BudgetTokens = 2048 },
            System = new List<TextBlockParam> { new() { Text = "Be careful.", CacheControl = new CacheControlEphemeral() } },
            Messages = [new UserMessageParam("Question?")],
        });

        Assert.True(message.Content[0].TryPickThinking(out var thinking));
        Assert.Equal("Considering.", thinking!.Thinking);
        Assert.Equal("EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds", thinking.Signature);
        Assert.True(message.Content[1].TryPickText(out var text));
        Assert.Equal("Answer.", text!.Text);
        Assert.Equal(25, message.Usage.InputTokens);

        var body = LastUpstreamBody();
        Assert.Equal(2048, body.GetProperty("thinking").GetProperty("budget_tokens").GetInt32());
        Assert.Equal("ephemeral", body.GetProperty("system")[0].GetProperty("cache_control").GetProperty("type").GetString());
    }

    [Fact]
    public async Task Streamed_tool_use_from_Claude_aggregates_and_the_round_trip_keeps_ids()
    {
        _upstream.Enqueue(new AnthropicScript { Text = "Checking.", ToolCalls = [("toolu_01", "get_weather", """{"city":"Paris"}""")] });
        Tool weather = new() { Name = "get_weather", InputSchema = new() { Properties = new Dictionary<string, JsonElement>() } };
        var first = await _client.Messages.CreateStreaming(new MessageCreateParams
        {
            Model = "claude-test",
            MaxTokens = 512,
            Tools = [weather],
            Messages = [new UserMessageParam("Weather?")],
        }).Aggregate();

        Assert.Equal(StopReason.ToolUse, first.StopReason!.Value());
        Assert.True(first.Content[^1].TryPickToolUse(out var use));
        Assert.Equal("toolu_01", use!.ID);
        Assert.Equal("Paris", use.Input["city"].GetString());

        _upstream.Enqueue(new AnthropicScript { Text = "Sunny." });
        var second = await _client.Messages.Create(new MessageCreateParams
        {
            Model = "claude-test",
            MaxTokens = 512,
            Tools = [weather],
            Messages =
            [
                new UserMessageParam("Weather?"),
                new AssistantMessageParam { Content = new List<ContentBlockParam> { new ToolUseBlockParam { ID = use.ID, Name = use.Name, Input = use.Input } } },
                new UserMessageParam { Content = new List<ContentBlockParam> { new ToolResultBlockParam { ToolUseID = use.ID, Content = "sunny" } } },
            ],
        });
        Assert.True(second.Content[0].TryPickText(out var answer));
        Assert.Equal("Sunny.", answer!.Text);

        var messages = LastUpstreamBody().GetProperty("messages");
        Assert.Equal("toolu_01", messages[1].GetProperty("content")[0].GetProperty("id").GetString());
        Assert.Equal("tool_result", messages[2].GetProperty("content")[0].GetProperty("type").GetString());
        Assert.Equal("toolu_01", messages[2].GetProperty("content")[0].GetProperty("tool_use_id").GetString());
    }

    [Fact]
    public async Task Signed_thinking_in_the_history_reaches_Claude_before_the_tool_use()
    {
        _upstream.Enqueue(new AnthropicScript { Text = "Done." });
        await _client.Messages.Create(new MessageCreateParams
        {
            Model = "claude-test",
            MaxTokens = 4096,
            Thinking = new ThinkingConfigEnabled { BudgetTokens = 1024 },
            Tools = [new Tool { Name = "f", InputSchema = new() { Properties = new Dictionary<string, JsonElement>() } }],
            Messages =
            [
                new UserMessageParam("Go"),
                new AssistantMessageParam
                {
                    Content = new List<ContentBlockParam>
                    {
                        new ThinkingBlockParam { Thinking = "plan", Signature = "sig-abc" },
                        new ToolUseBlockParam { ID = "toolu_9", Name = "f", Input = new Dictionary<string, JsonElement>() },
                    },
                },
                new UserMessageParam { Content = new List<ContentBlockParam> { new ToolResultBlockParam { ToolUseID = "toolu_9", Content = "ok" } } },
            ],
        });

        var assistant = LastUpstreamBody().GetProperty("messages")[1].GetProperty("content");
        Assert.Equal("thinking", assistant[0].GetProperty("type").GetString());
        Assert.Equal("sig-abc", assistant[0].GetProperty("signature").GetString());
        Assert.Equal("tool_use", assistant[1].GetProperty("type").GetString());
    }
}
