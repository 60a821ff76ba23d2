using System.Collections.Frozen;
using System.Globalization;
using LLMux.Stages.Routing;
using Microsoft.Extensions.Configuration;

namespace LLMux.Stages.Hosting;

/// <summary>
/// Reads LiteLLM's config shape from an <see cref="IConfiguration"/> section (appsettings.json, environment,
/// any provider): <c>model_list</c>, <c>litellm_settings</c>, <c>router_settings</c>. The host's YAML loader reads the
/// same keys from a file (src/Host/Config/ConfigLoader.cs); the rules are kept alike by the tests of both.
/// </summary>
internal static class LLMuxConfigurationReader
{
    private static readonly HashSet<string> TypedParams = ["model", "api_base", "api_key", "api_version", "timeout", "stream_timeout", "rpm", "tpm", "drop_params", "input_cost_per_token", "output_cost_per_token"];

    public static void Read(IConfiguration section, LLMuxOptions options)
    {
        var errors = options.ConfigurationErrors;
        var i = 0;
        foreach (var entry in section.GetSection("model_list").GetChildren())
        {
            var at = $"model_list[{i++}]";
            var lp = entry.GetSection("litellm_params");
            var extra = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in lp.GetChildren())
            {
                if (!TypedParams.Contains(p.Key) && p.Value is not null) extra[p.Key] = p.Value;
            }
            options.Deployments.Add(new DeploymentDefinition
            {
                ModelName = entry["model_name"] ?? "",
                Model = lp["model"] ?? "",
                ApiBase = lp["api_base"],
                ApiKey = lp["api_key"],
                ApiVersion = lp["api_version"],
                Timeout = Seconds(lp, "timeout", at, errors),
                StreamTimeout = Seconds(lp, "stream_timeout", at, errors),
                Rpm = (int?)Number(lp, "rpm", $"{at}.litellm_params", errors),
                Tpm = (int?)Number(lp, "tpm", $"{at}.litellm_params", errors),
                DropParams = Bool(lp, "drop_params", $"{at}.litellm_params", errors),
                InputCostPerToken = (decimal?)Number(lp, "input_cost_per_token", $"{at}.litellm_params", errors),
                OutputCostPerToken = (decimal?)Number(lp, "output_cost_per_token", $"{at}.litellm_params", errors),
                Id = entry["model_info:id"],
                Params = extra,
            });
        }

        var settings = options.Settings;
        var ls = section.GetSection("litellm_settings");
        if (Bool(ls, "drop_params", "litellm_settings", errors) is { } drop) settings = settings with { DropParams = drop };
        if (Number(ls, "request_timeout", "litellm_settings", errors) is { } rt && rt > 0) settings = settings with { DefaultTimeout = TimeSpan.FromSeconds(rt) };
        var router = ReadRouter(ls, "litellm_settings", settings.Router, errors);
        var rs = section.GetSection("router_settings");
        if (Number(rs, "timeout", "router_settings", errors) is { } t)
        {
            if (t <= 0) errors.Add("router_settings.timeout: must be a positive number of seconds");
            else settings = settings with { DefaultTimeout = TimeSpan.FromSeconds(t) };
        }
        router = ReadRouter(rs, "router_settings", router, errors);
        if (rs["routing_strategy"] is { } strategy)
        {
            RoutingStrategyKind? kind = strategy switch
            {
                "simple-shuffle" => RoutingStrategyKind.SimpleShuffle,
                "least-busy" => RoutingStrategyKind.LeastBusy,
                "latency-based-routing" => RoutingStrategyKind.LatencyBased,
                "usage-based-routing" or "usage-based-routing-v2" => RoutingStrategyKind.UsageBased,
                "cost-based-routing" => RoutingStrategyKind.CostBased,
                _ => null,
            };
            if (kind is null) errors.Add($"router_settings.routing_strategy: `{strategy}` is not one of simple-shuffle, least-busy, latency-based-routing, usage-based-routing, usage-based-routing-v2, cost-based-routing");
            else router = router with { Strategy = kind.Value };
        }
        var aliases = rs.GetSection("model_group_alias").GetChildren().Where(static c => c.Value is not null).ToArray();
        if (aliases.Length > 0) router = router with { ModelGroupAlias = aliases.ToFrozenDictionary(static c => c.Key, static c => c.Value!, StringComparer.Ordinal) };
        options.Settings = settings with { Router = router };
    }

    private static RouterSettings ReadRouter(IConfigurationSection s, string path, RouterSettings router, List<string> errors)
    {
        if (Number(s, "num_retries", path, errors) is { } n)
        {
            if (n < 0) errors.Add($"{path}.num_retries: must be 0 or more");
            else router = router with { NumRetries = (int)n };
        }
        if (Number(s, "retry_after", path, errors) is { } ra) router = router with { MinRetryBackoff = TimeSpan.FromSeconds(Math.Max(0, ra)) };
        if (Number(s, "allowed_fails", path, errors) is { } af) router = router with { AllowedFails = (int)af };
        if (Number(s, "cooldown_time", path, errors) is { } ct) router = router with { CooldownTime = TimeSpan.FromSeconds(ct <= 0 ? 5 : ct) };
        if (Bool(s, "disable_cooldowns", path, errors) is { } dc) router = router with { DisableCooldowns = dc };
        if (Number(s, "max_fallbacks", path, errors) is { } mf) router = router with { MaxFallbacks = (int)mf };
        if (Fallbacks(s.GetSection("fallbacks")) is { } fb) router = router with { Fallbacks = fb };
        if (Fallbacks(s.GetSection("context_window_fallbacks")) is { } cw) router = router with { ContextWindowFallbacks = cw };
        if (Fallbacks(s.GetSection("content_policy_fallbacks")) is { } cp) router = router with { ContentPolicyFallbacks = cp };
        return router;
    }

    /// <summary>LiteLLM's shape: a list of one-key mappings, <c>[{"gpt-4": ["gpt-3.5"]}]</c>.</summary>
    private static FrozenDictionary<string, string[]>? Fallbacks(IConfigurationSection s)
    {
        var d = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var item in s.GetChildren())
        {
            foreach (var group in item.GetChildren())
            {
                d[group.Key] = group.Value is { Length: > 0 } one ? [one] : group.GetChildren().Select(static c => c.Value ?? "").Where(static v => v.Length > 0).ToArray();
            }
        }
        return d.Count == 0 ? null : d.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static TimeSpan? Seconds(IConfigurationSection lp, string key, string at, List<string> errors)
    {
        var n = Number(lp, key, $"{at}.litellm_params", errors);
        if (n is null) return null;
        if (n <= 0) { errors.Add($"{at}.litellm_params.{key}: must be a positive number of seconds"); return null; }
        return TimeSpan.FromSeconds(n.Value);
    }

    private static double? Number(IConfigurationSection s, string key, string path, List<string> errors)
    {
        var v = s[key];
        if (string.IsNullOrEmpty(v)) return null;
        if (double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return d;
        errors.Add($"{path}.{key}: `{v}` is not a number");
        return null;
    }

    private static bool? Bool(IConfigurationSection s, string key, string path, List<string> errors)
    {
        var v = s[key];
        if (string.IsNullOrEmpty(v)) return null;
        if (bool.TryParse(v, out var b)) return b;
        errors.Add($"{path}.{key}: `{v}` is not true or false");
        return null;
    }
}
