using System.Collections.Frozen;
using System.Globalization;
using LLMux.Stages.Routing;
using Microsoft.Extensions.Configuration;

namespace LLMux.Stages.Hosting;

/// <summary>What <see cref="LiteLLMConfigReader"/> found: deployments still to resolve, settings, and every problem with its path.</summary>
public sealed record LiteLLMConfig
{
    public required IReadOnlyList<DeploymentDefinition> Deployments { get; init; }
    /// <summary>Where each of <see cref="Deployments"/> was written (<c>model_list[2]</c>), for error messages.</summary>
    public required IReadOnlyList<string> DeploymentPaths { get; init; }
    public required GatewaySettings Settings { get; init; }
    /// <summary>Resolves <c>os.environ/NAME</c>: the config's <c>environment_variables</c>, then the given environment.</summary>
    public required Func<string, string?> Environment { get; init; }
    /// <summary>The config's own <c>environment_variables</c>.</summary>
    public required IReadOnlyDictionary<string, string> EnvironmentVariables { get; init; }
    public required IReadOnlyList<string> Errors { get; init; }
    public required IReadOnlyList<string> Warnings { get; init; }

    /// <summary>Resolves the deployments against the provider catalog; problems go to <paramref name="errors"/> with their paths.</summary>
    public List<Pipeline.Context.Deployment> ResolveDeployments(Providers.ProviderCatalog catalog, List<string> errors, List<string> warnings)
    {
        var list = new List<Pipeline.Context.Deployment>(Deployments.Count);
        for (var i = 0; i < Deployments.Count; i++)
            if (DeploymentFactory.Create(catalog, Deployments[i], DeploymentPaths[i], Environment, errors, warnings, EnvironmentVariables) is { } d) list.Add(d);
        return list;
    }
}

/// <summary>
/// The one reader of LiteLLM's config shape, from any <see cref="IConfiguration"/> (appsettings.json, environment
/// variables, or the <c>llmux</c> host's config.yaml turned into configuration keys): <c>model_list</c>,
/// <c>litellm_settings</c>, <c>router_settings</c>, <c>environment_variables</c>, and the names of
/// <c>general_settings</c> (whose meaning belongs to the host). Every problem names its path
/// (<c>model_list[2].litellm_params.timeout</c>); unknown keys are warnings.
/// </summary>
public static class LiteLLMConfigReader
{
    /// <summary>A configuration key cannot hold ':' (it separates sections); the YAML source writes it as this and the reader turns it back.</summary>
    public const string EscapedColon = "%3A";

    private static readonly HashSet<string> TopKeys = ["model_list", "litellm_settings", "router_settings", "general_settings", "environment_variables", "guardrails", "credential_list"];
    private static readonly HashSet<string> EntryKeys = ["model_name", "litellm_params", "model_info", "rpm", "tpm"];
    private static readonly HashSet<string> LitellmSettingsKeys = ["drop_params", "request_timeout", "num_retries", "set_verbose", "json_logs", "modify_params", "fallbacks", "default_fallbacks", "context_window_fallbacks", "content_policy_fallbacks", "callbacks", "success_callback", "failure_callback", "cache", "cache_params", "turn_off_message_logging", "allowed_fails", "cooldown_time", "max_end_user_budget_id"];
    private static readonly HashSet<string> RouterSettingsKeys = ["routing_strategy", "num_retries", "retry_after", "allowed_fails", "allowed_fails_policy", "cooldown_time", "disable_cooldowns", "fallbacks", "default_fallbacks", "context_window_fallbacks", "content_policy_fallbacks", "max_fallbacks", "timeout", "stream_timeout", "enable_pre_call_checks", "routing_strategy_args", "redis_host", "redis_port", "redis_password", "model_group_alias", "retry_policy", "model_group_retry_policy", "prompt_cache_affinity", "optional_pre_call_checks"];
    private static readonly HashSet<string> GeneralSettingsKeys = ["master_key", "database_url", "database_path", "user_api_key_cache_ttl", "store_model_in_db", "alerting", "disable_spend_logs", "proxy_batch_write_at", "forward_client_headers_to_llm_api", "max_request_size_mb", "max_response_size_mb", "responses_store_max_items", "responses_store_max_mb", "responses_store_ttl_seconds", "storage_path", "max_file_size_mb", "batch_parallelism", "batch_concurrency", "batch_poll_interval_seconds", "batch_lease_seconds", "redis_namespace"];
    /// <summary>OpenAI request parameters that LiteLLM takes from litellm_params as per-deployment defaults.</summary>
    private static readonly HashSet<string> RequestDefaults = [.. Pipeline.Capabilities.OpenAIParamNames.Chat.Where(static n => n is not ("max_retries" or "stream" or "extra_headers")), "encoding_format", "dimensions"];
    private static readonly HashSet<string> TypedParams = ["model", "api_base", "api_key", "api_version", "timeout", "stream_timeout", "rpm", "tpm", "drop_params", "input_cost_per_token", "output_cost_per_token", "additional_drop_params", "allowed_openai_params"];

