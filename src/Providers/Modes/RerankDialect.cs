namespace LLMux.Providers.Modes;

/// <summary>How one provider's rerank API differs from Cohere's: where it lives and what its fields are called.</summary>
public sealed record RerankDialect
{
    /// <summary>Path joined to api_base.</summary>
    public string Path { get; init; } = "rerank";
    /// <summary>The upstream name of <c>top_n</c> (Voyage: <c>top_k</c>).</summary>
    public string TopN { get; init; } = "top_n";
    /// <summary>The results array of the answer (Voyage: <c>data</c>).</summary>
    public string Results { get; init; } = "results";
    /// <summary>The upstream takes only string documents (objects are sent as their <c>text</c>, else their JSON).</summary>
    public bool StringDocuments { get; init; }
    public bool RankFields { get; init; }
    public bool MaxTokensPerDoc { get; init; }
    /// <summary>The upstream takes <c>return_documents</c> (Cohere v2 does not; LLMux attaches the documents itself either way).</summary>
    public bool ReturnDocuments { get; init; } = true;

    /// <summary>Cohere v2 (<c>/v2/rerank</c>, string documents, rank_fields and max_tokens_per_doc).</summary>
    public static RerankDialect Cohere { get; } = new() { Path = "v2/rerank", StringDocuments = true, ReturnDocuments = false, RankFields = true, MaxTokensPerDoc = true };
    /// <summary>Cohere's shape at <c>{api_base}/rerank</c>: vLLM, Infinity, Together (rank_fields).</summary>
    public static RerankDialect CohereLike { get; } = new();
    public static RerankDialect Together { get; } = new() { RankFields = true };
    public static RerankDialect Jina { get; } = new();
    public static RerankDialect Voyage { get; } = new() { TopN = "top_k", Results = "data", StringDocuments = true };
}
