using System.Collections.Frozen;
using LLMux.Pipeline.Capabilities;

namespace LLMux.Providers.Voyage;

/// <summary>Voyage AI embeddings (<c>POST https://api.voyageai.com/v1/embeddings</c>): OpenAI's request with Voyage's names.</summary>
internal static class VoyageSpec
{
    public const string Name = "voyage";
    public const string DefaultApiBase = "https://api.voyageai.com/v1";

    /// <summary>Embeddings (this folder) and rerank (the modes' Voyage dialect) on one spec.</summary>
    public static ProviderSpec Spec { get; } = Modes.ModeSupport.Apply(new()
    {
        Name = Name,
        DisplayName = "Voyage AI",
        DefaultApiBase = DefaultApiBase,
        ApiBaseEnv = "VOYAGE_API_BASE",
        ApiKeyEnv = "VOYAGE_API_KEY",
        Auth = AuthScheme.Bearer,
        StreamFormat = StreamFormat.Sse,
        Modes = new[] { LlmMode.Embeddings }.ToFrozenSet(),
        EmbeddingParams = ProviderSpec.Table(
            new ParamRule("encoding_format", ParamSupportKind.Native, null, "float, or base64 (Voyage encodes it)"),
            ParamRule.Mapped("dimensions", "output_dimension", "voyage-3.5 / voyage-3-large / voyage-code-3: 256, 512, 1024 or 2048"),
            new ParamRule("input_type", ParamSupportKind.Native, null, "query or document (Voyage prepends its retrieval prompt)"),
            ParamRule.Native("truncation"),
            ParamRule.Native("output_dtype"),
            ParamRule.Dropped("user", "Voyage has no end-user field")),
        ForwardsUnknownFields = true,
        Notes =
        [
            "`voyage/<model>`: `POST {api_base}/embeddings` with `Authorization: Bearer` (api_key, else VOYAGE_API_KEY)",
            "Voyage reports usage as `total_tokens` only; LLMux answers OpenAI's usage with prompt_tokens = total_tokens (LiteLLM's reading) and prices it by input tokens",
            "rerank: `top_n` is sent as `top_k`; results are read from `data`; object documents are sent as their `text`",
        ],
    });
}