    /// <param name="root">The section that holds <c>model_list</c> and the settings.</param>
    /// <param name="environment">The process environment when null.</param>
    /// <param name="requireModelList">The host needs deployments from its config; a library host may add them in code.</param>
    /// <param name="baseSettings">Settings the config's values are applied over (defaults when null).</param>
    public static LiteLLMConfig Read(IConfiguration root, Func<string, string?>? environment = null, bool requireModelList = false, GatewaySettings? baseSettings = null)
    {
        var r = new Reader(environment ?? System.Environment.GetEnvironmentVariable, baseSettings ?? new GatewaySettings());
        return r.Read(root, requireModelList);
    }

    private sealed class Reader(Func<string, string?> processEnv, GatewaySettings baseSettings)
    {
        private readonly List<string> _paths = [];
        private readonly List<string> _errors = [];
        private readonly List<string> _warnings = [];
        private readonly Dictionary<string, string> _configEnv = new(StringComparer.Ordinal);

        private string? Env(string name) => _configEnv.TryGetValue(name, out var v) ? v : processEnv(name);

        public LiteLLMConfig Read(IConfiguration root, bool requireModelList)
        {
            foreach (var top in root.GetChildren())
            {
                if (LiteLLMKeyNotes.TopLevel.TryGetValue(top.Key, out var note)) _warnings.Add($"{Name(top.Key)}: {note}");
                else if (!TopKeys.Contains(top.Key)) _warnings.Add($"unknown top-level key `{Name(top.Key)}`: {LiteLLMKeyNotes.NotKnown}");
            }
            foreach (var e in root.GetSection("environment_variables").GetChildren()) _configEnv[Name(e.Key)] = e.Value ?? "";

            var settings = ReadSettings(root);
            var deployments = ReadModelList(root, requireModelList);
            return new LiteLLMConfig { Deployments = deployments, DeploymentPaths = _paths, Settings = settings, Environment = Env, EnvironmentVariables = _configEnv, Errors = _errors, Warnings = _warnings };
        }

