using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace LLMux.Host.Config;

/// <summary>The <c>general_settings</c> only the host acts on: master key, body limit, governance database, response store bounds.</summary>
internal sealed class HostSettingsReader(IConfigurationSection general, Func<string, string?> environment, string source, List<string> errors, List<string> warnings)
{
    public LLMux.Pipeline.Context.Secret? MasterKey() => LLMux.Pipeline.Context.Secret.From(Resolve(general["master_key"], "general_settings.master_key"));

    public long MaxRequestBytes()
    {
        if (Number("max_request_size_mb") is not { } mb) return 64L * 1024 * 1024;
        if (mb <= 0) { errors.Add("general_settings.max_request_size_mb: must be a positive number of MiB"); return 64L * 1024 * 1024; }
        return (long)(mb * 1024 * 1024);
    }

    /// <summary>
    /// Where governance keeps its data: PostgreSQL when <c>database_url</c> (or the <c>DATABASE_URL</c> environment
    /// variable, as LiteLLM) names one; else the SQLite file <c>database_path</c>, else <c>llmux.db</c> beside a config
    /// file (null: in memory).
    /// </summary>
    public (string? Path, string? Url, TimeSpan CacheTtl) Governance()
    {
        var ttl = TimeSpan.FromSeconds(10);
        if (Number("user_api_key_cache_ttl") is { } t)
        {
            if (t < 0) errors.Add("general_settings.user_api_key_cache_ttl: must be 0 or more seconds");
            else ttl = TimeSpan.FromSeconds(t);
        }
        var url = Resolve(general["database_url"], "general_settings.database_url") is { Length: > 0 } u ? u : environment("DATABASE_URL");
        if (url is { Length: > 0 })
        {
            if (!url.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) && !url.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase) && !url.Contains("Host=", StringComparison.OrdinalIgnoreCase))
                errors.Add("general_settings.database_url: expected postgresql://user:password@host:5432/database (or an Npgsql connection string)");
            return (null, url, ttl);
        }
        if (Resolve(general["database_path"], "general_settings.database_path") is { Length: > 0 } path) return (path, null, ttl);
        var dir = File.Exists(source) ? Path.GetDirectoryName(Path.GetFullPath(source)) : null;
        return (dir is null ? null : Path.Combine(dir, "llmux.db"), null, ttl);
    }

    /// <summary>
    /// LiteLLM's <c>LITELLM_KEY_ROTATION_GRACE_PERIOD</c> (environment or the config's <c>environment_variables</c>): the
    /// grace period of a key regeneration that names none. Null when unset; not a duration: a startup error.
    /// </summary>
    public string? KeyRotationGracePeriod()
    {
        if (environment("LITELLM_KEY_ROTATION_GRACE_PERIOD") is not { Length: > 0 } v) return null;
        if (LLMux.Governance.Budgets.BudgetDuration.TryParse(v, out _)) return v.Trim();
        errors.Add($"LITELLM_KEY_ROTATION_GRACE_PERIOD: `{v}` is not {LLMux.Governance.Budgets.BudgetDuration.Expected}");
        return null;
    }

    /// <summary>
    /// The Redis replicas share (StackExchange.Redis configuration string): <c>router_settings.redis_host</c>,
    /// <c>redis_port</c>, <c>redis_password</c>, else the <c>REDIS_URL</c> (or <c>REDIS_HOST</c>/<c>REDIS_PORT</c>/
    /// <c>REDIS_PASSWORD</c>) environment variables, as LiteLLM. Null: no Redis (one replica). The namespace is
