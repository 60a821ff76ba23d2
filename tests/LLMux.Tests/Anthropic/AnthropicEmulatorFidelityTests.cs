using Anthropic;
using Anthropic.Core;
using Anthropic.Models.Messages;
using LLMux.Emulators;

namespace LLMux.Tests.Anthropic;

/// <summary>The official Anthropic .NET SDK, pointed straight at the emulator, reads what it sends.</summary>
public sealed class AnthropicEmulatorFidelityTests : IAsyncLifetime
{
    private AnthropicEmulator _emulator = null!;

    public async Task InitializeAsync() => _emulator = await AnthropicEmulator.StartNewAsync();

    public async Task DisposeAsync() => await _emulator.DisposeAsync();

    private AnthropicClient Client => new(new ClientOptions
    {
        ApiKey = "sk-ant-test",
        BaseUrl = _emulator.ApiBase,
        MaxRetries = 0,
        ResponseValidation = true,
    });

    private static MessageCreateParams Params => new()
    {
        MaxTokens = 256,
        Messages = [new UserMessageParam("Hello")],
        Model = "claude-sonnet-4-5",
    };

    [Fact]
    public async Task Sdk_reads_a_message_with_thinking_text_tool_use_and_cache_usage()
    {
        _emulator.Enqueue(new AnthropicScript
        {
            Thinking = "Let me think.",
            Text = "Calling the tool.",
            ToolCalls = [("toolu_01A", "get_weather", """{"city":"Paris"}""")],
            CacheCreationTokens = 7,
            CacheReadTokens = 100,
        });
        var message = await Client.Messages.Create(Params);

        Assert.Equal(3, message.Content.Count);
        Assert.True(message.Content[0].TryPickThinking(out var thinking));
        Assert.Equal("Let me think.", thinking!.Thinking);
        Assert.True(message.Content[1].TryPickText(out var text));
        Assert.Equal("Calling the tool.", text!.Text);
        Assert.True(message.Content[2].TryPickToolUse(out var tool));
        Assert.Equal("get_weather", tool!.Name);
        Assert.Equal("toolu_01A", tool.ID);
        Assert.Equal("tool_use", message.StopReason!.Raw());
        Assert.Equal(25, message.Usage.InputTokens);
        Assert.Equal(7, message.Usage.CacheCreationInputTokens);
        Assert.Equal(100, message.Usage.CacheReadInputTokens);
        Assert.Equal(12, message.Usage.OutputTokens);
    }

    [Fact]
    public async Task Sdk_reads_every_stream_event_the_emulator_sends()
    {
        _emulator.Enqueue(new AnthropicScript
        {
            Thinking = "Hmm, weather.",
            Text = "Checking.",
            ToolCalls = [("toolu_01B", "get_weather", """{"city":"Oslo","unit":"celsius"}""")],
        });
        var text = "";
        var thinking = "";
        var json = "";
        string? signature = null;
        var events = 0;
        long? outputTokens = null;
        await foreach (var ev in Client.Messages.CreateStreaming(Params))
        {
            events++;
            if (ev.TryPickContentBlockDelta(out var delta))
            {
                if (delta!.Delta.TryPickText(out var t)) text += t!.Text;
                else if (delta.Delta.TryPickThinking(out var th)) thinking += th!.Thinking;
                else if (delta.Delta.TryPickInputJson(out var ij)) json += ij!.PartialJson;
                else if (delta.Delta.TryPickSignature(out var sig)) signature = sig!.Signature;
            }
            else if (ev.TryPickDelta(out var md))
            {
                outputTokens = md!.Usage.OutputTokens;
            }
        }
        Assert.Equal("Checking.", text);
        Assert.Equal("Hmm, weather.", thinking);
        Assert.Equal("""{"city":"Oslo","unit":"celsius"}""", json);
        Assert.NotNull(signature);
        Assert.Equal(12, outputTokens);
        Assert.True(events > 10);
    }

    [Fact]
    public async Task Sdk_sees_an_error_status_with_the_anthropic_error_body()
    {
        _emulator.Enqueue(new AnthropicScript { ErrorStatus = 429, ErrorType = "rate_limit_error", ErrorMessage = "Number of request tokens has exceeded your per-minute rate limit", ErrorHeaders = new Dictionary<string, string> { ["retry-after"] = "17" } });
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => Client.Messages.Create(Params));
        Assert.Contains("rate_limit_error", ex.Message + ex);
    }
}
