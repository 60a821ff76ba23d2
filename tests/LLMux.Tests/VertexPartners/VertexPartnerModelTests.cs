using System.ClientModel;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Pipeline.Context;
using LLMux.Providers.Gemini;
using LLMux.Tests.Gemini;
using LLMux.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using OpenAI.Chat;
using ChatRequest = LLMux.Pipeline.Wire.ChatRequest;

namespace LLMux.Tests.VertexPartners;

/// <summary>
/// Vertex AI Model Garden partner models (Mistral, Codestral, AI21 Jamba and the OpenAI-compatible MaaS families) through
/// the OpenAI SDK, a service account and the Vertex partner emulator, which refuses what Vertex refuses.
/// </summary>
public sealed class VertexPartnerModelTests : IAsyncLifetime
{
    private VertexPartnerEmulator _upstream = null!;
    private GatewayHost _gateway = null!;
    private string _credentialsFile = null!;

    public async Task InitializeAsync()
    {
        _upstream = await VertexPartnerEmulator.StartNewAsync();
        _credentialsFile = Path.Combine(Path.GetTempPath(), $"llmux-vertex-partner-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(_credentialsFile, _upstream.ServiceAccountJson);
        _gateway = await GatewayHost.StartAsync($"""
            router_settings:
              num_retries: 0
            model_list:
              - model_name: mistral
                litellm_params:
                  model: vertex_ai/mistral-large@2407
                  api_base: {_upstream.ModelBase("mistralai", "mistral-large@2407")}
                  vertex_credentials: {_credentialsFile}
              - model_name: jamba
                litellm_params:
                  model: vertex_ai/jamba-1.5-large@001
                  api_base: {_upstream.ModelBase("ai21", "jamba-1.5-large@001", version: "v1beta1")}
                  vertex_credentials: {_credentialsFile}
              - model_name: llama
                litellm_params:
                  model: vertex_ai/meta/llama-4-scout-17b-16e-instruct-maas
                  api_base: {_upstream.OpenApiBase()}
                  vertex_credentials: {_credentialsFile}
              - model_name: llama-wrong-base
                litellm_params:
                  model: vertex_ai/meta/llama-4-scout-17b-16e-instruct-maas
                  api_base: {_upstream.ModelBase("meta", "llama-4-scout-17b-16e-instruct-maas")}
                  vertex_credentials: {_credentialsFile}
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        File.Delete(_credentialsFile);
    }

    private ChatClient Chat(string model) => _gateway.OpenAI().GetChatClient(model);

    private RecordedRequest TakeModelRequest()
    {
        var sent = Assert.Single(_upstream.ModelRequests);
        _upstream.Requests.Clear();
        return sent;
    }

    [Fact]
    public async Task Mistral_is_raw_predict_with_the_model_named_without_its_version()
    {
        _upstream.Enqueue(new VertexPartnerScript { Answer = new OpenAIScript { Content = "Bonjour.", PromptTokens = 12, CompletionTokens = 3 } });
        using var response = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"mistral","max_completion_tokens":50,"seed":7,"messages":[{"role":"user","content":"hello"}]}"""));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        Assert.Contains("Bonjour.", text);
        Assert.Contains("\"prompt_tokens\":12", text);
        var sent = TakeModelRequest();
        Assert.Equal($"/v1/projects/{VertexPartnerEmulator.Project}/locations/us-central1/publishers/mistralai/models/mistral-large@2407:rawPredict", sent.Path);
        Assert.StartsWith("Bearer ya29.partner-emu-", sent.Headers["authorization"]);
        using var body = sent.Json();
        Assert.Equal("mistral-large", body.RootElement.GetProperty("model").GetString());
        // Mistral's names: max_completion_tokens → max_tokens, seed → random_seed.
        Assert.Equal(50, body.RootElement.GetProperty("max_tokens").GetInt32());
        Assert.Equal(7, body.RootElement.GetProperty("random_seed").GetInt32());
        Assert.False(body.RootElement.TryGetProperty("seed", out _));
    }