/// <c>general_settings.redis_namespace</c>, else <paramref name="defaultNamespace"/>.
    /// </summary>
    public (string? Configuration, string Namespace) Redis(IConfigurationSection router, string defaultNamespace)
    {
        var ns = Resolve(general["redis_namespace"], "general_settings.redis_namespace") is { Length: > 0 } n ? n : defaultNamespace;
        var host = ResolveIn(router, "redis_host") ?? environment("REDIS_HOST");
        var port = ResolveIn(router, "redis_port") ?? environment("REDIS_PORT");
        var password = ResolveIn(router, "redis_password") ?? environment("REDIS_PASSWORD");
        if (host is { Length: > 0 })
        {
            if (port is { Length: > 0 } && !int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                errors.Add($"router_settings.redis_port: `{port}` is not a port number");
                return (null, ns);
            }
            var config = $"{host}:{(port is { Length: > 0 } ? port : "6379")},abortConnect=false";
            if (password is { Length: > 0 }) config += ",password=" + password;
            return (config, ns);
        }
        if (environment("REDIS_URL") is { Length: > 0 } url)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != "redis" && uri.Scheme != "rediss"))
            {
                errors.Add("REDIS_URL: expected redis://[:password@]host:port");
                return (null, ns);
            }
            var config = $"{uri.Host}:{(uri.Port > 0 ? uri.Port : 6379)},abortConnect=false";
            var info = Uri.UnescapeDataString(uri.UserInfo);
            if (info.Length > 0) config += ",password=" + (info.Contains(':') ? info[(info.IndexOf(':') + 1)..] : info);
            if (uri.Scheme == "rediss") config += ",ssl=true";
            return (config, ns);
        }
        return (null, ns);

        string? ResolveIn(IConfigurationSection section, string key) => Resolve(section[key], $"router_settings.{key}") is { Length: > 0 } v ? v : null;
    }

    /// <summary>
    /// Files and batches: <c>storage_path</c> (a directory; default <c>llmux-data</c> beside the config file, or a
    /// fresh directory under the temp folder, removed when the host stops, with an inline or built-in config), <c>max_file_size_mb</c>
    /// (default 512), <c>batch_parallelism</c> (calls at once per batch, default 8) and <c>batch_concurrency</c>
    /// (batches running at once, default 2).
    /// </summary>
    public FileSettings Files()
    {
        var ephemeral = false;
        var path = Resolve(general["storage_path"], "general_settings.storage_path") is { Length: > 0 } p ? p
            : File.Exists(source) ? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(source))!, "llmux-data")
            : null;
        if (path is null)
        {
            ephemeral = true;
            path = Path.Combine(Path.GetTempPath(), "llmux-data-" + Guid.NewGuid().ToString("N"));
        }
        var max = 512L * 1024 * 1024;
        if (Number("max_file_size_mb") is { } mb)
        {
            if (mb <= 0) errors.Add("general_settings.max_file_size_mb: must be a positive number of MiB");
            else max = (long)(mb * 1024 * 1024);
        }
        return new FileSettings(path, max, Whole("batch_parallelism", 8, 1, 256), Whole("batch_concurrency", 2, 1, 64)) { Ephemeral = ephemeral, BatchPollInterval = PollInterval(), BatchLease = LeaseTime() };
    }

    private TimeSpan LeaseTime()
    {
        if (Number("batch_lease_seconds") is not { } s) return TimeSpan.FromSeconds(60);
        if (s < 1 || s > 3600) { errors.Add("general_settings.batch_lease_seconds: must be from 1 to 3600 seconds"); return TimeSpan.FromSeconds(60); }
        return TimeSpan.FromSeconds(s);
    }

    private TimeSpan PollInterval()
    {
        if (Number("batch_poll_interval_seconds") is not { } s) return TimeSpan.FromSeconds(30);
        if (s <= 0 || s > 3600) { errors.Add("general_settings.batch_poll_interval_seconds: must be more than 0 and at most 3600 seconds"); return TimeSpan.FromSeconds(30); }
        return TimeSpan.FromSeconds(s);
    }

    private int Whole(string key, int fallback, int min, int max)
    {
        if (Number(key) is not { } n) return fallback;
        if (n < min || n > max || n != Math.Floor(n)) { errors.Add($"general_settings.{key}: must be a whole number from {min} to {max}"); return fallback; }
        return (int)n;
    }

    /// <summary>The bounds of the in-memory <c>/v1/responses</c> store (<c>responses_store_max_items</c>, <c>_max_mb</c>, <c>_ttl_seconds</c>).</summary>
    public LLMux.Stages.Responses.ResponseStoreOptions ResponseStore()
    {
        var options = new LLMux.Stages.Responses.ResponseStoreOptions();
        if (Number("responses_store_max_items") is { } n)
        {
            if (n < 0) errors.Add("general_settings.responses_store_max_items: must be 0 (store nothing) or more");
            else options = options with { MaxResponses = (int)n };
        }
        if (Number("responses_store_max_mb") is { } mb)
        {
            if (mb < 0) errors.Add("general_settings.responses_store_max_mb: must be 0 or more MiB");
            else options = options with { MaxBytes = (long)(mb * 1024 * 1024) };
        }
        if (Number("responses_store_ttl_seconds") is { } ttl)
        {
            if (ttl <= 0) errors.Add("general_settings.responses_store_ttl_seconds: must be a positive number of seconds");
            else options = options with { TimeToLive = TimeSpan.FromSeconds(ttl) };
        }
        return options;
    }

    /// <summary><c>disable_spend_logs</c>: no spend log row per call (the spend still adds up on keys, teams, users and customers).</summary>
    public bool DisableSpendLogs()
    {
        var v = Resolve(general["disable_spend_logs"], "general_settings.disable_spend_logs");
        if (string.IsNullOrEmpty(v)) return false;
        if (bool.TryParse(v, out var b)) return b;
        errors.Add($"general_settings.disable_spend_logs: `{v}` is not true or false");
        return false;
    }

    private double? Number(string key)
    {
        var v = Resolve(general[key], $"general_settings.{key}");
        if (string.IsNullOrEmpty(v)) return null;
        if (double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return d;
        errors.Add($"general_settings.{key}: `{v}` is not a number");
        return null;
    }

    private string? Resolve(string? value, string path)
    {
        if (value is null || !value.StartsWith("os.environ/", StringComparison.Ordinal)) return value;
        var name = value["os.environ/".Length..];
        var resolved = environment(name);
        if (resolved is null) warnings.Add($"{path}: environment variable `{name}` is not set; the value is left empty");
        return resolved;
    }
}
