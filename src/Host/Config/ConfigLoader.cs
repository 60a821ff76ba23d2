using System.Collections.Frozen;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using LLMux.Pipeline.Context;
using LLMux.Providers;
using LLMux.Stages;
using LLMux.Stages.Hosting;
using LLMux.Stages.Routing;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace LLMux.Host.Config;

/// <summary>
/// Reads LiteLLM's config.yaml (model_list, litellm_settings, router_settings, general_settings,
/// environment_variables) into a <see cref="GatewayConfig"/>. Every problem names its path
/// (<c>model_list[2].litellm_params.model</c>); unknown keys are warnings, not failures.
/// </summary>
public sealed class ConfigLoader(ProviderCatalog catalog, Func<string, string?>? environment = null)
{
    private readonly Func<string, string?> _env = environment ?? Environment.GetEnvironmentVariable;
    private readonly List<string> _errors = [];
    private readonly List<string> _warnings = [];
    private readonly Dictionary<string, string> _configEnv = new(StringComparer.Ordinal);

    private static readonly HashSet<string> TopKeys = ["model_list", "litellm_settings", "router_settings", "general_settings", "environment_variables", "guardrails", "credential_list"];
    private static readonly HashSet<string> EntryKeys = ["model_name", "litellm_params", "model_info"];
    private static readonly HashSet<string> LitellmSettingsKeys = ["drop_params", "request_timeout", "num_retries", "set_verbose", "json_logs", "modify_params", "fallbacks", "default_fallbacks", "context_window_fallbacks", "content_policy_fallbacks", "callbacks", "success_callback", "failure_callback", "cache", "cache_params", "turn_off_message_logging", "allowed_fails", "cooldown_time"];
    private static readonly HashSet<string> RouterSettingsKeys = ["routing_strategy", "num_retries", "retry_after", "allowed_fails", "allowed_fails_policy", "cooldown_time", "disable_cooldowns", "fallbacks", "default_fallbacks", "context_window_fallbacks", "content_policy_fallbacks", "max_fallbacks", "timeout", "stream_timeout", "enable_pre_call_checks", "routing_strategy_args", "redis_host", "redis_port", "redis_password", "model_group_alias", "retry_policy", "model_group_retry_policy"];
    private static readonly HashSet<string> GeneralSettingsKeys = ["master_key", "database_url", "store_model_in_db", "alerting", "disable_spend_logs", "proxy_batch_write_at", "forward_client_headers_to_llm_api", "max_request_size_mb", "max_response_size_mb", "database_path", "user_api_key_cache_ttl", "responses_store_max_items", "responses_store_max_mb", "responses_store_ttl_seconds"];

    public static GatewayConfig BuiltIn(ProviderCatalog catalog) =>
        new ConfigLoader(catalog).Load(new StringReader(BuiltInYaml), "built-in mock config");

    public const string BuiltInYaml = """
        model_list:
          - model_name: mock-gpt
            litellm_params:
              model: mock/mock-gpt
          - model_name: mock-embed
            litellm_params:
              model: mock/mock-embed
          - model_name: mock/*
            litellm_params:
              model: mock/*
        """;

    public GatewayConfig LoadFile(string path)
    {
        if (!File.Exists(path)) throw new ConfigException([$"config file `{path}` does not exist"]);
        using var reader = File.OpenText(path);
        return Load(reader, path);
    }

    public GatewayConfig Load(TextReader text, string source)
    {
        var yaml = new YamlStream();
        try
        {
            yaml.Load(text);
        }
        catch (YamlException ex)
        {
            throw new ConfigException([$"{source}: not valid YAML at line {ex.Start.Line}, column {ex.Start.Column}: {ex.InnerException?.Message ?? ex.Message}"]);
        }
        if (yaml.Documents.Count == 0 || yaml.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new ConfigException([$"{source}: the config must be a YAML mapping with a `model_list`"]);
        }

        foreach (var (key, _) in root.Children)
        {
            var k = Key(key);
            if (!TopKeys.Contains(k)) _warnings.Add($"unknown top-level key `{k}` is ignored");
        }

        if (Child(root, "environment_variables") is YamlMappingNode envs)
        {
            foreach (var (k, v) in envs.Children) _configEnv[Key(k)] = Scalar(v) ?? "";
        }

        var settings = ReadSettings(root, out var masterKey, out var maxBytes);
        var (databasePath, cacheTtl) = ReadGovernance(root, source);
        var deployments = ReadModelList(root);
        if (_errors.Count > 0) throw new ConfigException(_errors);
        return new GatewayConfig
        {
            DatabasePath = databasePath,
            KeyCacheTtl = cacheTtl,
            Deployments = deployments,
            Settings = settings,
            MasterKey = masterKey,
            MaxRequestBytes = maxBytes,
            ResponseStore = _responseStore,
            Warnings = _warnings.ToArray(),
            Source = source,
        };
    }

