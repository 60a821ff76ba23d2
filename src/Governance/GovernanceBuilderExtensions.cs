using LLMux.Governance.Storage;
using LLMux.Stages.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace LLMux.Governance;

/// <summary><c>services.AddLLMux(...).AddGovernance(...)</c> for a .NET host that brings its own auth front end.</summary>
public static class GovernanceBuilderExtensions
{
    /// <summary>
    /// Adds virtual-key governance: <paramref name="store"/> (migrated here: <c>SqliteGovernanceStore</c>,
    /// <c>PostgresGovernanceStore</c> or the host's own), the <see cref="GovernanceService"/> as a singleton, and the
    /// governance stage before routing. With <paramref name="shared"/> (<see cref="Shared.RedisLink.ConnectAsync"/>)
    /// replicas share limits, live spend and key-cache invalidation. The host authenticates each call with
    /// <see cref="GovernanceService.AuthenticateAsync"/> and puts the <see cref="Pipeline.Context.Caller"/> on the context.
    /// </summary>
    public static LLMuxBuilder AddGovernance(this LLMuxBuilder builder, GovernanceOptions options, IGovernanceStore store, TimeProvider? time = null, Shared.RedisLink? shared = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(store);
        store.MigrateAsync().AsTask().GetAwaiter().GetResult();
        var service = new GovernanceService(store, options, time ?? TimeProvider.System, shared);
        service.StartAsync().GetAwaiter().GetResult();
        // A factory registration: the container disposes the service at shutdown, which flushes queued spend.
        builder.Services.AddSingleton(_ => service);
        return builder.AddStageBeforeRouting(new GovernanceStage(service));
    }
}
