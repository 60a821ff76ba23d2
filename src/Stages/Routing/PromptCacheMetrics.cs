using System.Diagnostics;
using System.Diagnostics.Metrics;
using LLMux.Pipeline.Wire;
using LLMux.Stages.Telemetry;

namespace LLMux.Stages.Routing;

/// <summary>
/// Provider prompt caching on the <c>LLMux</c> meter, per model group and deployment: the hit rate is
/// <c>llmux.prompt_cache.cached_tokens / llmux.prompt_cache.prompt_tokens</c> (token-weighted), and
/// <c>llmux.prompt_cache.hit_ratio</c> is the same per request.
/// </summary>
internal static class PromptCacheMetrics
{
    public const string ModelGroup = "llmux.model_group";
    public const string DeploymentId = "llmux.deployment";

    public static readonly Counter<long> PromptTokens = LLMuxTelemetry.Meter.CreateCounter<long>("llmux.prompt_cache.prompt_tokens", "{token}", "Prompt tokens of answered upstream calls (cached ones included).");

    public static readonly Counter<long> CachedTokens = LLMuxTelemetry.Meter.CreateCounter<long>("llmux.prompt_cache.cached_tokens", "{token}", "Prompt tokens the provider read from its prompt cache.");

    public static readonly Counter<long> CacheWriteTokens = LLMuxTelemetry.Meter.CreateCounter<long>("llmux.prompt_cache.write_tokens", "{token}", "Prompt tokens the provider wrote to its prompt cache (Anthropic, Bedrock).");

    public static readonly Histogram<double> HitRatio = LLMuxTelemetry.Meter.CreateHistogram<double>("llmux.prompt_cache.hit_ratio", "1", "Cached prompt tokens over prompt tokens, per answered upstream call.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1] });

    /// <summary><c>llmux.router.prompt_affinity</c> by <c>llmux.affinity.result</c>: <c>owner</c> (the prefix's deployment took it) or <c>fallback</c> (cooling down, failed or full).</summary>
    public static readonly Counter<long> Affinity = LLMuxTelemetry.Meter.CreateCounter<long>("llmux.router.prompt_affinity", "{request}", "Requests routed by prompt-prefix affinity, by whether the prefix's deployment took them.");

    public static void Record(Usage usage, string? group, string deployment)
    {
        if (usage.PromptTokens <= 0) return;
        var tags = new TagList { { ModelGroup, group }, { DeploymentId, deployment } };
        PromptTokens.Add(usage.PromptTokens, tags);
        var cached = Math.Min(usage.CachedTokens, usage.PromptTokens);
        if (cached > 0) CachedTokens.Add(cached, tags);
        if (usage.CacheCreationTokens > 0) CacheWriteTokens.Add(usage.CacheCreationTokens, tags);
        HitRatio.Record((double)cached / usage.PromptTokens, tags);
    }

    public static void Routed(string group, bool owner) =>
        Affinity.Add(1, new KeyValuePair<string, object?>(ModelGroup, group), new KeyValuePair<string, object?>("llmux.affinity.result", owner ? "owner" : "fallback"));
}
