using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;
using OpenAI.Embeddings;

namespace LLMux.Tests.ProviderRows;

/// <summary>The OpenAI SDK's embeddings client → LLMux → the Voyage AI emulator.</summary>
public sealed class VoyageTests : IAsyncLifetime
{
    private VoyageEmulator _upstream = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await VoyageEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync($"""
            router_settings:
              num_retries: 0
            model_list:
              - model_name: voyage
                litellm_params:
                  model: voyage/voyage-3.5
                  api_base: {_upstream.ApiBase}
                  api_key: pa-voyage-test
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private RecordedRequest TakeSingle()
    {
        var sent = Assert.Single(_upstream.Requests);
        _upstream.Requests.Clear();
        return sent;
    }

    [Fact]
    public async Task The_sdks_base64_embeddings_come_back_as_the_vectors_voyage_sent_with_usage()
    {
        _upstream.Enqueue(new VoyageScript { TotalTokens = 14 });
        var client = _gateway.OpenAI().GetEmbeddingClient("voyage");
        OpenAIEmbeddingCollection result = await client.GenerateEmbeddingsAsync(["first text", "second text"], new EmbeddingGenerationOptions { Dimensions = 3 });

        Assert.Equal(2, result.Count);
        Assert.Equal(VoyageEmulator.Vector(0, 3), result[0].ToFloats().ToArray());
        Assert.Equal(VoyageEmulator.Vector(1, 3), result[1].ToFloats().ToArray());
        Assert.Equal(14, result.Usage.InputTokenCount);
        Assert.Equal(14, result.Usage.TotalTokenCount);
        var sent = TakeSingle();
        Assert.Equal("/v1/embeddings", sent.Path);
        Assert.Equal("Bearer pa-voyage-test", sent.Headers["authorization"]);
        using var body = sent.Json();
        Assert.Equal("voyage-3.5", body.RootElement.GetProperty("model").GetString());
        Assert.Equal(3, body.RootElement.GetProperty("output_dimension").GetInt32());
        Assert.False(body.RootElement.TryGetProperty("dimensions", out _));
        Assert.Equal("base64", body.RootElement.GetProperty("encoding_format").GetString());
    }

    [Fact]
    public async Task Float_embeddings_input_type_and_cost()
    {
        _upstream.Enqueue(new VoyageScript { TotalTokens = 1_000_000 });
        using var response = await _gateway.Http.PostAsync("/v1/embeddings", Json("""{"model":"voyage","input":"hi","encoding_format":"float","input_type":"query"}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var vector = doc.RootElement.GetProperty("data")[0].GetProperty("embedding");
        Assert.Equal(0.1f, vector[0].GetSingle());
        Assert.Equal(1_000_000, doc.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt64());
        // voyage/voyage-3.5 is priced in the table: a million input tokens cost its input price times a million.
        Assert.True(decimal.Parse(response.Headers.GetValues("x-llmux-response-cost").Single(), System.Globalization.CultureInfo.InvariantCulture) > 0);
        using var body = TakeSingle().Json();
        Assert.Equal("query", body.RootElement.GetProperty("input_type").GetString());
    }

    [Theory]
    [InlineData(401, "Provided API key is invalid.", 401)]
    [InlineData(429, "You have exceeded the rate limit.", 429)]
    [InlineData(400, "Request to model 'voyage-3.5' failed. The max allowed tokens per submitted batch is 320000.", 400)]
    public async Task Voyage_errors_carry_its_detail(int status, string detail, int expected)
    {
        _upstream.Enqueue(new VoyageScript { ErrorStatus = status, ErrorDetail = detail });
        using var response = await _gateway.Http.PostAsync("/v1/embeddings", Json("""{"model":"voyage","input":"hi"}"""));
        Assert.Equal(expected, (int)response.StatusCode);
        Assert.Contains(detail, await response.Content.ReadAsStringAsync());
        _upstream.Requests.Clear();
    }

    [Fact]
    public async Task Chat_is_refused_before_any_call()
    {
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => _gateway.OpenAI().GetChatClient("voyage").CompleteChatAsync([new OpenAI.Chat.UserChatMessage("hi")]));
        Assert.Equal(400, ex.Status);
        Assert.Empty(_upstream.Requests);
    }

    private static StringContent Json(string s) => new(s, Encoding.UTF8, "application/json");
}
