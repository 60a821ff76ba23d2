using LLMux.Governance;
using LLMux.Governance.Storage;
using LLMux.Governance.Storage.Sqlite;
using LLMux.Host.Config;

namespace LLMux.Host.Admin;

/// <summary>
/// Turns governance on when the config has a master key (as LiteLLM's virtual keys need one): the SQLite store at
/// <c>general_settings.database_path</c>, migrated at start; the governance stage before routing (added by the host's <c>AddLLMux</c>); a hosted service
/// that flushes queued spend when the host stops (SIGTERM).
/// </summary>
internal static class GovernanceSetup
{
    public static GovernanceService? Create(GatewayConfig config, TimeProvider time)
    {
        if (config.MasterKey is not { } master) return null;
        IGovernanceStore store = config.DatabasePath is { } path ? new SqliteGovernanceStore(path) : SqliteGovernanceStore.InMemory();
        try
        {
            store.MigrateAsync().AsTask().GetAwaiter().GetResult();
        }
        catch (Microsoft.Data.Sqlite.SqliteException ex)
        {
            throw new ConfigException([$"general_settings.database_path: cannot open or migrate the SQLite database `{config.DatabasePath}`: {ex.Message}"]);
        }
        return new GovernanceService(store, new GovernanceOptions { MasterKey = master, KeyCacheTtl = config.KeyCacheTtl }, time);
    }

    public static void Register(IServiceCollection services, GovernanceService governance)
    {
        services.AddSingleton(governance);
        services.AddHostedService(sp => new GovernanceShutdown(sp.GetRequiredService<GovernanceService>()));
    }

    /// <summary>Drains the spend writer when the host stops, so no acknowledged call loses its row.</summary>
    private sealed class GovernanceShutdown(GovernanceService governance) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            await governance.DisposeAsync().ConfigureAwait(false);
            (governance.Store as IDisposable)?.Dispose();
        }
    }
}