    [Fact]
    public async Task Mistral_streams_from_stream_raw_predict()
    {
        _upstream.Enqueue(new VertexPartnerScript { Answer = new OpenAIScript { Content = "Streaming from Vertex, é ü 東京.", Chunks = 5 } });
        var text = new StringBuilder();
        await foreach (var update in Chat("mistral").CompleteChatStreamingAsync([new UserChatMessage("hello")]))
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
        Assert.Equal("Streaming from Vertex, é ü 東京.", text.ToString());
        var sent = TakeModelRequest();
        Assert.EndsWith("/publishers/mistralai/models/mistral-large@2407:streamRawPredict", sent.Path);
        using var body = sent.Json();
        Assert.True(body.RootElement.GetProperty("stream").GetBoolean());
        Assert.False(body.RootElement.TryGetProperty("stream_options", out _)); // not in Mistral's list
    }

    [Fact]
    public async Task Jamba_goes_to_the_ai21_publisher_on_v1beta1()
    {
        _upstream.Enqueue(new VertexPartnerScript { Answer = new OpenAIScript { Content = "Shalom." } });
        ChatCompletion completion = await Chat("jamba").CompleteChatAsync([new UserChatMessage("hello")]);
        Assert.Equal("Shalom.", completion.Content[0].Text);
        var sent = TakeModelRequest();
        Assert.Equal($"/v1beta1/projects/{VertexPartnerEmulator.Project}/locations/us-central1/publishers/ai21/models/jamba-1.5-large@001:rawPredict", sent.Path);
    }