    private GatewaySettings ReadSettings(YamlMappingNode root, out Secret? masterKey, out long maxBytes)
    {
        var settings = new GatewaySettings();
        masterKey = null;
        maxBytes = 64L * 1024 * 1024;
        if (Child(root, "litellm_settings") is { } ls)
        {
            if (ls is not YamlMappingNode lsm) { _errors.Add("litellm_settings: must be a mapping"); }
            else
            {
                WarnUnknown(lsm, "litellm_settings", LitellmSettingsKeys);
                if (Bool(lsm, "drop_params", "litellm_settings.drop_params") is { } drop) settings = settings with { DropParams = drop };
                if (Number(lsm, "request_timeout", "litellm_settings.request_timeout") is { } rt) settings = settings with { DefaultTimeout = Seconds(rt, "litellm_settings.request_timeout") };
            }
        }
        var router = new RouterSettings();
        if (Child(root, "litellm_settings") is YamlMappingNode lrm) router = ReadRouter(lrm, "litellm_settings", router);
        if (Child(root, "router_settings") is { } rs)
        {
            if (rs is not YamlMappingNode rsm) { _errors.Add("router_settings: must be a mapping"); }
            else
            {
                WarnUnknown(rsm, "router_settings", RouterSettingsKeys);
                if (Number(rsm, "timeout", "router_settings.timeout") is { } t) settings = settings with { DefaultTimeout = Seconds(t, "router_settings.timeout") };
                router = ReadRouter(rsm, "router_settings", router);
                if (Scalar(Child(rsm, "routing_strategy")) is { } strategy)
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
                if (Child(rsm, "model_group_alias") is YamlMappingNode aliases)
                {
                    var map = new Dictionary<string, string>(StringComparer.Ordinal);
                    foreach (var (k, v) in aliases.Children)
                    {
                        var target = v is YamlMappingNode vm ? Scalar(Child(vm, "model")) : Scalar(v);
                        if (target is null) _errors.Add($"router_settings.model_group_alias.{Key(k)}: must name a model group");
                        else map[Key(k)] = target;
                    }
                    router = router with { ModelGroupAlias = map.ToFrozenDictionary(StringComparer.Ordinal) };
                }
            }
        }
        settings = settings with { Router = router };
        if (Child(root, "general_settings") is { } gs)
        {
            if (gs is not YamlMappingNode gsm) { _errors.Add("general_settings: must be a mapping"); }
            else
            {
                WarnUnknown(gsm, "general_settings", GeneralSettingsKeys);
                if (Child(gsm, "master_key") is { } mk) masterKey = Secret.From(Resolve(Scalar(mk), "general_settings.master_key"));
                if (Number(gsm, "max_request_size_mb", "general_settings.max_request_size_mb") is { } mb)
                {
                    if (mb <= 0) _errors.Add("general_settings.max_request_size_mb: must be a positive number of MiB");
                    else maxBytes = (long)(mb * 1024 * 1024);
                }
                ReadResponseStore(gsm);
            }
        }
        return settings;
    }