        private GatewaySettings ReadSettings(IConfiguration root)
        {
            var settings = baseSettings;
            var router = baseSettings.Router;
            if (Mapping(root.GetSection("litellm_settings"), "litellm_settings") is { } ls)
            {
                WarnUnknown(ls, "litellm_settings", LitellmSettingsKeys, LiteLLMKeyNotes.LitellmSettings);
                if (Bool(ls, "drop_params", "litellm_settings") is { } drop) settings = settings with { DropParams = drop };
                if (Number(ls, "request_timeout", "litellm_settings") is { } rt) settings = settings with { DefaultTimeout = Seconds(rt, "litellm_settings.request_timeout") };
                router = ReadRouter(ls, "litellm_settings", router);
                settings = settings with { Cache = ReadCache(ls, settings.Cache) };
            }
            if (Mapping(root.GetSection("router_settings"), "router_settings") is { } rs)
            {
                WarnUnknown(rs, "router_settings", RouterSettingsKeys, LiteLLMKeyNotes.RouterSettings);
                if (Number(rs, "timeout", "router_settings") is { } t) settings = settings with { DefaultTimeout = Seconds(t, "router_settings.timeout") };
                router = ReadRouter(rs, "router_settings", router);
                // LLMux's own key (router_settings only): sticky routing by prompt prefix.
                if (Bool(rs, "prompt_cache_affinity", "router_settings") is { } pca) router = router with { PromptCacheAffinity = pca };
                // LiteLLM's switch for its prompt-caching deployment check; the other checks are not built.
                foreach (var check in Strings(rs, "optional_pre_call_checks", "router_settings"))
                {
                    if (check == "prompt_caching") router = router with { PromptCacheAffinity = true };
                    else _warnings.Add($"router_settings.optional_pre_call_checks: `{check}` is ignored (only `prompt_caching` is supported)");
                }
                if (Scalar(rs, "routing_strategy") is { } strategy)
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
                    if (kind is null) _errors.Add($"router_settings.routing_strategy: `{strategy}` is not one of simple-shuffle, least-busy, latency-based-routing, usage-based-routing, usage-based-routing-v2, cost-based-routing");
                    else router = router with { Strategy = kind.Value };
                }
                var aliases = rs.GetSection("model_group_alias");
                if (aliases.GetChildren().Any())
                {
                    var map = new Dictionary<string, string>(StringComparer.Ordinal);
                    foreach (var a in aliases.GetChildren())
                    {
                        // `alias: group` or `alias: {model: group, hidden: true}`.
                        var target = a.Value is { Length: > 0 } v ? v : Scalar(a, "model");
                        if (target is null) _errors.Add($"router_settings.model_group_alias.{Name(a.Key)}: must name a model group");
                        else map[Name(a.Key)] = target;
                    }
                    router = router with { ModelGroupAlias = map.ToFrozenDictionary(StringComparer.Ordinal) };
                }
            }
            if (Mapping(root.GetSection("general_settings"), "general_settings") is { } gs) WarnUnknown(gs, "general_settings", GeneralSettingsKeys, LiteLLMKeyNotes.GeneralSettings);
            return settings with { Router = router };
        }

        private static readonly HashSet<string> CacheParamKeys = ["type", "ttl", "namespace", "supported_call_types", "max_size_in_memory", "max_size_mb", "shared_model_groups", "host", "port", "password", "redis_url", "mode", "default_in_memory_ttl", "default_in_redis_ttl"];

        /// <summary><c>litellm_settings.cache: true</c> and <c>cache_params</c>; <c>type</c> defaults to local (LiteLLM's proxy defaults to redis; LLMux needs no server to start), and REDIS_URL / REDIS_HOST, REDIS_PORT, REDIS_PASSWORD give type redis its server.</summary>
        private Caching.CacheSettings ReadCache(IConfigurationSection ls, Caching.CacheSettings cache)
        {
            const string at = "litellm_settings.cache_params";
            var p = ls.GetSection("cache_params");
            if (Bool(ls, "cache", "litellm_settings") is not true)
            {
                if (p.Exists()) _warnings.Add($"{at}: ignored, litellm_settings.cache is not true");
                return cache;
            }
            var redisUrl = Env("REDIS_URL") is { Length: > 0 } u ? u : null;
            var redisHost = Env("REDIS_HOST") is { Length: > 0 } h ? h : null;
            cache = cache with
            {
                Enabled = true,
                RedisUrl = redisUrl,
                RedisHost = redisHost,
                RedisPort = int.TryParse(Env("REDIS_PORT"), NumberStyles.None, CultureInfo.InvariantCulture, out var envPort) ? envPort : null,
                RedisPassword = Env("REDIS_PASSWORD") is { Length: > 0 } pw ? pw : null,
            };
            if (!p.Exists()) return cache;
            WarnUnknown(p, at, CacheParamKeys, null);
            if (Scalar(p, "type") is { } type)
            {
                if (type is not ("local" or "redis")) _errors.Add($"{at}.type: `{type}` is not supported; use local or redis");
                else cache = cache with { Type = type };
            }
            if (Number(p, "ttl", at) is { } ttl)
            {
                if (ttl <= 0) _errors.Add($"{at}.ttl: must be a positive number of seconds");
                else cache = cache with { Ttl = TimeSpan.FromSeconds(ttl) };
            }
            if (Resolve(Scalar(p, "namespace"), $"{at}.namespace") is { Length: > 0 } ns) cache = cache with { Namespace = ns };
            if (p.GetSection("supported_call_types").Exists())
            {
                var modes = new HashSet<Pipeline.Capabilities.LlmMode>();
                foreach (var name in Strings(p, "supported_call_types", at))
                {
                    if (Caching.CacheSettings.ModeOf(name) is { } mode) modes.Add(mode);
                    else _errors.Add($"{at}.supported_call_types: `{name}` is not a call type (completion, acompletion, embedding, aembedding, text_completion, responses, aresponses, rerank, arerank, anthropic_messages, transcription)");
                }
                cache = cache with { Modes = modes };
            }
            if (Number(p, "max_size_in_memory", at) is { } entries)
            {
                if (entries < 0) _errors.Add($"{at}.max_size_in_memory: must be 0 or more entries");
                else cache = cache with { MaxEntries = (int)Math.Min(entries, int.MaxValue) };
            }
            if (Number(p, "max_size_mb", at) is { } mb)
            {
                if (mb < 0) _errors.Add($"{at}.max_size_mb: must be 0 or more MiB");
                else cache = cache with { MaxBytes = (long)(mb * 1024 * 1024) };
            }
            if (p.GetSection("shared_model_groups").Exists()) cache = cache with { SharedModelGroups = Strings(p, "shared_model_groups", at).ToHashSet(StringComparer.Ordinal) };
            // cache_params win over the environment: an explicit host replaces REDIS_URL unless redis_url is given too.
            if (Resolve(Scalar(p, "host"), $"{at}.host") is { Length: > 0 } host) cache = cache with { RedisHost = host, RedisUrl = null };
            if (Resolve(Scalar(p, "redis_url"), $"{at}.redis_url") is { Length: > 0 } url) cache = cache with { RedisUrl = url };
            if (Number(p, "port", at) is { } port) cache = cache with { RedisPort = (int)port };
            if (Resolve(Scalar(p, "password"), $"{at}.password") is { Length: > 0 } password) cache = cache with { RedisPassword = password };
            if (cache.Type == "redis" && cache.RedisUrl is null && cache.RedisHost is null)
            {
                // LiteLLM's Redis client falls back to localhost:6379 when nothing names a server; so does LLMux, and says so.
                _warnings.Add($"{at}.type: redis with no host in cache_params and no REDIS_URL / REDIS_HOST in the environment: using localhost:6379 (an unreachable Redis means no cache, not errors)");
                cache = cache with { RedisHost = "localhost", RedisPort = cache.RedisPort ?? 6379 };
            }
            return cache;
        }

