using LLMux.Stages.Routing;

namespace LLMux.Stages;

/// <summary>Gateway-wide settings the stages read (from <c>litellm_settings</c> and <c>router_settings</c>).</summary>
public sealed record GatewaySettings
{
    /// <summary><c>litellm_settings.drop_params</c>: drop unsupported parameters instead of failing.</summary>
    public bool DropParams { get; init; }
    /// <summary>Timeout for one upstream call when the deployment sets none (<c>router_settings.timeout</c>, <c>litellm_settings.request_timeout</c>).</summary>
    public TimeSpan DefaultTimeout { get; init; } = TimeSpan.FromSeconds(600);
    /// <summary>Load balancing, retries, cooldowns and fallbacks.</summary>
    public RouterSettings Router { get; init; } = new();
    /// <summary>The response cache (<c>litellm_settings.cache</c>, <c>cache_params</c>); off unless configured.</summary>
    public Caching.CacheSettings Cache { get; init; } = new();
}
