using System.Diagnostics.Metrics;
using LLMux.Stages.Telemetry;

namespace LLMux.Stages.Caching;

/// <summary>The response cache's instruments on the <c>LLMux</c> meter.</summary>
internal static class CacheMetrics
{
    /// <summary><c>llmux.cache.requests</c> by <c>llmux.cache.result</c>: hit, miss, bypass (and <c>error</c> when the store failed).</summary>
    public static readonly Counter<long> Requests = LLMuxTelemetry.Meter.CreateCounter<long>("llmux.cache.requests", "{request}", "Requests the response cache answered, missed or was told to skip.");

    /// <summary><c>llmux.cache.saved_cost</c>: what the answers served from the cache cost when they were made (USD).</summary>
    public static readonly Counter<double> SavedCost = LLMuxTelemetry.Meter.CreateCounter<double>("llmux.cache.saved_cost", "USD", "Cost of the upstream calls the response cache saved.");

    /// <summary>The model group the request named (the cache runs before routing), on every cache instrument.</summary>
    public const string ModelGroup = "llmux.model_group";

    public static void Count(string result, string? modelGroup) =>
        Requests.Add(1, new KeyValuePair<string, object?>("llmux.cache.result", result), new KeyValuePair<string, object?>(ModelGroup, modelGroup));

    public static void Saved(decimal cost, string? modelGroup) => SavedCost.Add((double)cost, new KeyValuePair<string, object?>(ModelGroup, modelGroup));
}
