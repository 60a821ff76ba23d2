using System.Net;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Host;
using LLMux.Stages.Accounting;
using LLMux.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace LLMux.Tests.Modes;

/// <summary>
/// Azure's 2023 dall-e-2 previews: <c>:submit</c>, then the operation polled on the gateway's clock (a FakeTimeProvider
/// that reports each poll wait, so the test advances exactly past it) until succeeded, failed or the polling timeout.
/// </summary>
public sealed class AzureImageSubmitTests : IAsyncLifetime
{
    private ImagesEmulator _upstream = null!;
    private GatewayHost _gateway = null!;
    private readonly PollClock _clock = new();

    /// <summary>A fake clock that signals every timer of <see cref="Wait"/> (the poll waits; request timeouts are longer).</summary>
    private sealed class PollClock : TimeProvider
    {
        private readonly FakeTimeProvider _fake = new();

        public TimeSpan Wait { get; set; } = TimeSpan.FromSeconds(7);
        public SemaphoreSlim Waits { get; } = new(0);

        public void Advance(TimeSpan by) => _fake.Advance(by);
        public override DateTimeOffset GetUtcNow() => _fake.GetUtcNow();
        public override long GetTimestamp() => _fake.GetTimestamp();
        public override long TimestampFrequency => _fake.TimestampFrequency;
        public override TimeZoneInfo LocalTimeZone => _fake.LocalTimeZone;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = _fake.CreateTimer(callback, state, dueTime, period);
            if (dueTime == Wait) Waits.Release();
            return timer;
        }
    }

    public async Task InitializeAsync()
    {
        _upstream = await ImagesEmulator.StartNewAsync();
        var root = _upstream.Root.ToString().TrimEnd('/');
        _gateway = await GatewayHost.StartAsync(TestApp.Build(new LlmuxHostOptions
        {
            Port = 0,
            TimeProvider = _clock,
            ConfigYaml = $"""
                router_settings:
                  num_retries: 0
                model_list:
                  - model_name: azure-dalle2-preview
                    litellm_params:
                      model: azure/dall-e-2
                      api_base: {root}
                      api_key: az-key
                      api_version: "2023-06-01-preview"
                  - model_name: azure-dalle2
                    litellm_params:
                      model: azure/dall-e-2
                      api_base: {root}
                      api_key: az-key
                      api_version: "2024-02-01"
                """,
        }));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private Task<HttpResponseMessage> PostAsync(string json) =>
        _gateway.Http.PostAsync("/v1/images/generations", new StringContent(json, Encoding.UTF8, "application/json"));

    /// <summary>Advances the clock past each poll wait as the gateway starts it, until the call ends.</summary>
    private async Task<T> PollThroughAsync<T>(Task<T> call, int waits)
    {
        for (var i = 0; i < waits; i++)
        {
            Assert.True(await _clock.Waits.WaitAsync(TimeSpan.FromSeconds(30)), "the gateway did not start poll wait " + (i + 1));
            _clock.Advance(_clock.Wait);
        }
        return await call;
    }

    [Fact]
    public async Task Preview_api_version_submits_without_model_and_polls_until_succeeded()
    {
        _upstream.OperationPollsBeforeDone = 2;
        using var response = await PollThroughAsync(PostAsync("""{"model":"azure-dalle2-preview","prompt":"a cat","n":2,"size":"512x512"}"""), waits: 2);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var data = answer.RootElement.GetProperty("data");
        Assert.Equal(2, data.GetArrayLength());
        Assert.EndsWith("generated_1.png", data[1].GetProperty("url").GetString(), StringComparison.Ordinal);
        // dall-e-2 512×512: $0.018 an image (the entry's per-pixel product, 0.0179831, to the tenth of a cent).
        Assert.Equal(2 * Math.Round(PriceTable.Default.FindExact("512-x-512/dall-e-2")!.InputPerPixel!.Value * 512 * 512, 3),
            decimal.Parse(response.Headers.GetValues("x-llmux-response-cost").Single(), System.Globalization.CultureInfo.InvariantCulture));

        var sent = _upstream.Requests.ToList();
        Assert.Equal(4, sent.Count); // submit, then three polls (running, running, succeeded)
        Assert.Equal("/openai/images/generations:submit", sent[0].Path);
        Assert.Equal("?api-version=2023-06-01-preview", sent[0].Query);
        Assert.False(sent[0].Json().RootElement.TryGetProperty("model", out _));
        Assert.All(sent.Skip(1), static r => Assert.Equal("/openai/operations/images/op-1", r.Path));
        Assert.All(sent, static r => Assert.Equal("az-key", r.Headers["api-key"]));
    }

    [Fact]
    public async Task The_sdks_image_client_gets_the_operations_result()
    {
        var client = _gateway.OpenAI().GetImageClient("azure-dalle2-preview");
        System.ClientModel.ClientResult<OpenAI.Images.GeneratedImageCollection> result = await PollThroughAsync(
            client.GenerateImagesAsync("a cat", 2, new OpenAI.Images.ImageGenerationOptions { Size = OpenAI.Images.GeneratedImageSize.W256xH256, ResponseFormat = OpenAI.Images.GeneratedImageFormat.Uri }), waits: 1);
        Assert.Equal(2, result.Value.Count);
        Assert.EndsWith("generated_0.png", result.Value[0].ImageUri.ToString(), StringComparison.Ordinal);
        var submitted = _upstream.Requests.First().Json().RootElement;
        Assert.Equal("256x256", submitted.GetProperty("size").GetString());
        Assert.Equal("url", submitted.GetProperty("response_format").GetString());
    }

    [Fact]
    public async Task A_failed_operation_is_a_content_policy_400()
    {
        _upstream.OperationFails = true;
        using var response = await PollThroughAsync(PostAsync("""{"model":"azure-dalle2-preview","prompt":"a cat"}"""), waits: 1);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("content_policy_violation", error.GetProperty("code").GetString());
        Assert.Contains("safety system", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_operation_still_running_after_the_polling_timeout_is_a_408()
    {
        _upstream.OperationPollsBeforeDone = int.MaxValue;
        _upstream.OperationRetryAfter = 50;
        _clock.Wait = TimeSpan.FromSeconds(50);
        // Polls at 0 s, 50 s and 100 s; the next wait would pass 120 s.
        using var response = await PollThroughAsync(PostAsync("""{"model":"azure-dalle2-preview","prompt":"a cat"}"""), waits: 2);
        Assert.Equal(HttpStatusCode.RequestTimeout, response.StatusCode);
        Assert.Equal(3, _upstream.OperationPolls);
    }

    [Fact]
    public async Task Later_api_versions_use_the_deployment_path()
    {
        using var response = await PostAsync("""{"model":"azure-dalle2","prompt":"a cat"}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/openai/deployments/dall-e-2/images/generations", Assert.Single(_upstream.Requests).Path);
        Assert.Equal(0, _upstream.OperationPolls);
    }
}