        private RouterSettings ReadRouter(IConfigurationSection s, string path, RouterSettings router)
        {
            if (Number(s, "num_retries", path) is { } n)
            {
                if (n < 0) _errors.Add($"{path}.num_retries: must be 0 or more");
                else router = router with { NumRetries = (int)n };
            }
            if (Number(s, "retry_after", path) is { } ra) router = router with { MinRetryBackoff = TimeSpan.FromSeconds(Math.Max(0, ra)) };
            if (Number(s, "allowed_fails", path) is { } af) router = router with { AllowedFails = (int)af };
            if (Number(s, "cooldown_time", path) is { } ct) router = router with { CooldownTime = TimeSpan.FromSeconds(ct <= 0 ? 5 : ct) };
            if (Bool(s, "disable_cooldowns", path) is { } dc) router = router with { DisableCooldowns = dc };
            if (Number(s, "max_fallbacks", path) is { } mf) router = router with { MaxFallbacks = (int)mf };
            if (Fallbacks(s, "fallbacks", path) is { } fb) router = router with { Fallbacks = Merge(fb, router.Fallbacks) };
            if (Fallbacks(s, "context_window_fallbacks", path) is { } cw) router = router with { ContextWindowFallbacks = cw };
            if (Fallbacks(s, "content_policy_fallbacks", path) is { } cp) router = router with { ContentPolicyFallbacks = cp };
            var defaults = Strings(s, "default_fallbacks", path);
            if (defaults.Length > 0) router = router with { Fallbacks = Merge(new Dictionary<string, string[]> { ["*"] = defaults }.ToFrozenDictionary(), router.Fallbacks) };
            return router;
        }

        private static FrozenDictionary<string, string[]> Merge(FrozenDictionary<string, string[]> newer, FrozenDictionary<string, string[]> older)
        {
            var d = new Dictionary<string, string[]>(older, StringComparer.Ordinal);
            foreach (var (k, v) in newer) d[k] = v;
            return d.ToFrozenDictionary(StringComparer.Ordinal);
        }

