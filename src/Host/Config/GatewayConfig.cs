using LLMux.Pipeline.Context;
using LLMux.Stages;

namespace LLMux.Host.Config;

/// <summary>A loaded, validated LiteLLM-compatible config: immutable once built.</summary>
public sealed record GatewayConfig
{
    public required IReadOnlyList<Deployment> Deployments { get; init; }
    public required GatewaySettings Settings { get; init; }
    /// <summary><c>general_settings.master_key</c>; null means no client auth.</summary>
    public Secret? MasterKey { get; init; }
    /// <summary>Largest accepted request body (<c>general_settings.max_request_size_mb</c>).</summary>
    public long MaxRequestBytes { get; init; } = 64L * 1024 * 1024;
    /// <summary>
    /// <c>general_settings.database_path</c>: the SQLite file of keys, teams, users and spend (default <c>llmux.db</c>
    /// beside the config file). Null with an inline config: an in-memory database.
    /// </summary>
    public string? DatabasePath { get; init; }
    /// <summary><c>general_settings.database_url</c> (or <c>DATABASE_URL</c>): PostgreSQL instead of SQLite, for several replicas.</summary>
    public string? DatabaseUrl { get; init; }
    /// <summary>Redis the replicas share (a StackExchange.Redis configuration string), from <c>router_settings.redis_*</c> or <c>REDIS_URL</c>.</summary>
    public string? Redis { get; init; }
    /// <summary>Prefix of every Redis key LLMux writes (<c>general_settings.redis_namespace</c>, default <c>llmux</c>).</summary>
    public string RedisNamespace { get; init; } = "llmux";
    /// <summary><c>general_settings.disable_spend_logs</c>: spend adds up on keys, teams, users and customers, with no log row per call.</summary>
    public bool DisableSpendLogs { get; init; }
    /// <summary><c>LITELLM_KEY_ROTATION_GRACE_PERIOD</c>: the grace period of a <c>/key/regenerate</c> that names none (null: none).</summary>
    public string? KeyRotationGracePeriod { get; init; }
    /// <summary><c>litellm_settings.max_end_user_budget_id</c>: the budget of end users that link to none of their own.</summary>
    public string? MaxEndUserBudgetId { get; init; }
    /// <summary><c>general_settings.user_api_key_cache_ttl</c> (seconds): how long a key lookup is reused.</summary>
    public TimeSpan KeyCacheTtl { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Bounds of the in-memory store of <c>/v1/responses</c> (<c>general_settings.responses_store_max_items</c>, <c>_max_mb</c>, <c>_ttl_seconds</c>).</summary>
    public LLMux.Stages.Responses.ResponseStoreOptions ResponseStore { get; init; } = new();
    /// <summary>Where the Files and Batches APIs keep their data, and their bounds.</summary>
    public FileSettings Files { get; init; } = new(Path.Combine(Path.GetTempPath(), "llmux-data-" + Guid.NewGuid().ToString("N")), 512L * 1024 * 1024, 8, 2) { Ephemeral = true };
    /// <summary>Messages about keys LLMux does not know or values it ignored.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
    /// <summary>Where the config came from ("built-in mock config" when none was given).</summary>
    public string Source { get; init; } = "";
}

/// <summary><c>general_settings.storage_path</c>, <c>max_file_size_mb</c>, <c>batch_parallelism</c>, <c>batch_concurrency</c>.</summary>
public sealed record FileSettings(string StoragePath, long MaxFileBytes, int BatchParallelism, int BatchConcurrency)
{
    /// <summary>A directory of this host alone (no storage_path and no config file): removed when the host stops.</summary>
    public bool Ephemeral { get; init; }
    /// <summary>How often a batch run by the provider's own Batch API is polled (<c>batch_poll_interval_seconds</c>, default 30).</summary>
    public TimeSpan BatchPollInterval { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>How long a replica's hold on a batch it runs lasts unless renewed (<c>batch_lease_seconds</c>, default 60): another replica takes the batch over once it lapses.</summary>
    public TimeSpan BatchLease { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>A config that cannot run: every problem, each with the path of the key at fault.</summary>
public sealed class ConfigException(IReadOnlyList<string> errors)
    : Exception("invalid config:\n  - " + string.Join("\n  - ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
