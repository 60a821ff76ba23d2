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

    /// <summary>Where governance keeps its data: <c>database_path</c>, else <c>llmux.db</c> beside a config file (null: in memory).</summary>
    public (string? Path, TimeSpan CacheTtl) Governance()
    {
        var ttl = TimeSpan.FromSeconds(10);
        if (Number("user_api_key_cache_ttl") is { } t)
        {
            if (t < 0) errors.Add("general_settings.user_api_key_cache_ttl: must be 0 or more seconds");
            else ttl = TimeSpan.FromSeconds(t);
        }
        if (Resolve(general["database_url"], "general_settings.database_url") is { Length: > 0 })
            warnings.Add("general_settings.database_url: PostgreSQL is not supported yet; keys, teams and spend go to the SQLite file (general_settings.database_path)");
        if (Resolve(general["database_path"], "general_settings.database_path") is { Length: > 0 } path) return (path, ttl);
        var dir = File.Exists(source) ? Path.GetDirectoryName(Path.GetFullPath(source)) : null;
        return (dir is null ? null : Path.Combine(dir, "llmux.db"), ttl);
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
        return new FileSettings(path, max, Whole("batch_parallelism", 8, 1, 256), Whole("batch_concurrency", 2, 1, 64)) { Ephemeral = ephemeral };
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