    /// <summary>Where governance keeps its data: <c>database_path</c>, else <c>llmux.db</c> beside a config file (null: in memory).</summary>
    private (string? Path, TimeSpan CacheTtl) ReadGovernance(YamlMappingNode root, string source)
    {
        var gs = Child(root, "general_settings") as YamlMappingNode;
        var ttl = TimeSpan.FromSeconds(10);
        if (gs is not null && Number(gs, "user_api_key_cache_ttl", "general_settings.user_api_key_cache_ttl") is { } t)
        {
            if (t < 0) _errors.Add("general_settings.user_api_key_cache_ttl: must be 0 or more seconds");
            else ttl = TimeSpan.FromSeconds(t);
        }
        if (gs is not null && Resolve(Scalar(Child(gs, "database_url")), "general_settings.database_url") is { Length: > 0 })
            _warnings.Add("general_settings.database_url: PostgreSQL is not supported yet; keys, teams and spend go to the SQLite file (general_settings.database_path)");
        if (gs is not null && Resolve(Scalar(Child(gs, "database_path")), "general_settings.database_path") is { Length: > 0 } path) return (path, ttl);
        var dir = File.Exists(source) ? Path.GetDirectoryName(Path.GetFullPath(source)) : null;
        return (dir is null ? null : Path.Combine(dir, "llmux.db"), ttl);
    }

    private LLMux.Stages.Responses.ResponseStoreOptions _responseStore = new();

    /// <summary>The bounds of the in-memory <c>/v1/responses</c> store.</summary>
    private void ReadResponseStore(YamlMappingNode gsm)
    {
        if (Number(gsm, "responses_store_max_items", "general_settings.responses_store_max_items") is { } n)
        {
            if (n < 0) _errors.Add("general_settings.responses_store_max_items: must be 0 (store nothing) or more");
            else _responseStore = _responseStore with { MaxResponses = (int)n };
        }
        if (Number(gsm, "responses_store_max_mb", "general_settings.responses_store_max_mb") is { } mb)
        {
            if (mb < 0) _errors.Add("general_settings.responses_store_max_mb: must be 0 or more MiB");
            else _responseStore = _responseStore with { MaxBytes = (long)(mb * 1024 * 1024) };
        }
        if (Number(gsm, "responses_store_ttl_seconds", "general_settings.responses_store_ttl_seconds") is { } ttl)
        {
            if (ttl <= 0) _errors.Add("general_settings.responses_store_ttl_seconds: must be a positive number of seconds");
            else _responseStore = _responseStore with { TimeToLive = TimeSpan.FromSeconds(ttl) };
        }
    }

