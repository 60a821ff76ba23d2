using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Stages.Accounting;
using LLMux.Tests.Infrastructure;

namespace LLMux.Tests.Modes;

/// <summary>
/// Rerank in Cohere's request shape over raw HTTP to the providers whose APIs are not Cohere-like: Vertex AI's ranking
/// API (service-account token, X-Goog-User-Project), Azure AI Foundry's Cohere, DeepInfra, Hugging Face TEI, NVIDIA NIM.
/// </summary>
public sealed class RerankMoreProvidersTests : IAsyncLifetime
{
    private readonly Dictionary<RerankFlavor, RerankEmulator> _up = [];
    private GeminiEmulator _google = null!;
    private GatewayHost _gateway = null!;
    private string _credentialsFile = null!;

    private const string Documents = """["Berlin is the capital of Germany","Paris is the capital of France",{"text":"Madrid is in Spain","title":"Spain"}]""";

    public async Task InitializeAsync()
    {
        foreach (var f in new[] { RerankFlavor.AzureAI, RerankFlavor.DeepInfra, RerankFlavor.Tei, RerankFlavor.NvidiaNim, RerankFlavor.Vllm }) _up[f] = await RerankEmulator.StartNewAsync(f);
        _google = await GeminiEmulator.StartNewAsync();
        _credentialsFile = Path.Combine(Path.GetTempPath(), $"llmux-vertex-rank-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(_credentialsFile, _google.ServiceAccountJson);
        _gateway = await GatewayHost.StartAsync($"""
            router_settings:
              num_retries: 0
            model_list:
              - model_name: vertex-rr
                litellm_params:
                  model: vertex_ai/semantic-ranker-default@latest
                  api_base: {_google.Root.ToString().TrimEnd('/')}
                  vertex_credentials: {_credentialsFile}
                  vertex_project: emu-project
              - model_name: azure-rr
                litellm_params:
                  model: azure_ai/cohere-rerank-v3.5
                  api_base: {_up[RerankFlavor.AzureAI].ApiBase}
                  api_key: {RerankEmulator.Key}
              - model_name: deepinfra-rr
                litellm_params:
                  model: deepinfra/Qwen/Qwen3-Reranker-4B
                  api_base: {_up[RerankFlavor.DeepInfra].ApiBase}
                  api_key: {RerankEmulator.Key}
              - model_name: tei-rr
                litellm_params:
                  model: huggingface/BAAI/bge-reranker-base
                  api_base: {_up[RerankFlavor.Tei].ApiBase}
                  api_key: {RerankEmulator.Key}
              - model_name: tei-nobase
                litellm_params:
                  model: huggingface/BAAI/bge-reranker-base
                  api_key: {RerankEmulator.Key}
              - model_name: nim-rr
                litellm_params:
                  model: nvidia_nim/nvidia/llama-3_2-nv-rerankqa-1b-v2
                  api_base: {_up[RerankFlavor.NvidiaNim].ApiBase}/v1
                  api_key: {RerankEmulator.Key}
              - model_name: vllm-rr
                litellm_params:
                  model: hosted_vllm/BAAI/bge-reranker-v2-m3
                  api_base: {_up[RerankFlavor.Vllm].ApiBase}
              - model_name: nim-ranking
                litellm_params:
                  model: nvidia_nim/ranking/nvidia/llama-3.2-nv-rerankqa-1b-v2
                  api_base: {_up[RerankFlavor.NvidiaNim].ApiBase}
                  api_key: {RerankEmulator.Key}
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _google.DisposeAsync();
        foreach (var e in _up.Values) await e.DisposeAsync();
        File.Delete(_credentialsFile);
    }

    private Task<HttpResponseMessage> PostAsync(string json) =>
        _gateway.Http.PostAsync("/v1/rerank", new StringContent(json, Encoding.UTF8, "application/json"));

    private static async Task<JsonElement> JsonOf(HttpResponseMessage response) => JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    private static decimal? CostHeader(HttpResponseMessage response) =>
        response.Headers.TryGetValues("x-llmux-response-cost", out var v) ? decimal.Parse(v.Single(), CultureInfo.InvariantCulture) : null;

    private static void AssertParisFirst(JsonElement root, int count)
    {
        var results = root.GetProperty("results");
        Assert.Equal(count, results.GetArrayLength());
        Assert.Equal(1, results[0].GetProperty("index").GetInt32());
        for (var i = 1; i < results.GetArrayLength(); i++)
            Assert.True(results[i - 1].GetProperty("relevance_score").GetDouble() >= results[i].GetProperty("relevance_score").GetDouble());
    }

    [Fact]
    public async Task Vertex_ranking_api_gets_records_with_titles_the_project_header_and_a_token()
    {
        using var response = await PostAsync("""{"model":"vertex-rr","query":"capital of France","documents":""" + Documents + ""","top_n":2}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var root = await JsonOf(response);
        AssertParisFirst(root, 2);
        Assert.Equal("Paris is the capital of France", root.GetProperty("results")[0].GetProperty("document").GetProperty("text").GetString());
        Assert.Equal(1, root.GetProperty("meta").GetProperty("billed_units").GetProperty("search_units").GetInt32());

        var sent = Assert.Single(_google.ModelRequests);
        Assert.Equal("/v1/projects/emu-project/locations/global/rankingConfigs/default_ranking_config:rank", sent.Path);
        Assert.Equal("emu-project", sent.Headers["x-goog-user-project"]);
        Assert.StartsWith("Bearer ", sent.Headers["authorization"], StringComparison.Ordinal);
        var b = sent.Json().RootElement;
        Assert.Equal("semantic-ranker-default@latest", b.GetProperty("model").GetString());
        Assert.Equal(2, b.GetProperty("topN").GetInt32());
        Assert.False(b.GetProperty("ignoreRecordDetailsInResponse").GetBoolean());
        var records = b.GetProperty("records");
        Assert.Equal("""{"id":"0","title":"Berlin is the","content":"Berlin is the capital of Germany"}""", records[0].GetRawText());
        Assert.Equal("""{"id":"2","title":"Spain","content":"Madrid is in Spain"}""", records[2].GetRawText());
    }

    [Fact]
    public async Task Vertex_without_documents_asks_for_ids_and_scores_only()
    {
        using var response = await PostAsync("""{"model":"vertex-rr","query":"capital of France","documents":""" + Documents + ""","return_documents":false}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var root = await JsonOf(response);
        AssertParisFirst(root, 3);
        Assert.False(root.GetProperty("results")[0].TryGetProperty("document", out _));
        Assert.True(Assert.Single(_google.ModelRequests).Json().RootElement.GetProperty("ignoreRecordDetailsInResponse").GetBoolean());
    }

    [Fact]
    public async Task Azure_ai_cohere_rerank_keeps_the_version_path_and_prices_the_search_unit()
    {
        using var response = await PostAsync("""{"model":"azure-rr","query":"capital of France","documents":""" + Documents + ""","top_n":2}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var root = await JsonOf(response);
        AssertParisFirst(root, 2);
        Assert.Equal("az-rr-1", root.GetProperty("id").GetString());
        Assert.Equal(PriceTable.Default.Find("azure_ai", "cohere-rerank-v3.5")!.InputPerQuery, CostHeader(response));
        var sent = Assert.Single(_up[RerankFlavor.AzureAI].Requests);
        Assert.Equal("/providers/cohere/v2/rerank", sent.Path);
        Assert.Equal("""{"model":"cohere-rerank-v3.5","query":"capital of France","documents":["Berlin is the capital of Germany","Paris is the capital of France","Madrid is in Spain"],"top_n":2}""", sent.BodyText);
    }

    [Fact]
    public async Task Azure_ai_refuses_rank_fields_unless_dropped()
    {
        using var response = await PostAsync("""{"model":"azure-rr","query":"q","documents":["a"],"rank_fields":["text"]}""");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("rank_fields", (await JsonOf(response)).GetProperty("error").GetProperty("param").GetString());
        Assert.Empty(_up[RerankFlavor.AzureAI].Requests);
    }

    [Fact]
    public async Task Deepinfra_scores_every_pair_and_llmux_sorts_and_cuts_to_top_n()
    {
        using var response = await PostAsync("""{"model":"deepinfra-rr","query":"capital of France","documents":""" + Documents + ""","top_n":1}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var root = await JsonOf(response);
        AssertParisFirst(root, 1);
        Assert.Equal("di-req-1", root.GetProperty("id").GetString());
        Assert.True(root.GetProperty("meta").GetProperty("billed_units").GetProperty("total_tokens").GetInt32() > 0);
        var sent = Assert.Single(_up[RerankFlavor.DeepInfra].Requests);
        Assert.Equal("/v1/inference/Qwen/Qwen3-Reranker-4B", sent.Path);
        Assert.Equal("""{"queries":["capital of France","capital of France","capital of France"],"documents":["Berlin is the capital of Germany","Paris is the capital of France","Madrid is in Spain"]}""", sent.BodyText);
    }

    [Fact]
    public async Task Huggingface_tei_gets_texts_and_its_fixed_flags()
    {
        using var response = await PostAsync("""{"model":"tei-rr","query":"capital of France","documents":""" + Documents + ""","top_n":2}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var root = await JsonOf(response);
        AssertParisFirst(root, 2);
        Assert.Equal("Paris is the capital of France", root.GetProperty("results")[0].GetProperty("document").GetProperty("text").GetString());
        var sent = Assert.Single(_up[RerankFlavor.Tei].Requests);
        Assert.Equal("/rerank", sent.Path);
        Assert.Equal("""{"query":"capital of France","texts":["Berlin is the capital of Germany","Paris is the capital of France","Madrid is in Spain"],"raw_scores":false,"truncate":false,"truncation_direction":"Right"}""", sent.BodyText);
    }

    [Fact]
    public async Task Huggingface_rerank_without_an_api_base_is_a_clear_400()
    {
        using var response = await PostAsync("""{"model":"tei-nobase","query":"q","documents":["a"]}""");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("api_base", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nvidia_nim_retrieval_url_passages_and_top_k()
    {
        using var response = await PostAsync("""{"model":"nim-rr","query":"capital of France","documents":""" + Documents + ""","top_n":2,"truncate":"END"}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        AssertParisFirst(await JsonOf(response), 2);
        var sent = Assert.Single(_up[RerankFlavor.NvidiaNim].Requests);
        Assert.Equal("/v1/retrieval/nvidia/llama-3_2-nv-rerankqa-1b-v2/reranking", sent.Path);
        Assert.Equal("Bearer " + RerankEmulator.Key, sent.Headers["authorization"]);
        Assert.Equal("""{"model":"nvidia/llama-3.2-nv-rerankqa-1b-v2","query":{"text":"capital of France"},"passages":[{"text":"Berlin is the capital of Germany"},{"text":"Paris is the capital of France"},{"text":"Madrid is in Spain"}],"top_k":2,"truncate":"END"}""", sent.BodyText);
    }

    [Fact]
    public async Task Nvidia_nim_ranking_models_use_the_ranking_endpoint()
    {
        using var response = await PostAsync("""{"model":"nim-ranking","query":"capital of France","documents":""" + Documents + """}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = Assert.Single(_up[RerankFlavor.NvidiaNim].Requests);
        Assert.Equal("/v1/ranking", sent.Path);
        Assert.Equal("nvidia/llama-3.2-nv-rerankqa-1b-v2", sent.Json().RootElement.GetProperty("model").GetString());
    }

    [Fact]
    public async Task Provider_fields_for_an_openai_compatible_rerank_server_are_forwarded_not_lost()
    {
        using var response = await PostAsync("""{"model":"vllm-rr","query":"capital of France","documents":["a","b"],"truncate_prompt_tokens":64}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(64, Assert.Single(_up[RerankFlavor.Vllm].Requests).Json().RootElement.GetProperty("truncate_prompt_tokens").GetInt32());
    }

    [Fact]
    public async Task A_provider_field_a_rebuilt_body_cannot_carry_is_dropped_with_a_warning_under_drop_params()
    {
        using var response = await PostAsync("""{"model":"deepinfra-rr","query":"q","documents":["a"],"truncate":"END","drop_params":true}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("truncate", response.Headers.GetValues("x-llmux-warnings").Single(), StringComparison.Ordinal);
        Assert.DoesNotContain("truncate", Assert.Single(_up[RerankFlavor.DeepInfra].Requests).BodyText, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"model":"nim-rr","query":"q","documents":["a"],"truncate":"START"}""", "truncate")]
    [InlineData("""{"model":"deepinfra-rr","query":"q","documents":["a"],"truncate":"END"}""", "truncate")]
    [InlineData("""{"model":"tei-rr","query":"q","documents":["a"],"max_tokens_per_doc":5}""", "max_tokens_per_doc")]
    public async Task Fields_a_provider_lacks_are_400_before_any_call(string body, string param)
    {
        using var response = await PostAsync(body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(param, (await JsonOf(response)).GetProperty("error").GetProperty("param").GetString());
        Assert.All(_up.Values, static e => Assert.Empty(e.Requests));
    }
}
