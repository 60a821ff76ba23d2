using System.Net;
using System.Text;
using LLMux.Emulators;
using LLMux.Host;
using LLMux.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace LLMux.Tests.Routing;

/// <summary>Timeouts per deployment and per request, on a fake clock: a timeout is a timeout error and the upstream call is cancelled.</summary>
public sealed class TimeoutTests : IAsyncLifetime
{
    private OpenAIEmulator _upstream = null!;
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await OpenAIEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync(TestApp.Build(new LlmuxHostOptions
        {
            Port = 0,
            TimeProvider = _time,
            ConfigYaml = $"""
                model_list:
                  - model_name: slow
                    litellm_params:
                      model: openai/gpt-4o-mini
                      api_base: {_upstream.ApiBase}
                      api_key: sk-x
                      timeout: 60
                router_settings:
                  num_retries: 0
                """,
        }));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private Task<HttpResponseMessage> SendAsync(string body, string? timeoutHeader = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (timeoutHeader is not null) request.Headers.TryAddWithoutValidation("x-litellm-timeout", timeoutHeader);
        return _gateway.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    private async Task WaitForUpstreamAsync(int count)
    {
        for (var i = 0; i < 500 && _upstream.Requests.Count < count; i++) await Task.Delay(10);
        Assert.Equal(count, _upstream.Requests.Count);
    }

    [Fact]
    public async Task Request_timeout_header_wins_over_the_deployment_timeout()
    {
        _upstream.Enqueue(new OpenAIScript { HeaderDelay = TimeSpan.FromMinutes(5) });
        var pending = SendAsync("""{"model":"slow","messages":[{"role":"user","content":"hi"}]}""", timeoutHeader: "5");
        await WaitForUpstreamAsync(1);
        _time.Advance(TimeSpan.FromSeconds(4));
        await Task.Delay(50);
        Assert.False(pending.IsCompleted, "timed out before the request's 5 s");
        _time.Advance(TimeSpan.FromSeconds(2));
        using var response = await pending;
        Assert.Equal(HttpStatusCode.RequestTimeout, response.StatusCode);
        Assert.Contains("timeout_error", await response.Content.ReadAsStringAsync());
        Assert.True(await _upstream.WaitForCancelledAsync(1, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Timeout_in_the_body_is_honoured_and_not_sent_upstream()
    {
        _upstream.Enqueue(new OpenAIScript { HeaderDelay = TimeSpan.FromMinutes(5) });
        var pending = SendAsync("""{"model":"slow","timeout":3,"messages":[{"role":"user","content":"hi"}]}""");
        await WaitForUpstreamAsync(1);
        Assert.DoesNotContain("\"timeout\"", _upstream.Requests.Single().BodyText);
        _time.Advance(TimeSpan.FromSeconds(4));
        using var response = await pending;
        Assert.Equal(HttpStatusCode.RequestTimeout, response.StatusCode);
    }

    [Fact]
    public async Task Silence_between_stream_chunks_ends_the_stream_with_a_timeout_frame()
    {
        _upstream.Enqueue(new OpenAIScript { Content = "abcdefgh", Chunks = 4, HangAfter = 2 });
        using var response = await SendAsync("""{"model":"slow","stream":true,"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stream = await response.Content.ReadAsStreamAsync();
        var read = new StringBuilder();
        var buffer = new byte[4096];
        // Read until the two chunks before the silence have arrived.
        while (!read.ToString().Contains("\"cd\"", StringComparison.Ordinal))
        {
            var n = await stream.ReadAsync(buffer);
            Assert.True(n > 0);
            read.Append(Encoding.UTF8.GetString(buffer, 0, n));
        }
        _time.Advance(TimeSpan.FromSeconds(61));
        read.Append(await new StreamReader(stream).ReadToEndAsync());
        var body = read.ToString();
        Assert.DoesNotContain("[DONE]", body);
        Assert.Contains("\"type\":\"timeout_error\"", body);
        Assert.True(await _upstream.WaitForCancelledAsync(1, TimeSpan.FromSeconds(5)));
    }
}