    [Fact]
    public async Task Llama_maas_uses_the_openapi_endpoint_with_the_publisher_model_id_and_is_priced()
    {
        _upstream.Enqueue(new VertexPartnerScript { Answer = new OpenAIScript { Content = "Hi from Llama.", PromptTokens = 1000, CompletionTokens = 100 } });
        using var response = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"llama","max_completion_tokens":64,"messages":[{"role":"user","content":"hi"}]}"""));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        Assert.Contains("Hi from Llama.", text);
        var sent = TakeModelRequest();
        Assert.Equal($"/v1/projects/{VertexPartnerEmulator.Project}/locations/us-central1/endpoints/openapi/chat/completions", sent.Path);
        using var body = sent.Json();
        Assert.Equal("meta/llama-4-scout-17b-16e-instruct-maas", body.RootElement.GetProperty("model").GetString());
        Assert.Equal(64, body.RootElement.GetProperty("max_tokens").GetInt32());
        // 1000 × 2.5e-7 + 100 × 7e-7 from the price table's vertex_ai/meta/llama-4-scout-17b-16e-instruct-maas.
        Assert.Equal(0.00032m, decimal.Parse(response.Headers.GetValues("x-llmux-response-cost").Single(), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Llama_maas_streams_with_usage_through_the_openai_sdk()
    {
        _upstream.Enqueue(new VertexPartnerScript { Answer = new OpenAIScript { Content = "one two three", Chunks = 3, PromptTokens = 5, CompletionTokens = 3 } });
        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        await foreach (var update in Chat("llama").CompleteChatStreamingAsync([new UserChatMessage("count")]))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            usage ??= update.Usage;
        }
        Assert.Equal("one two three", text.ToString());
        Assert.Equal(5, usage?.InputTokenCount);
        _upstream.Requests.Clear();
    }

    [Fact]
    public async Task A_vertex_quota_error_is_a_429_and_a_wrong_endpoint_a_404()
    {
        _upstream.Enqueue(new VertexPartnerScript { GoogleError = (429, "RESOURCE_EXHAUSTED", "Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model") });
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Chat("mistral").CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(429, ex.Status);
        var wrong = await Assert.ThrowsAsync<ClientResultException>(() => Chat("llama-wrong-base").CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(404, wrong.Status);
        Assert.Contains("vertex_ai", wrong.Message);
        _upstream.Requests.Clear();
    }

    [Fact]
    public async Task Embeddings_are_refused_before_any_call()
    {
        using var response = await _gateway.Http.PostAsync("/v1/embeddings", Json("""{"model":"mistral","input":"hi"}"""));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(_upstream.ModelRequests);
    }

    [Theory]
    [InlineData("mistral-large@2407", "Mistral")]
    [InlineData("codestral-2501", "Mistral")]
    [InlineData("mistral-small-2503@001", "Mistral")]
    [InlineData("jamba-1.5-mini@001", "Ai21")]
    [InlineData("meta/llama-3.1-405b-instruct-maas", "OpenApi")]
    [InlineData("deepseek-ai/deepseek-r1-0528-maas", "OpenApi")]
    [InlineData("qwen/qwen3-coder-480b-a35b-instruct-maas", "OpenApi")]
    [InlineData("openai/gpt-oss-120b-maas", "OpenApi")]
    [InlineData("minimaxai/minimax-m2-maas", "OpenApi")]
    [InlineData("moonshotai/kimi-k2-thinking-maas", "OpenApi")]
    [InlineData("zai-org/glm-4.7-maas", "OpenApi")]
    public void Partner_ids_route_to_their_family_as_litellm_routes_them(string model, string family)
    {
        using var vertex = new VertexProvider();
        var provider = Assert.IsType<VertexPartnerProvider>(vertex.ForModel(model));
        Assert.Equal(family, provider.Family.ToString());
    }

    [Theory]
    [InlineData("gemini-2.5-pro")]
    [InlineData("text-embedding-005")]
    [InlineData("1234567890")]
    public void Gemini_and_endpoint_ids_stay_with_gemini(string model)
    {
        using var vertex = new VertexProvider();
        Assert.Same(vertex, vertex.ForModel(model));
    }

    [Theory]
    [InlineData("mistral-large@2407", false, "us-central1", "https://us-central1-aiplatform.googleapis.com/v1/projects/proj/locations/us-central1/publishers/mistralai/models/mistral-large@2407:rawPredict")]
    [InlineData("codestral-2501", true, "europe-west4", "https://europe-west4-aiplatform.googleapis.com/v1/projects/proj/locations/europe-west4/publishers/mistralai/models/codestral-2501:streamRawPredict")]
    [InlineData("jamba-1.5-large@001", false, "us-central1", "https://us-central1-aiplatform.googleapis.com/v1beta1/projects/proj/locations/us-central1/publishers/ai21/models/jamba-1.5-large@001:rawPredict")]
    [InlineData("meta/llama-3.1-405b-instruct-maas", true, "us-central1", "https://us-central1-aiplatform.googleapis.com/v1/projects/proj/locations/us-central1/endpoints/openapi/chat/completions")]
    [InlineData("qwen/qwen3-235b-a22b-instruct-2507-maas", false, "global", "https://aiplatform.googleapis.com/v1/projects/proj/locations/global/endpoints/openapi/chat/completions")]
    public void Default_urls_follow_each_familys_endpoint(string model, bool stream, string location, string expected)
    {
        var deployment = GeminiTestContext.Deployment(model, vertex: true, settings: new Dictionary<string, string> { ["vertex_project"] = "proj", ["vertex_location"] = location });
        using var vertex = new VertexProvider();
        var provider = Assert.IsType<VertexPartnerProvider>(vertex.ForModel(model));
        Assert.Equal(expected, provider.Url(deployment, stream));
    }

    // ---- the stream alone, split at every byte ----

    [Fact]
    public void Partner_stream_output_is_identical_at_every_split_position()
    {
        var sse = new StringBuilder();
        foreach (var (delta, finish) in new[] { ("{\"role\":\"assistant\",\"content\":\"\"}", "null"), ("{\"content\":\"Grüße \"}", "null"), ("{\"content\":\"東京\"}", "null"), ("{}", "\"stop\"") })
            sse.Append("data: {\"id\":\"cmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"mistral-large\",\"choices\":[{\"index\":0,\"delta\":").Append(delta).Append(",\"finish_reason\":").Append(finish).Append("}]}\n\n");
        sse.Append("data: {\"id\":\"cmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"mistral-large\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}\n\ndata: [DONE]\n\n");
        var data = Encoding.UTF8.GetBytes(sse.ToString());
        using var vertex = new VertexProvider();
        var provider = vertex.ForModel("mistral-large@2407");
        string Run(int[] cuts)
        {
            var context = new LlmContext { TimeProvider = new FakeTimeProvider(), Chat = new ChatRequest { Stream = true }, IsStream = true };
            using var translator = provider.CreateStreamTranslator(context);
            var text = TranslatorFeed.Run(translator, data, cuts);
            Assert.Equal(3, context.Usage?.PromptTokens);
            return text;
        }
        var whole = Run([]);
        Assert.Contains("東京", whole);
        for (var cut = 1; cut < data.Length; cut++) Assert.Equal(whole, Run([cut]));
    }

    private static StringContent Json(string s) => new(s, Encoding.UTF8, "application/json");
}
