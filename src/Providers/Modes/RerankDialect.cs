using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;

namespace LLMux.Providers.Modes;

/// <summary>The body shapes of rerank APIs that are not Cohere's.</summary>
public enum RerankBody
{
    /// <summary>Cohere's <c>{model, query, documents, top_n, …}</c> → <c>{results[{index, relevance_score}]}</c>.</summary>
    Cohere,
    /// <summary>DeepInfra's inference API: <c>{queries: [query × documents], documents}</c> → <c>{scores[], input_tokens}</c>.</summary>
    DeepInfra,
    /// <summary>Hugging Face Text Embeddings Inference: <c>{query, texts, raw_scores, truncate, truncation_direction}</c> → <c>[{index, score}]</c>.</summary>
    Tei,
    /// <summary>NVIDIA NIM retrieval: <c>{model, query{text}, passages[{text}], top_k?, truncate?}</c> → <c>{rankings[{index, logit}]}</c>.</summary>
    NvidiaNim,
}

/// <summary>How one provider's rerank API differs from Cohere's: where it lives and what its fields are called.</summary>
public sealed record RerankDialect
{
    /// <summary>Path joined to api_base.</summary>
    public string Path { get; init; } = "rerank";
    public RerankBody Body { get; init; } = RerankBody.Cohere;
    /// <summary>The upstream name of <c>top_n</c> (Voyage: <c>top_k</c>); null when LLMux cuts the results itself.</summary>
    public string? TopN { get; init; } = "top_n";
    /// <summary>The results array of the answer (Voyage: <c>data</c>).</summary>
    public string Results { get; init; } = "results";
    /// <summary>The upstream takes only string documents (objects are sent as their <c>text</c>, else their JSON).</summary>
    public bool StringDocuments { get; init; }
    public bool RankFields { get; init; }
    public bool MaxTokensPerDoc { get; init; }
    /// <summary>The upstream takes <c>return_documents</c> (Cohere v2 does not; LLMux attaches the documents itself either way).</summary>
    public bool ReturnDocuments { get; init; } = true;
    /// <summary>The URL when it is not <c>{api_base}/{Path}</c>: (deployment, resolved api_base) → URL.</summary>
    public Func<Deployment, string, Uri>? Url { get; init; }

    /// <summary>Cohere v2 (<c>/v2/rerank</c>, string documents, rank_fields and max_tokens_per_doc).</summary>
    public static RerankDialect Cohere { get; } = new() { Path = "v2/rerank", StringDocuments = true, ReturnDocuments = false, RankFields = true, MaxTokensPerDoc = true };
    /// <summary>Cohere's shape at <c>{api_base}/rerank</c>: vLLM, Infinity, Together (rank_fields).</summary>
    public static RerankDialect CohereLike { get; } = new();
    public static RerankDialect Together { get; } = new() { RankFields = true };
    public static RerankDialect Jina { get; } = new();
    public static RerankDialect Voyage { get; } = new() { TopN = "top_k", Results = "data", StringDocuments = true };

    /// <summary>
    /// Azure AI Foundry's Cohere rerank: an api_base ending <c>/v1/rerank</c> or <c>/v2/rerank</c> is used as it is, one ending in
    /// the version path (<c>/v1</c>, <c>/v2</c>, <c>/providers/cohere/v2</c>) gets <c>/rerank</c>, any other gets <c>/v1/rerank</c> (LiteLLM's rule).
    /// </summary>
    public static RerankDialect AzureAI { get; } = new() { StringDocuments = true, ReturnDocuments = false, MaxTokensPerDoc = true, Url = AzureAIUrl };

    /// <summary>DeepInfra: <c>{api_base without "/openai"}/inference/{model}</c>; no top_n upstream (LLMux cuts the results).</summary>
    public static RerankDialect DeepInfra { get; } = new() { Body = RerankBody.DeepInfra, TopN = null, ReturnDocuments = false, StringDocuments = true, Url = DeepInfraUrl };

