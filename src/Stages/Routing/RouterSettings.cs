using System.Collections.Frozen;

namespace LLMux.Stages.Routing;

/// <summary>LiteLLM's <c>router_settings</c> (and the router keys of <c>litellm_settings</c>), validated.</summary>
public sealed record RouterSettings
{
    public RoutingStrategyKind Strategy { get; init; } = RoutingStrategyKind.SimpleShuffle;
    /// <summary>Retries within a model group after the first attempt; 0 is no retry.</summary>
    public int NumRetries { get; init; } = 2;
    /// <summary>Minimum backoff between retries on the same deployment (<c>retry_after</c>).</summary>
    public TimeSpan MinRetryBackoff { get; init; }
    /// <summary>Failures per minute a deployment may have before it cools down; null uses LiteLLM's default policy.</summary>
    public int? AllowedFails { get; init; }
    public TimeSpan CooldownTime { get; init; } = TimeSpan.FromSeconds(5);
    public bool DisableCooldowns { get; init; }
    public FrozenDictionary<string, string[]> Fallbacks { get; init; } = FrozenDictionary<string, string[]>.Empty;
    public FrozenDictionary<string, string[]> ContextWindowFallbacks { get; init; } = FrozenDictionary<string, string[]>.Empty;
    public FrozenDictionary<string, string[]> ContentPolicyFallbacks { get; init; } = FrozenDictionary<string, string[]>.Empty;
    public int MaxFallbacks { get; init; } = 5;
    /// <summary><c>model_group_alias</c>: a public name served by another group.</summary>
    public FrozenDictionary<string, string> ModelGroupAlias { get; init; } = FrozenDictionary<string, string>.Empty;
    /// <summary><c>prompt_cache_affinity</c>: a repeated prompt prefix goes to the same deployment of its group (provider prompt caches are per deployment).</summary>
    public bool PromptCacheAffinity { get; init; }
}

/// <summary>LiteLLM's routing strategies.</summary>
public enum RoutingStrategyKind
{
    SimpleShuffle,
    LeastBusy,
    LatencyBased,
    UsageBased,
    CostBased,
}