        /// <summary>LiteLLM's shape: a list of one-key mappings, <c>[{"gpt-4": ["gpt-3.5"]}]</c>.</summary>
        private FrozenDictionary<string, string[]>? Fallbacks(IConfigurationSection node, string key, string path)
        {
            var s = node.GetSection(key);
            if (!s.Exists()) return null;
            if (!IsList(s)) { _errors.Add($"{path}.{key}: must be a list like [{{\"group\": [\"fallback-group\"]}}]"); return null; }
            var d = new Dictionary<string, string[]>(StringComparer.Ordinal);
            var i = 0;
            foreach (var item in s.GetChildren())
            {
                if (item.Value is not null) { _errors.Add($"{path}.{key}[{i}]: must be a mapping of a group to its fallback groups"); i++; continue; }
                foreach (var group in item.GetChildren())
                    d[Name(group.Key)] = group.Value is { Length: > 0 } one ? [one] : group.GetChildren().Select(static c => c.Value ?? "").Where(static v => v.Length > 0).ToArray();
                i++;
            }
            return d.ToFrozenDictionary(StringComparer.Ordinal);
        }

        private List<DeploymentDefinition> ReadModelList(IConfiguration root, bool required)
        {
            var list = new List<DeploymentDefinition>();
            var node = root.GetSection("model_list");
            if (!node.Exists())
            {
                if (required) _errors.Add("model_list: is required: a list of {model_name, litellm_params: {model, ...}}");
                return list;
            }
            if (!IsList(node)) { _errors.Add("model_list: must be a list"); return list; }
            var i = 0;
            foreach (var entry in node.GetChildren())
            {
                var at = $"model_list[{i++}]";
                if (entry.Value is { Length: > 0 }) { _errors.Add($"{at}: must be a mapping with model_name and litellm_params"); continue; }
                WarnUnknown(entry, at, EntryKeys, null);
                var lp = entry.GetSection("litellm_params");
                var p = $"{at}.litellm_params";
                if (!lp.Exists())
                {
                    // LiteLLM's proxy stops here too (KeyError: 'litellm_params'); say what to write instead.
                    var name = Scalar(entry, "model_name");
                    var example = name is null ? "openai/gpt-4o-mini" : ProviderModelName.TryParse(name, out var inferred, out var id) && inferred.Length > 0 && name.IndexOf('/') < 0 ? inferred + "/" + id : name;
                    _errors.Add($"{at}: has no litellm_params (LiteLLM stops on this too); add `litellm_params: {{model: {example}}}` naming the provider and model this entry calls");
                    continue;
                }
                var extra = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var param in lp.GetChildren())
                {
                    if (TypedParams.Contains(param.Key)) continue;
                    if (LiteLLMKeyNotes.LitellmParams.TryGetValue(param.Key, out var note)) _warnings.Add($"{p}.{Name(param.Key)}: {note}");
                    else if (RequestDefaults.Contains(param.Key)) _warnings.Add($"{p}.{Name(param.Key)}: {LiteLLMKeyNotes.RequestDefault(Name(param.Key))}");
                    if (param.Value is { Length: > 0 } v) extra[Name(param.Key)] = v;
                }
                foreach (var name in (string[])["max_retries", "weight", "order"])
                    if (extra.TryGetValue(name, out var raw) && !double.TryParse(Resolve(raw, $"{p}.{name}"), NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                        _errors.Add($"{p}.{name}: `{raw}` is not a number");
                var timeout = Number(lp, "timeout", p);
                var streamTimeout = Number(lp, "stream_timeout", p);
                _paths.Add(at);
                list.Add(new DeploymentDefinition
                {
                    ModelName = Scalar(entry, "model_name") ?? "",
                    Model = Scalar(lp, "model") ?? "",
                    ApiBase = Scalar(lp, "api_base"),
                    ApiKey = Scalar(lp, "api_key"),
                    ApiVersion = Scalar(lp, "api_version"),
                    Timeout = timeout is { } t ? Seconds(t, $"{p}.timeout") : null,
                    StreamTimeout = streamTimeout is { } st ? Seconds(st, $"{p}.stream_timeout") : null,
                    // LiteLLM's router also reads rpm/tpm written beside litellm_params.
                    Rpm = (int?)(Number(lp, "rpm", p) ?? Number(entry, "rpm", at)),
                    Tpm = (int?)(Number(lp, "tpm", p) ?? Number(entry, "tpm", at)),
                    DropParams = Bool(lp, "drop_params", p),
                    InputCostPerToken = Decimal(lp, "input_cost_per_token", p),
                    OutputCostPerToken = Decimal(lp, "output_cost_per_token", p),
                    AdditionalDropParams = Strings(lp, "additional_drop_params", p),
                    AllowedOpenAIParams = Strings(lp, "allowed_openai_params", p),
                    Id = Scalar(entry.GetSection("model_info"), "id"),
                    Params = extra,
                });
            }
            return list;
        }

        private TimeSpan Seconds(double value, string path)
        {
            if (value <= 0) { _errors.Add($"{path}: must be a positive number of seconds"); return TimeSpan.FromSeconds(600); }
            return TimeSpan.FromSeconds(value);
        }

        /// <summary>The section as a mapping, or null (with an error when it is a scalar).</summary>
        private IConfigurationSection? Mapping(IConfigurationSection s, string path)
        {
            if (!s.Exists()) return null;
            if (s.Value is { Length: > 0 }) { _errors.Add($"{path}: must be a mapping"); return null; }
            return s;
        }

        private static bool IsList(IConfigurationSection s)
        {
            if (s.Value is { Length: > 0 }) return false;
            var i = 0;
            foreach (var c in s.GetChildren())
                if (c.Key != (i++).ToString(CultureInfo.InvariantCulture)) return false;
            return true;
        }

        /// <summary>A LiteLLM key LLMux does not act on is a warning saying what LLMux does instead; a key nobody knows, a warning that it is ignored.</summary>
        private void WarnUnknown(IConfigurationSection node, string path, HashSet<string> known, IReadOnlyDictionary<string, string>? notes)
        {
            foreach (var c in node.GetChildren())
            {
                if (notes is not null && notes.TryGetValue(c.Key, out var note)) _warnings.Add($"{path}.{Name(c.Key)}: {note}");
                else if (!known.Contains(c.Key)) _warnings.Add($"{path}.{Name(c.Key)}: {LiteLLMKeyNotes.NotKnown}");
            }
        }

        /// <summary>Resolves <c>os.environ/NAME</c> from environment_variables, then the environment; an unset name is a warning.</summary>
        private string? Resolve(string? value, string path)
        {
            if (value is null || !value.StartsWith("os.environ/", StringComparison.Ordinal)) return value;
            var name = value["os.environ/".Length..];
            var resolved = Env(name);
            if (resolved is null) _warnings.Add($"{path}: environment variable `{name}` is not set; the value is left empty");
            return resolved;
        }

        private static string? Scalar(IConfiguration s, string key) => s[key] is { Length: > 0 } v ? v : null;

        private double? Number(IConfiguration s, string key, string path)
        {
            var v = Resolve(Scalar(s, key), $"{path}.{key}");
            if (string.IsNullOrEmpty(v)) return null;
            if (double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return d;
            _errors.Add($"{path}.{key}: `{v}` is not a number");
            return null;
        }

        private decimal? Decimal(IConfiguration s, string key, string path)
        {
            var v = Resolve(Scalar(s, key), $"{path}.{key}");
            if (string.IsNullOrEmpty(v)) return null;
            if (decimal.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return d;
            _errors.Add($"{path}.{key}: `{v}` is not a number");
            return null;
        }

        private bool? Bool(IConfiguration s, string key, string path)
        {
            var v = Scalar(s, key);
            if (v is null) return null;
            if (bool.TryParse(v, out var b)) return b;
            _errors.Add($"{path}.{key}: `{v}` is not true or false");
            return null;
        }

        private string[] Strings(IConfigurationSection node, string key, string path)
        {
            var s = node.GetSection(key);
            if (!s.Exists() || s.Value is "") return [];
            if (!IsList(s)) { _errors.Add($"{path}.{key}: must be a list of parameter names"); return []; }
            return s.GetChildren().Select(static c => c.Value ?? "").Where(static v => v.Length > 0).ToArray();
        }
    }

    private static string Name(string key) => key.Replace(EscapedColon, ":", StringComparison.Ordinal);
}
