using System.Net.Http.Headers;
using System.Text;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;

namespace LLMux.Tests.Caching;

/// <summary>/v1/messages natively to Anthropic with the cache on: the Anthropic body and stream are stored and replayed as they were.</summary>
public sealed class MessagesPassthroughCacheTests : IAsyncLifetime
{
    private const string Master = "sk-master-anthropic-cache";
    private AnthropicEmulator _upstream = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await AnthropicEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync($"""
            general_settings:
              master_key: {Master}
            router_settings:
              num_retries: 0
            litellm_settings:
              cache: true
            model_list:
              - model_name: claude
                litellm_params:
                  model: anthropic/claude-sonnet-4-5
                  api_base: {_upstream.ApiBase}
                  api_key: sk-ant-upstream
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private async Task<(string Body, string? Cache)> PostAsync(string body, string? beta = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Master);
        request.Headers.TryAddWithoutValidation("anthropic-version", "2023-06-01");
        if (beta is not null) request.Headers.TryAddWithoutValidation("anthropic-beta", beta);
        using var response = await _gateway.Http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadAsStringAsync(), response.Headers.TryGetValues("x-llmux-cache", out var v) ? v.Single() : null);
    }

    [Fact]
    public async Task Native_messages_json_and_stream_replay_as_anthropic_sent_them()
    {
        const string body = """{"model":"claude","max_tokens":64,"messages":[{"role":"user","content":"Hi"}]}""";
        var first = await PostAsync(body);
        var second = await PostAsync(body);
        Assert.Equal("miss", first.Cache);
        Assert.Equal("hit", second.Cache);
        Assert.Equal(first.Body, second.Body);
        Assert.Single(_upstream.Requests);

        var streamed = body[..^1] + ""","stream":true}""";
        var s1 = await PostAsync(streamed);
        var s2 = await PostAsync(streamed);
        Assert.Equal("hit", s2.Cache);
        Assert.Equal(s1.Body, s2.Body); // the same events, byte for byte
        Assert.Contains("event: message_stop", s2.Body);
        Assert.Equal(2, _upstream.Requests.Count);

        // A beta header changes what Anthropic does: another entry.
        Assert.Equal("miss", (await PostAsync(body, beta: "context-management-2025-06-27")).Cache);
    }
}
