using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Stages.Accounting;
using LLMux.Tests.Infrastructure;

namespace LLMux.Tests.Modes;

/// <summary>Rerank in Cohere's request shape over raw HTTP, against each provider's rerank API emulated byte for byte.</summary>
public sealed class RerankTests : IAsyncLifetime
{
    private readonly Dictionary<RerankFlavor, RerankEmulator> _up = [];
    private OpenAIEmulator _chat = null!;
    private GatewayHost _gateway = null!;

    private const string Documents = """["Berlin is the capital of Germany","Paris is the capital of France",{"text":"Madrid is in Spain","title":"es"}]""";

    public async Task InitializeAsync()
    {
        foreach (var f in Enum.GetValues<RerankFlavor>()) _up[f] = await RerankEmulator.StartNewAsync(f);
        _chat = await OpenAIEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync($"""
            router_settings:
              num_retries: 0
            model_list:
              - model_name: cohere-rr
                litellm_params:
                  model: cohere/rerank-v3.5
                  api_base: {_up[RerankFlavor.CohereV2].ApiBase}
                  api_key: co-key
              - model_name: jina-rr
                litellm_params:
                  model: jina_ai/jina-reranker-v2-base-multilingual
                  api_base: {_up[RerankFlavor.Jina].ApiBase}
                  api_key: jina-key
              - model_name: jina-lenient
                litellm_params:
                  model: jina_ai/jina-reranker-v2-base-multilingual
                  api_base: {_up[RerankFlavor.Jina].ApiBase}
                  api_key: jina-key
                  drop_params: true
              - model_name: voyage-rr
                litellm_params:
                  model: voyage/rerank-2
                  api_base: {_up[RerankFlavor.Voyage].ApiBase}
                  api_key: voy-key
              - model_name: vllm-rr
                litellm_params:
                  model: hosted_vllm/BAAI/bge-reranker-v2-m3
                  api_base: {_up[RerankFlavor.Vllm].ApiBase}
              - model_name: together-rr
                litellm_params:
                  model: together_ai/Salesforce/Llama-Rank-V1
                  api_base: {_up[RerankFlavor.Together].ApiBase}
                  api_key: tg-key
              - model_name: infinity-rr
                litellm_params:
                  model: infinity/mixedbread-ai/mxbai-rerank-large-v1
                  api_base: {_up[RerankFlavor.Infinity].ApiBase}
              - model_name: bedrock-rr
                litellm_params:
                  model: bedrock/amazon.rerank-v1:0
                  api_base: {_up[RerankFlavor.Bedrock].ApiBase}
                  aws_access_key_id: {BedrockEmulator.AccessKeyId}
                  aws_secret_access_key: {BedrockEmulator.SecretAccessKey}
                  aws_region_name: us-west-2
              - model_name: chat-only
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: {_chat.ApiBase}
                  api_key: sk-chat
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _chat.DisposeAsync();
        foreach (var e in _up.Values) await e.DisposeAsync();
    }

    private Task<HttpResponseMessage> PostAsync(string json, string path = "/v1/rerank") =>
        _gateway.Http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    private static async Task<JsonElement> JsonOf(HttpResponseMessage response) => JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    private static decimal CostHeader(HttpResponseMessage response) =>
        decimal.Parse(response.Headers.GetValues("x-llmux-response-cost").Single(), CultureInfo.InvariantCulture);

    private static void AssertParisFirst(JsonElement root, int count)
    {
        var results = root.GetProperty("results");
        Assert.Equal(count, results.GetArrayLength());
        Assert.Equal(1, results[0].GetProperty("index").GetInt32());
        Assert.Equal(RerankEmulator.Score("capital of France", "Paris is the capital of France", 1), results[0].GetProperty("relevance_score").GetDouble(), 6);
        Assert.True(results[0].GetProperty("relevance_score").GetDouble() >= results[results.GetArrayLength() - 1].GetProperty("relevance_score").GetDouble());
    }

    [Fact]
    public async Task Cohere_v2_ranks_attaches_the_documents_and_prices_the_search_unit()
    {
        using var response = await PostAsync("""{"model":"cohere-rr","query":"capital of France","documents":""" + Documents + ""","top_n":2,"return_documents":true}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var root = await JsonOf(response);
        AssertParisFirst(root, 2);
        Assert.Equal("Paris is the capital of France", root.GetProperty("results")[0].GetProperty("document").GetProperty("text").GetString());
        Assert.Equal(1, root.GetProperty("meta").GetProperty("billed_units").GetProperty("search_units").GetInt32());
        Assert.Equal("07734bd2-2473-4f07-94e1-0d9f0e6843cf", root.GetProperty("id").GetString());
        Assert.Equal(PriceTable.Default.Find("cohere", "rerank-v3.5")!.InputPerQuery, CostHeader(response));

        var sent = Assert.Single(_up[RerankFlavor.CohereV2].Requests);
        Assert.Equal("/v2/rerank", sent.Path);
        Assert.Equal("Bearer co-key", sent.Headers["authorization"]);
        Assert.Equal("""{"model":"rerank-v3.5","query":"capital of France","documents":["Berlin is the capital of Germany","Paris is the capital of France","Madrid is in Spain"],"top_n":2}""", sent.BodyText);
    }

    [Fact]
    public async Task Jina_on_the_bare_rerank_route_without_documents_prices_tokens()
    {
        using var response = await PostAsync("""{"model":"jina-rr","query":"capital of France","documents":""" + Documents + ""","return_documents":false}""", "/rerank");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var root = await JsonOf(response);
        AssertParisFirst(root, 3);
        Assert.False(root.GetProperty("results")[0].TryGetProperty("document", out _));
        var tokens = root.GetProperty("meta").GetProperty("billed_units").GetProperty("total_tokens").GetInt64();
        Assert.True(tokens > 0);
        Assert.Equal(tokens * PriceTable.Default.Find("jina_ai", "jina-reranker-v2-base-multilingual")!.InputPerToken, CostHeader(response));
        var sent = Assert.Single(_up[RerankFlavor.Jina].Requests).Json().RootElement;
        Assert.False(sent.GetProperty("return_documents").GetBoolean());
        Assert.Equal(JsonValueKind.Object, sent.GetProperty("documents")[2].ValueKind);
    }

    [Fact]
    public async Task Voyage_gets_top_k_and_string_documents_and_its_data_is_read()
    {
        using var response = await PostAsync("""{"model":"voyage-rr","query":"capital of France","documents":""" + Documents + ""","top_n":1}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var root = await JsonOf(response);
        AssertParisFirst(root, 1);
        var sent = Assert.Single(_up[RerankFlavor.Voyage].Requests).Json().RootElement;
        Assert.Equal(1, sent.GetProperty("top_k").GetInt32());
        Assert.False(sent.TryGetProperty("top_n", out _));
        Assert.Equal("Madrid is in Spain", sent.GetProperty("documents")[2].GetString());
    }

    [Theory]
    [InlineData(RerankFlavor.Vllm, "vllm-rr", "Bearer fake-api-key")]
    [InlineData(RerankFlavor.Together, "together-rr", "Bearer tg-key")]
    [InlineData(RerankFlavor.Infinity, "infinity-rr", null)]
    public async Task Cohere_like_servers_rank_at_api_base_rerank(RerankFlavor flavor, string model, string? auth)
    {
        using var response = await PostAsync("""{"model":"MODEL","query":"capital of France","documents":""".Replace("MODEL", model, StringComparison.Ordinal) + Documents + ""","top_n":2}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var root = await JsonOf(response);
        AssertParisFirst(root, 2);
        Assert.Equal(JsonValueKind.Object, root.GetProperty("results")[1].GetProperty("document").ValueKind);
        var sent = Assert.Single(_up[flavor].Requests);
        Assert.Equal("/v1/rerank", sent.Path);
        if (auth is null) Assert.False(sent.Headers.ContainsKey("authorization"));
        else Assert.Equal(auth, sent.Headers["authorization"]);
    }

    [Fact]
    public async Task Bedrock_agent_runtime_rerank_is_signed_sends_a_model_arn_and_is_priced_per_query()
    {
        using var response = await PostAsync("""{"model":"bedrock-rr","query":"capital of France","documents":""" + Documents + ""","top_n":2}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var root = await JsonOf(response);
        AssertParisFirst(root, 2);
        Assert.Equal("Paris is the capital of France", root.GetProperty("results")[0].GetProperty("document").GetProperty("text").GetString());
        Assert.Equal(PriceTable.Default.Find("bedrock", "amazon.rerank-v1:0")!.InputPerQuery, CostHeader(response));

        var sent = Assert.Single(_up[RerankFlavor.Bedrock].Requests);
        Assert.Equal("/rerank", sent.Path);
        Assert.StartsWith("AWS4-HMAC-SHA256 Credential=" + BedrockEmulator.AccessKeyId + "/", sent.Headers["authorization"], StringComparison.Ordinal);
        var b = sent.Json().RootElement;
        var config = b.GetProperty("rerankingConfiguration").GetProperty("bedrockRerankingConfiguration");
        Assert.Equal("arn:aws:bedrock:us-west-2::foundation-model/amazon.rerank-v1:0", config.GetProperty("modelConfiguration").GetProperty("modelArn").GetString());
        Assert.Equal(2, config.GetProperty("numberOfResults").GetInt32());
        Assert.Equal("JSON", b.GetProperty("sources")[2].GetProperty("inlineDocumentSource").GetProperty("type").GetString());
    }

    [Theory]
    [InlineData("""{"model":"cohere-rr","documents":["a"]}""", "query")]
    [InlineData("""{"model":"cohere-rr","query":"q","documents":[]}""", "documents")]
    [InlineData("""{"model":"cohere-rr","query":"q","documents":["a",3]}""", "documents[1]")]
    [InlineData("""{"model":"cohere-rr","query":"q","documents":["a"],"top_n":0}""", "top_n")]
    [InlineData("""{"query":"q","documents":["a"]}""", "model")]
    public async Task Invalid_rerank_requests_are_400_before_any_call(string body, string param)
    {
        using var response = await PostAsync(body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(param, (await JsonOf(response)).GetProperty("error").GetProperty("param").GetString());
        Assert.Empty(_up[RerankFlavor.CohereV2].Requests);
    }

    [Fact]
    public async Task A_parameter_the_provider_lacks_is_a_400_or_dropped_under_drop_params()
    {
        using (var refused = await PostAsync("""{"model":"jina-rr","query":"q","documents":["a"],"rank_fields":["text"]}"""))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            var error = (await JsonOf(refused)).GetProperty("error");
            Assert.Equal("rank_fields", error.GetProperty("param").GetString());
            Assert.Contains("jina_ai", error.GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.Empty(_up[RerankFlavor.Jina].Requests);
        }
        using var dropped = await PostAsync("""{"model":"jina-lenient","query":"q","documents":["a"],"rank_fields":["text"]}""");
        Assert.Equal(HttpStatusCode.OK, dropped.StatusCode);
        Assert.Contains("rank_fields", dropped.Headers.GetValues("x-llmux-warnings").Single(), StringComparison.Ordinal);
        Assert.DoesNotContain("rank_fields", Assert.Single(_up[RerankFlavor.Jina].Requests).BodyText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rerank_on_a_chat_only_provider_is_refused_naming_the_mode_before_any_call()
    {
        using var response = await PostAsync("""{"model":"chat-only","query":"q","documents":["a"]}""");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await JsonOf(response)).GetProperty("error");
        Assert.Equal("unsupported_mode", error.GetProperty("code").GetString());
        Assert.Contains("rerank", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(_chat.Requests);
    }

    [Fact]
    public async Task Upstream_rate_limit_keeps_its_status()
    {
        _up[RerankFlavor.CohereV2].NextError = (429, """{"message":"You are using a Trial key, which is limited to 10 API calls / minute."}""");
        using var response = await PostAsync("""{"model":"cohere-rr","query":"q","documents":["a"]}""");
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Contains("Trial key", (await JsonOf(response)).GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }
}
