using System.ClientModel;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Stages.Accounting;
using LLMux.Tests.Infrastructure;
using OpenAI.Audio;

namespace LLMux.Tests.Modes;

/// <summary>The OpenAI .NET SDK's <see cref="AudioClient"/> speech calls → LLMux → OpenAI, Azure and Groq speech (emulated).</summary>
public sealed class SpeechTests : IAsyncLifetime
{
    private SpeechEmulator _upstream = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await SpeechEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync($"""
            router_settings:
              num_retries: 0
            model_list:
              - model_name: tts
                litellm_params:
                  model: openai/tts-1
                  api_base: {_upstream.ApiBase}
                  api_key: sk-tts
              - model_name: mini-tts
                litellm_params:
                  model: openai/gpt-4o-mini-tts
                  api_base: {_upstream.ApiBase}
                  api_key: sk-tts
              - model_name: azure-tts
                litellm_params:
                  model: azure/my-tts
                  api_base: {_upstream.Root.ToString().TrimEnd('/')}
                  api_key: az-key
              - model_name: groq-tts
                litellm_params:
                  model: groq/playai-tts
                  api_base: {_upstream.ApiBase}
                  api_key: gsk-key
              - model_name: chat
                litellm_params:
                  model: anthropic/claude-3-5-haiku-20241022
                  api_base: {_upstream.Root.ToString().TrimEnd('/')}
                  api_key: sk-ant
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task Sdk_gets_every_audio_byte_with_the_format_content_type_and_the_character_cost()
    {
        const string text = "The quick brown fox jumps over the lazy dog.";
        ClientResult<BinaryData> result = await _gateway.OpenAI().GetAudioClient("tts").GenerateSpeechAsync(text, GeneratedSpeechVoice.Alloy,
            new SpeechGenerationOptions { ResponseFormat = GeneratedSpeechFormat.Wav, SpeedRatio = 1.5f });
        Assert.Equal(_upstream.Audio(), result.Value.ToArray());
        var raw = result.GetRawResponse();
        Assert.Equal("audio/wav", raw.Headers.TryGetValue("Content-Type", out var ct) ? ct : null);
        var cost = decimal.Parse(raw.Headers.TryGetValue("x-llmux-response-cost", out var c) ? c! : "-1", CultureInfo.InvariantCulture);
        Assert.Equal(text.Length * PriceTable.Default.Find("openai", "tts-1")!.InputPerCharacter!.Value, cost);

        var sent = Assert.Single(_upstream.Requests);
        Assert.Equal("/v1/audio/speech", sent.Path);
        Assert.Equal("Bearer sk-tts", sent.Headers["authorization"]);
        var b = sent.Json().RootElement;
        Assert.Equal("tts-1", b.GetProperty("model").GetString());
        Assert.Equal("alloy", b.GetProperty("voice").GetString());
        Assert.Equal(1.5, b.GetProperty("speed").GetDouble(), 3);
    }

    [Fact]
    public async Task Gpt_4o_mini_tts_is_priced_by_the_o200k_tokens_of_its_input_as_litellm_does()
    {
        const string text = "The quick brown fox jumps over the lazy dog.";
        ClientResult<BinaryData> result = await _gateway.OpenAI().GetAudioClient("mini-tts").GenerateSpeechAsync(text, GeneratedSpeechVoice.Alloy);
        Assert.Equal(_upstream.Audio(), result.Value.ToArray());
        var raw = result.GetRawResponse();
        var cost = decimal.Parse(raw.Headers.TryGetValue("x-llmux-response-cost", out var c) ? c! : "-1", CultureInfo.InvariantCulture);
        // o200k_base (LiteLLM's counter for gpt-4o*) reads the sentence as 10 tokens; the table has no per-character price
        // for this model, and the answer reports no usage, so only the input is priced: 10 × input_cost_per_token.
        var price = PriceTable.Default.Find("openai", "gpt-4o-mini-tts")!;
        Assert.Null(price.InputPerCharacter);
        Assert.Equal(10 * price.InputPerToken, cost);
        Assert.Equal(0.000025m, cost);
    }

    [Fact]
    public async Task Audio_reaches_the_client_before_the_upstream_has_finished()
    {
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _upstream.HoldLast = hold;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/audio/speech")
            {
                Content = new StringContent("""{"model":"tts","input":"hi","voice":"nova"}""", Encoding.UTF8, "application/json"),
            };
            using var response = await _gateway.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("audio/mpeg", response.Content.Headers.ContentType!.MediaType);
            await using var stream = await response.Content.ReadAsStreamAsync();
            // The first chunks arrive while the upstream still holds its last one back.
            var first = new byte[_upstream.ChunkSize];
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await stream.ReadExactlyAsync(first, deadline.Token);
            Assert.All(first, static b => Assert.Equal(1, b));
            hold.SetResult();
            var rest = new MemoryStream();
            await stream.CopyToAsync(rest, deadline.Token);
            Assert.Equal(_upstream.Audio().Length - first.Length, rest.Length);
        }
        finally
        {
            hold.TrySetResult();
            _upstream.HoldLast = null;
        }
    }

    [Fact]
    public async Task Azure_and_groq_paths()
    {
        using (var azure = await _gateway.Http.PostAsync("/v1/audio/speech", new StringContent("""{"model":"azure-tts","input":"hi","voice":"echo","response_format":"opus"}""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, azure.StatusCode);
            Assert.Equal("audio/opus", azure.Content.Headers.ContentType!.MediaType);
        }
        using (var groq = await _gateway.Http.PostAsync("/v1/audio/speech", new StringContent("""{"model":"groq-tts","input":"hi","voice":"Fritz-PlayAI"}""", Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.OK, groq.StatusCode);
        var sent = _upstream.Requests.ToArray();
        Assert.StartsWith("/openai/deployments/my-tts/audio/speech", sent[0].Path, StringComparison.Ordinal);
        Assert.Equal("az-key", sent[0].Headers["api-key"]);
        Assert.Equal("/v1/audio/speech", sent[1].Path);
        Assert.Equal("Bearer gsk-key", sent[1].Headers["authorization"]);
    }

    [Theory]
    [InlineData("""{"model":"tts","voice":"alloy"}""", "input")]
    [InlineData("""{"model":"tts","input":"hi"}""", "voice")]
    [InlineData("""{"model":"tts","input":"hi","voice":"alloy","response_format":"ogg"}""", "response_format")]
    [InlineData("""{"model":"tts","input":"hi","voice":"alloy","speed":5}""", "speed")]
    [InlineData("""{"model":"tts","input":"hi","voice":"alloy","instructions":"whisper"}""", "instructions")]
    [InlineData("""{"model":"tts","input":"hi","voice":"alloy","stream_format":"sse"}""", "stream_format")]
    [InlineData("""{"model":"groq-tts","input":"hi","voice":"alloy","instructions":"calm"}""", "instructions")]
    public async Task Invalid_speech_requests_are_400_before_any_call(string body, string param)
    {
        using var response = await _gateway.Http.PostAsync("/v1/audio/speech", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(param, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("param").GetString());
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Speech_on_a_provider_without_it_is_refused_naming_the_mode()
    {
        using var response = await _gateway.Http.PostAsync("/v1/audio/speech", new StringContent("""{"model":"chat","input":"hi","voice":"alloy"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("does not support audio_speech", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Upstream_error_before_any_byte_is_a_json_error()
    {
        _upstream.NextError = (429, """{"error":{"message":"Rate limit reached for tts-1","type":"requests","param":null,"code":"rate_limit_exceeded"}}""");
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => _gateway.OpenAI().GetAudioClient("tts").GenerateSpeechAsync("hi", GeneratedSpeechVoice.Alloy));
        Assert.Equal(429, ex.Status);
    }
}
