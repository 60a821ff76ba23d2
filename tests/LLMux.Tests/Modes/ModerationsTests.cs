using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;
using OpenAI.Moderations;

namespace LLMux.Tests.Modes;

/// <summary>The OpenAI .NET SDK's <see cref="ModerationClient"/> → LLMux → the OpenAI moderations emulator.</summary>
public sealed class ModerationsTests : IAsyncLifetime
{
    private ModerationEmulator _upstream = null!;
    private RerankEmulator _reranker = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await ModerationEmulator.StartNewAsync();
        _reranker = await RerankEmulator.StartNewAsync(RerankFlavor.Jina);
        _gateway = await GatewayHost.StartAsync($"""
            router_settings:
              num_retries: 0
            model_list:
              - model_name: rerank-only
                litellm_params:
                  model: jina_ai/jina-reranker-v2-base-multilingual
                  api_base: {_reranker.ApiBase}
              - model_name: omni
                litellm_params:
                  model: openai/omni-moderation-latest
                  api_base: {_upstream.ApiBase}
                  api_key: sk-mod
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _reranker.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private ModerationClient Client => _gateway.OpenAI().GetModerationClient("omni");

    [Fact]
    public async Task Sdk_classifies_one_text_with_categories_and_a_zero_cost()
    {
        ClientResult<ModerationResult> result = await Client.ClassifyTextAsync("I will kill the process");
        Assert.True(result.Value.Flagged);
        Assert.True(result.Value.Violence.Flagged);
        Assert.Equal(0.91f, result.Value.Violence.Score, 3);
        Assert.False(result.Value.Hate.Flagged);

        var raw = result.GetRawResponse();
        Assert.Equal("0", raw.Headers.TryGetValue("x-llmux-response-cost", out var cost) ? cost : null);
        Assert.Equal("openai", raw.Headers.TryGetValue("x-llmux-provider", out var p) ? p : null);
        var sent = Assert.Single(_upstream.Requests);
        Assert.Equal("Bearer sk-mod", sent.Headers["authorization"]);
        Assert.Equal("""{"input":"I will kill the process","model":"omni-moderation-latest"}""", sent.BodyText);
    }

    [Fact]
    public async Task Sdk_classifies_several_texts_one_result_each()
    {
        ClientResult<ModerationResultCollection> result = await Client.ClassifyTextAsync(["hello", "kill it", "bye"]);
        Assert.Equal(3, result.Value.Count);
        Assert.False(result.Value[0].Flagged);
        Assert.True(result.Value[1].Flagged);
        Assert.Equal("modr-970d409ef3bef3b70c73d8232df86e7d", result.Value.Id);
    }

    [Fact]
    public async Task Sdk_multimodal_input_reaches_the_upstream_as_parts()
    {
#pragma warning disable OPENAI001 // multimodal moderation is an evaluation API in the SDK
        ClientResult<ModerationResult> result = await Client.ClassifyInputsAsync(
            [ModerationInputPart.CreateTextPart("look"), ModerationInputPart.CreateImagePart(new Uri("https://example.com/a.png"))]);
#pragma warning restore OPENAI001
        Assert.True(result.Value.ViolenceGraphic.Flagged);
        using var body = Assert.Single(_upstream.Requests).Json();
        Assert.Equal("image_url", body.RootElement.GetProperty("input")[1].GetProperty("type").GetString());
    }

    [Fact]
    public async Task Without_a_model_the_first_moderation_model_is_used()
    {
        using var response = await _gateway.Http.PostAsync("/v1/moderations", new StringContent("""{"input":"hi"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("omni-moderation-latest", Assert.Single(_upstream.Requests).Json().RootElement.GetProperty("model").GetString());
    }

    [Theory]
    [InlineData("""{"model":"omni"}""", "input")]
    [InlineData("""{"model":"omni","input":[]}""", "input")]
    [InlineData("""{"model":"omni","input":[{"type":"audio"}]}""", "input[0]")]
    public async Task Invalid_input_is_400_before_any_call(string body, string param)
    {
        using var response = await _gateway.Http.PostAsync("/v1/moderations", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(param, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("param").GetString());
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task A_provider_without_moderation_is_refused_naming_the_mode()
    {
        using var response = await _gateway.Http.PostAsync("/v1/moderations", new StringContent("""{"model":"rerank-only","input":"hi"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("does not support moderation", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(_reranker.Requests);
    }

    [Fact]
    public async Task Upstream_error_reaches_the_sdk_with_its_status()
    {
        _upstream.NextError = (401, """{"error":{"message":"Incorrect API key provided: sk-mod.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}""");
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Client.ClassifyTextAsync("hi"));
        Assert.Equal(401, ex.Status);
    }
}
