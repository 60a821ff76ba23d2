using LLMux.Governance;
using LLMux.Governance.Shared;
using LLMux.Governance.Storage;
using LLMux.Governance.Storage.Postgres;
using LLMux.Governance.Storage.Sqlite;
using LLMux.Host.Config;

namespace LLMux.Host.Admin;

/// <summary>
/// Turns governance on when the config has a master key (as LiteLLM's virtual keys need one): PostgreSQL when
/// <c>general_settings.database_url</c> (or <c>DATABASE_URL</c>) names one, else the SQLite file at
/// <c>general_settings.database_path</c>; migrated at start. With the host's Redis link (<c>router_settings.redis_*</c>
/// or <c>REDIS_URL</c>) the replicas share limits, budgets and cache invalidation. Also: the middleware that
/// authenticates every request asynchronously before its endpoint runs, and a hosted service that flushes queued
/// spend when the host stops (SIGTERM).
/// </summary>
internal static class GovernanceSetup
{
    public static GovernanceService? Create(GatewayConfig config, TimeProvider time, RedisLink? redis) =>
        // Without a master key nothing of the stores is touched: Npgsql and SQLite are not even loaded.
        config.MasterKey is { } master ? Open(config, master, time, redis) : null;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static GovernanceService Open(GatewayConfig config, LLMux.Pipeline.Context.Secret master, TimeProvider time, RedisLink? redis)
    {
        IGovernanceStore store;
        string? spill = null;
        if (config.DatabaseUrl is { } url)
        {
            try
            {
                store = new PostgresGovernanceStore(url);
                store.MigrateAsync().AsTask().GetAwaiter().GetResult();
            }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or ArgumentException or UriFormatException or FormatException)
            {
                throw new ConfigException([$"general_settings.database_url: cannot connect to or migrate PostgreSQL: {ex.Message}"]);
            }
            // One spill directory per database on this machine: rows for another database are never written here.
            var id = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(PostgresGovernanceStore.ToConnectionString(url))))[..16];
            spill = Path.Combine(Path.GetTempPath(), "llmux-spend-spill-" + id.ToLowerInvariant());
        }
        else
        {
            store = config.DatabasePath is { } path ? new SqliteGovernanceStore(path) : SqliteGovernanceStore.InMemory();
            try
            {
                store.MigrateAsync().AsTask().GetAwaiter().GetResult();
            }
            catch (Microsoft.Data.Sqlite.SqliteException ex)
            {
                throw new ConfigException([$"general_settings.database_path: cannot open or migrate the SQLite database `{config.DatabasePath}`: {ex.Message}"]);
            }
        }
        var options = new GovernanceOptions { MasterKey = master, KeyCacheTtl = config.KeyCacheTtl, SpillDirectory = spill, DisableSpendLogs = config.DisableSpendLogs, DefaultGracePeriod = config.KeyRotationGracePeriod, MaxEndUserBudgetId = config.MaxEndUserBudgetId };
        var governance = new GovernanceService(store, options, time, redis);
        governance.StartAsync().GetAwaiter().GetResult();
        return governance;
    }

    public static void Register(IServiceCollection services, GovernanceService governance)
    {
        services.AddSingleton(governance);
        services.AddHostedService(sp => new GovernanceShutdown(sp.GetRequiredService<GovernanceService>()));
    }

    /// <summary>
    /// Authenticates each request before its endpoint runs, awaiting the store on a key-cache miss; and sends
    /// governance's warnings (Redis away, soft budgets reached) to the host's log.
    /// </summary>
    public static void UseAuthentication(WebApplication app, RequestAuthenticator authenticator, ILogger logger)
    {
        if (authenticator.Governance?.ConfiguredMasterKeyReplacedAt is { } rotatedAt)
            logger.LogWarning("governance: general_settings.master_key was rotated away at {RotatedAt:u} (/key/regenerate with new_master_key) and is refused; put the rotated key in the config", rotatedAt);
        if (authenticator.Governance is { } governance)
            governance.SoftBudgetCrossed += a => logger.LogWarning("governance: soft budget reached: {Scope} {Name} has spent {Spend} of its soft_budget {SoftBudget} (max_budget {MaxBudget})",
                a.Scope.ToString().ToLowerInvariant(), a.Name, a.Spend, a.SoftBudget, a.MaxBudget?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none");
        // With the key cached the check completes synchronously: the next handler's task is returned as is, with no
        // state machine of this middleware boxed per request.
        app.Use((http, next) =>
        {
            if (http.Request.Path.StartsWithSegments("/health", StringComparison.Ordinal)) return next(http);
            var pending = authenticator.AuthorizeAsync(http.Request);
            return pending.IsCompletedSuccessfully ? next(http) : AfterAsync(pending, http, next);
        });

        static async Task AfterAsync(ValueTask<bool> pending, HttpContext http, RequestDelegate next)
        {
            await pending.ConfigureAwait(false);
            await next(http).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Drains the spend writer when the host stops, so no acknowledged call loses its row: in <c>StoppedAsync</c>, after
    /// every hosted service (Kestrel's too) has stopped, so calls still finishing during the server's graceful stop
    /// queue their rows first.
    /// </summary>
    private sealed class GovernanceShutdown(GovernanceService governance) : IHostedLifecycleService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public async Task StoppedAsync(CancellationToken cancellationToken)
        {
            // The Redis link is the host's (closed when its service provider is disposed, after this).
            await governance.DisposeAsync().ConfigureAwait(false);
            switch (governance.Store)
            {
                case IAsyncDisposable d: await d.DisposeAsync().ConfigureAwait(false); break;
                case IDisposable d: d.Dispose(); break;
            }
        }
    }
}
