using System.Net;
using System.Text;
using System.Text.Json;
using Anthropic;
using Anthropic.Models.Messages;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;

namespace LLMux.Tests.Messages;

/// <summary>/v1/messages to an Anthropic group: the body goes upstream untranslated (only <c>model</c> rewritten) and the answer and frames come back as Anthropic sent them.</summary>
public sealed class MessagesPassthroughTests : IAsyncLifetime
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
              - model_name: claude
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

    private async Task<HttpResponseMessage> PostAsync(string body, string? beta = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("x-api-key", AnthropicSdk.MasterKey);
        request.Headers.TryAddWithoutValidation("anthropic-version", "2023-06-01");
        if (beta is not null) request.Headers.TryAddWithoutValidation("anthropic-beta", beta);
        return await _gateway.Http.SendAsync(request);
    }

    [Fact]
    public async Task Body_reaches_anthropic_unchanged_but_for_the_model()
    {
        const string body = """{"model":"claude","max_tokens":300,"system":[{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"Hi"}],"top_k":5,"metadata":{"user_id":"u-1"}}""";
        using var response = await PostAsync(body, beta: "prompt-caching-2024-07-31");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = _upstream.Requests.Single();
        using var expected = JsonDocument.Parse(body.Replace("\"model\":\"claude\"", "\"model\":\"claude-sonnet-4-5\""));
        using var actual = sent.Json();
        Assert.True(JsonElement.DeepEquals(expected.RootElement, actual.RootElement), sent.BodyText);
        Assert.Contains("prompt-caching-2024-07-31", sent.Headers["anthropic-beta"]);
        Assert.Equal("sk-ant-upstream", sent.Headers["x-api-key"]);
        using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("message", answer.RootElement.GetProperty("type").GetString());
        Assert.Equal("anthropic", response.Headers.GetValues("x-llmux-provider").Single());
        Assert.True(response.Headers.Contains("x-llmux-response-cost"));
    }

    [Fact]
    public async Task Stream_frames_pass_through_and_the_sdk_aggregates_them()
    {
        _upstream.Enqueue(new AnthropicScript { Text = "one two three", Chunks = 3, Thinking = "hmm", InputTokens = 40, OutputTokens = 9 });
        var message = await _client.Messages.CreateStreaming(new MessageCreateParams
        {
            Model = "claude",
            MaxTokens = 4096,
            Thinking = new ThinkingConfigEnabled { BudgetTokens = 2048 },
            Messages = [new UserMessageParam("count")],
        }).Aggregate();
        Assert.Equal(2, message.Content.Count);
        Assert.True(message.Content[0].TryPickThinking(out var thinking));
        Assert.Equal("hmm", thinking!.Thinking);
        Assert.True(message.Content[1].TryPickText(out var text));
        Assert.Equal("one two three", text!.Text);
        Assert.Equal(9, message.Usage.OutputTokens);
        using var sent = _upstream.Requests.Single().Json();
        Assert.Equal(2048, sent.RootElement.GetProperty("thinking").GetProperty("budget_tokens").GetInt32());
    }

    [Fact]
    public async Task Truncated_upstream_stream_ends_with_an_error_event()
    {
        _upstream.Enqueue(new AnthropicScript { Text = "abcdefgh", Chunks = 4, TruncateAfter = 2 });
        using var response = await PostAsync("""{"model":"claude","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"Hi"}]}""");
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("event: message_stop", body);
        Assert.Contains("event: error", body);
    }

    [Fact]
    public async Task Upstream_error_before_content_is_an_anthropic_error_with_its_status()
    {
        _upstream.Enqueue(new AnthropicScript { ErrorStatus = 429, ErrorType = "rate_limit_error", ErrorMessage = "slow down", ErrorHeaders = new Dictionary<string, string> { ["retry-after"] = "4" } });
        using var response = await PostAsync("""{"model":"claude","max_tokens":100,"messages":[{"role":"user","content":"Hi"}]}""");
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("4", response.Headers.GetValues("Retry-After").Single());
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("error", error.RootElement.GetProperty("type").GetString());
        Assert.Equal("rate_limit_error", error.RootElement.GetProperty("error").GetProperty("type").GetString());
    }
}