    private RouterSettings ReadRouter(YamlMappingNode node, string path, RouterSettings router)
    {
        if (Number(node, "num_retries", $"{path}.num_retries") is { } n)
        {
            if (n < 0) _errors.Add($"{path}.num_retries: must be 0 or more");
            else router = router with { NumRetries = (int)n };
        }
        if (Number(node, "retry_after", $"{path}.retry_after") is { } ra) router = router with { MinRetryBackoff = TimeSpan.FromSeconds(Math.Max(0, ra)) };
        if (Number(node, "allowed_fails", $"{path}.allowed_fails") is { } af) router = router with { AllowedFails = (int)af };
        if (Number(node, "cooldown_time", $"{path}.cooldown_time") is { } ct) router = router with { CooldownTime = TimeSpan.FromSeconds(ct <= 0 ? 5 : ct) };
        if (Bool(node, "disable_cooldowns", $"{path}.disable_cooldowns") is { } dc) router = router with { DisableCooldowns = dc };
        if (Number(node, "max_fallbacks", $"{path}.max_fallbacks") is { } mf) router = router with { MaxFallbacks = (int)mf };
        if (Fallbacks(node, "fallbacks", $"{path}.fallbacks") is { } fb) router = router with { Fallbacks = Merge(fb, router.Fallbacks) };
        if (Fallbacks(node, "context_window_fallbacks", $"{path}.context_window_fallbacks") is { } cw) router = router with { ContextWindowFallbacks = cw };
        if (Fallbacks(node, "content_policy_fallbacks", $"{path}.content_policy_fallbacks") is { } cp) router = router with { ContentPolicyFallbacks = cp };
        var defaults = StringList(node, "default_fallbacks", $"{path}.default_fallbacks");
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
    private FrozenDictionary<string, string[]>? Fallbacks(YamlMappingNode node, string key, string path)
    {
        var n = Child(node, key);
        if (n is null) return null;
        if (n is not YamlSequenceNode seq) { _errors.Add($"{path}: must be a list like [{{\"group\": [\"fallback-group\"]}}]"); return null; }
        var d = new Dictionary<string, string[]>(StringComparer.Ordinal);
        for (var i = 0; i < seq.Children.Count; i++)
        {
            if (seq.Children[i] is not YamlMappingNode m) { _errors.Add($"{path}[{i}]: must be a mapping of a group to its fallback groups"); continue; }
            foreach (var (k, v) in m.Children)
            {
                d[Key(k)] = v switch
                {
                    YamlSequenceNode s => s.Children.Select(static c => (c as YamlScalarNode)?.Value ?? "").Where(static x => x.Length > 0).ToArray(),
                    YamlScalarNode s when s.Value is { Length: > 0 } one => [one],
                    _ => [],
                };
            }
        }
        return d.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private TimeSpan Seconds(double value, string path)
    {
        if (value <= 0) { _errors.Add($"{path}: must be a positive number of seconds"); return TimeSpan.FromSeconds(600); }
        return TimeSpan.FromSeconds(value);
    }

    private List<Deployment> ReadModelList(YamlMappingNode root)
    {
        var list = new List<Deployment>();
        var node = Child(root, "model_list");
        if (node is null) { _errors.Add("model_list: is required: a list of {model_name, litellm_params: {model, ...}}"); return list; }
        if (node is not YamlSequenceNode seq) { _errors.Add("model_list: must be a list"); return list; }
        for (var i = 0; i < seq.Children.Count; i++)
        {
            var at = $"model_list[{i}]";
            if (seq.Children[i] is not YamlMappingNode entry) { _errors.Add($"{at}: must be a mapping with model_name and litellm_params"); continue; }
            WarnUnknown(entry, at, EntryKeys);
            var name = Scalar(Child(entry, "model_name"));
            if (string.IsNullOrWhiteSpace(name)) _errors.Add($"{at}.model_name: is required (the name clients ask for)");
            if (Child(entry, "litellm_params") is not YamlMappingNode lp) { _errors.Add($"{at}.litellm_params: is required: a mapping with at least `model`"); continue; }
            var d = ReadDeployment(name ?? "", lp, Child(entry, "model_info") as YamlMappingNode, at);
            if (d is not null) list.Add(d);
        }
        return list;
    }

    private Deployment? ReadDeployment(string modelName, YamlMappingNode lp, YamlMappingNode? info, string at)
    {
        var p = $"{at}.litellm_params";
        var model = Scalar(Child(lp, "model"));
        if (string.IsNullOrWhiteSpace(model)) { _errors.Add($"{p}.model: is required, as provider/model (e.g. openai/gpt-4o-mini)"); return null; }
        if (!ProviderModelName.TryParse(model, out var providerName, out var upstream))
        {
            _errors.Add($"{p}.model: `{model}` names no provider; write it as provider/model (e.g. openai/{model})");
            return null;
        }
        var provider = catalog.Find(providerName);
        if (provider is null)
        {
            _errors.Add($"{p}.model: unknown provider `{providerName}` in `{model}`; known providers: {string.Join(", ", catalog.Names)}");
            return null;
        }
        if (upstream.Length == 0) { _errors.Add($"{p}.model: `{model}` has no model id after the provider"); return null; }

        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in lp.Children)
        {
            var key = Key(k);
            if (key is "model" or "additional_drop_params" or "allowed_openai_params") continue;
            if (v is YamlScalarNode s && s.Value is { } value) settings[key] = Resolve(value, $"{p}.{key}") ?? "";
        }

        var id = Scalar(Child(info, "id")) ?? ShortHash(modelName + "|" + model + "|" + settings.GetValueOrDefault("api_base"));
        var timeout = Number(lp, "timeout", $"{p}.timeout");
        var streamTimeout = Number(lp, "stream_timeout", $"{p}.stream_timeout");
        return new Deployment
        {
            ModelName = modelName,
            Model = model,
            ProviderName = provider.Spec.Name,
            UpstreamModel = upstream,
            Provider = provider.ForModel(upstream),
            Id = id,
            ApiBase = settings.GetValueOrDefault("api_base"),
            ApiKey = Secret.From(settings.GetValueOrDefault("api_key")),
            ApiVersion = settings.GetValueOrDefault("api_version"),
            Timeout = timeout is { } t ? Seconds(t, $"{p}.timeout") : null,
            StreamTimeout = streamTimeout is { } st ? Seconds(st, $"{p}.stream_timeout") : null,
            MaxRetries = (int?)Number(lp, "max_retries", $"{p}.max_retries"),
            DropParams = Bool(lp, "drop_params", $"{p}.drop_params"),
            AdditionalDropParams = StringList(lp, "additional_drop_params", $"{p}.additional_drop_params"),
            AllowedOpenAIParams = StringList(lp, "allowed_openai_params", $"{p}.allowed_openai_params"),
            InputCostPerToken = Decimal(lp, "input_cost_per_token", $"{p}.input_cost_per_token"),
            OutputCostPerToken = Decimal(lp, "output_cost_per_token", $"{p}.output_cost_per_token"),
            Rpm = (int?)Number(lp, "rpm", $"{p}.rpm"),
            Tpm = (int?)Number(lp, "tpm", $"{p}.tpm"),
            Weight = Number(lp, "weight", $"{p}.weight"),
            Order = (int?)Number(lp, "order", $"{p}.order"),
            Settings = settings.ToFrozenDictionary(StringComparer.Ordinal),
        };
    }


    /// <summary>Resolves <c>os.environ/NAME</c> from environment_variables, then the process environment.</summary>
    private string? Resolve(string? value, string path)
    {
        if (value is null || !value.StartsWith("os.environ/", StringComparison.Ordinal)) return value;
        var name = value["os.environ/".Length..];
        var resolved = _configEnv.GetValueOrDefault(name) ?? _env(name);
        if (resolved is null) _warnings.Add($"{path}: environment variable `{name}` is not set; the value is left empty");
        return resolved;
    }

    private void WarnUnknown(YamlMappingNode node, string path, HashSet<string> known)
    {
        foreach (var (k, _) in node.Children)
        {
            var key = Key(k);
            if (!known.Contains(key)) _warnings.Add($"{path}.{key}: unknown key, ignored");
        }
    }

    private static YamlNode? Child(YamlMappingNode? node, string key)
    {
        if (node is null) return null;
        foreach (var (k, v) in node.Children)
        {
            if (k is YamlScalarNode s && s.Value == key) return v;
        }
        return null;
    }

    private static string Key(YamlNode node) => node is YamlScalarNode s ? s.Value ?? "" : node.ToString();

    private static string? Scalar(YamlNode? node) => node is YamlScalarNode s && s.Value is { Length: > 0 } v && !(s.Style == ScalarStyle.Plain && v is "null" or "~") ? v : null;

    private bool? Bool(YamlMappingNode node, string key, string path)
    {
        var v = Scalar(Child(node, key));
        if (v is null) return null;
        if (bool.TryParse(v, out var b)) return b;
        _errors.Add($"{path}: `{v}` is not true or false");
        return null;
    }

    private double? Number(YamlMappingNode node, string key, string path)
    {
        var raw = Scalar(Child(node, key));
        var v = Resolve(raw, path);
        if (v is null) return null;
        if (double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return d;
        _errors.Add($"{path}: `{v}` is not a number");
        return null;
    }

    private decimal? Decimal(YamlMappingNode node, string key, string path)
    {
        var v = Scalar(Child(node, key));
        if (v is null) return null;
        if (decimal.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return d;
        _errors.Add($"{path}: `{v}` is not a number");
        return null;
    }

    private string[] StringList(YamlMappingNode node, string key, string path)
    {
        var n = Child(node, key);
        if (n is null) return [];
        if (n is YamlSequenceNode seq) return seq.Children.Select(static c => (c as YamlScalarNode)?.Value ?? "").Where(static s => s.Length > 0).ToArray();
        _errors.Add($"{path}: must be a list of parameter names");
        return [];
    }

    private static string ShortHash(string s) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(s)).AsSpan(0, 8));
}