    /// <summary>Hugging Face TEI: <c>{api_base}/rerank</c> (api_base required: a TEI server or Inference Endpoint).</summary>
    public static RerankDialect Tei { get; } = new() { Body = RerankBody.Tei, TopN = null, ReturnDocuments = false, StringDocuments = true, Url = TeiUrl };

    /// <summary>NVIDIA NIM: <c>{host}/v1/retrieval/{model}/reranking</c>, or <c>{host}/v1/ranking</c> for <c>ranking/…</c> models.</summary>
    public static RerankDialect NvidiaNim { get; } = new() { Body = RerankBody.NvidiaNim, TopN = "top_k", ReturnDocuments = false, StringDocuments = true, Url = NimUrl };

    /// <summary>NIM's rerank host when the deployment names none (the chat host differs).</summary>
    public const string NvidiaNimRerankBase = "https://ai.api.nvidia.com";

    /// <summary>The dialect of an OpenAI-shaped provider's rerank API.</summary>
    public static RerankDialect ForProvider(string provider) => provider switch
    {
        "together_ai" => Together,
        "azure_ai" => AzureAI,
        "deepinfra" => DeepInfra,
        "huggingface" => Tei,
        "nvidia_nim" => NvidiaNim,
        _ => CohereLike,
    };

    /// <summary>The model id NIM expects in the URL and body (<c>ranking/</c> route prefix removed).</summary>
    public static string NimModel(string upstreamModel) => upstreamModel.StartsWith("ranking/", StringComparison.Ordinal) ? upstreamModel["ranking/".Length..] : upstreamModel;

    private static Uri AzureAIUrl(Deployment deployment, string apiBase)
    {
        var uri = new Uri(apiBase, UriKind.Absolute);
        var path = uri.AbsolutePath.TrimEnd('/');
        var root = uri.GetLeftPart(UriPartial.Authority);
        string full;
        if (path.EndsWith("/v1/rerank", StringComparison.Ordinal) || path.EndsWith("/v2/rerank", StringComparison.Ordinal)) full = root + path;
        else if (path.EndsWith("/v1", StringComparison.Ordinal) || path.EndsWith("/v2", StringComparison.Ordinal)) full = root + path + "/rerank";
        else full = root + path + "/v1/rerank";
        return new Uri(full + uri.Query, UriKind.Absolute);
    }

    private static Uri DeepInfraUrl(Deployment deployment, string apiBase)
    {
        var root = apiBase.Replace("/openai", "", StringComparison.Ordinal).TrimEnd('/');
        return new Uri(root + "/inference/" + deployment.UpstreamModel, UriKind.Absolute);
    }

    private static Uri TeiUrl(Deployment deployment, string apiBase)
    {
        var root = (deployment.ApiBase ?? throw LlmError.Invalid($"huggingface rerank needs the TEI server: set litellm_params.api_base for `{deployment.ModelName}` (LLMux calls `{{api_base}}/rerank`)", "api_base", "missing_api_base").ToException()).TrimEnd('/');
        return new Uri(root.EndsWith("/rerank", StringComparison.Ordinal) ? root : root + "/rerank", UriKind.Absolute);
    }

    private static Uri NimUrl(Deployment deployment, string apiBase)
    {
        var root = (deployment.ApiBase ?? NvidiaNimRerankBase).TrimEnd('/');
        if (root.Contains("/retrieval/", StringComparison.Ordinal) || root.EndsWith("/ranking", StringComparison.Ordinal)) return new Uri(root, UriKind.Absolute);
        if (root.EndsWith("/v1", StringComparison.Ordinal)) root = root[..^3];
        var ranking = deployment.UpstreamModel.StartsWith("ranking/", StringComparison.Ordinal);
        return new Uri(ranking ? root + "/v1/ranking" : root + "/v1/retrieval/" + NimModel(deployment.UpstreamModel) + "/reranking", UriKind.Absolute);
    }
}
