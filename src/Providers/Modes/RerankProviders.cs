using System.Collections.Frozen;
using LLMux.Pipeline.Capabilities;
using LLMux.Providers.OpenAI;

namespace LLMux.Providers.Modes;

/// <summary>A provider LLMux reaches only for rerank (Jina, Infinity): Bearer auth, Cohere-like JSON.</summary>
public sealed class RerankOnlyProvider(ProviderSpec spec, RerankDialect dialect) : OpenAIProvider(spec)
{
    protected override RerankDialect RerankDialect => dialect;

    /// <summary>The rerank-only providers, as LiteLLM names them.</summary>
    public static IEnumerable<RerankOnlyProvider> All()
    {
        yield return new(RerankSpec("jina_ai", "Jina AI (rerank)", "https://api.jina.ai/v1", "JINA_AI_API_KEY", "JINA_AI_API_BASE"), RerankDialect.Jina);
        // Voyage is one provider for embeddings and rerank (Voyage.VoyageProvider), not a rerank-only row.
        yield return new(RerankSpec("infinity", "Infinity (self-hosted rerank)", null, "INFINITY_API_KEY", "INFINITY_API_BASE",
            "api_base is the server root with its version path; LLMux calls `{api_base}/rerank`"), RerankDialect.CohereLike);
    }

    private static ProviderSpec RerankSpec(string name, string display, string? apiBase, string keyEnv, string baseEnv, params string[] notes) =>
        ModeSupport.Apply(OpenAISpec.Create(name, display, apiBase, keyEnv) with
        {
            Modes = FrozenSet<LlmMode>.Empty,
            ChatParams = FrozenDictionary<string, ParamRule>.Empty,
            EmbeddingParams = FrozenDictionary<string, ParamRule>.Empty,
            ApiBaseEnv = baseEnv,
            ForwardsUnknownFields = false,
            Notes = ["rerank only: `POST {api_base}/rerank`, Cohere's request shape", .. notes],
        });
}
