namespace LLMux.Stages.Accounting;

/// <summary>One model's prices (USD per token) and limits, from the price table or a deployment's overrides.</summary>
public sealed record ModelPrice
{
    public decimal InputPerToken { get; init; }
    public decimal OutputPerToken { get; init; }
    public decimal? CacheReadPerToken { get; init; }
    public decimal? CacheCreationPerToken { get; init; }
    public decimal? ReasoningPerToken { get; init; }
    /// <summary><c>input_cost_per_token_batches</c> / <c>output_cost_per_token_batches</c>: the providers' Batch API prices.</summary>
    public decimal? InputPerTokenBatches { get; init; }
    public decimal? OutputPerTokenBatches { get; init; }
    /// <summary><c>input_cost_per_query</c>: rerank, per search unit.</summary>
    public decimal? InputPerQuery { get; init; }
    /// <summary>Image prices: per image in or out, per pixel, per image token (gpt-image).</summary>
    public decimal? InputPerImage { get; init; }
    public decimal? OutputPerImage { get; init; }
    public decimal? InputPerPixel { get; init; }
    public decimal? InputPerImageToken { get; init; }
    public decimal? OutputPerImageToken { get; init; }
    /// <summary><c>input_cost_per_audio_token</c> / <c>output_cost_per_audio_token</c>: audio tokens in and out (else the token prices).</summary>
    public decimal? InputPerAudioToken { get; init; }
    public decimal? OutputPerAudioToken { get; init; }
    /// <summary><c>input_cost_per_character</c>: text to speech.</summary>
    public decimal? InputPerCharacter { get; init; }
    /// <summary><c>input_cost_per_second</c> / <c>output_cost_per_second</c>: audio transcription by duration.</summary>
    public decimal? InputPerSecond { get; init; }
    public decimal? OutputPerSecond { get; init; }
    /// <summary>Prices that replace the base ones when the prompt is longer than <see cref="Tier.AboveTokens"/>.</summary>
    public IReadOnlyList<Tier> Tiers { get; init; } = [];
    public long? MaxInputTokens { get; init; }
    public long? MaxOutputTokens { get; init; }
    public string? Provider { get; init; }
    public string? Mode { get; init; }
    /// <summary>The table's true <c>supports_*</c> flags, without the prefix (<c>function_calling</c>, <c>vision</c>, <c>reasoning</c>...).</summary>
    public IReadOnlyList<string> Supports { get; init; } = [];

    /// <summary>True when the table says the model supports <paramref name="capability"/> (a <c>supports_*</c> name without the prefix).</summary>
    public bool Has(string capability)
    {
        foreach (var s in Supports) if (s == capability) return true;
        return false;
    }

    public sealed record Tier(long AboveTokens, decimal? InputPerToken, decimal? OutputPerToken, decimal? CacheReadPerToken, decimal? CacheCreationPerToken);
}
