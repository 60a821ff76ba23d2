using LLMux.Governance.Shared;
using LLMux.Host.Config;

namespace LLMux.Host.Replicas;

/// <summary>
/// The host's one Redis link (<c>router_settings.redis_*</c> or <c>REDIS_URL</c>), made whether or not governance is
/// on: the router's cooldowns are shared through it, and governance (when there is a master key) uses the same
/// connection for limits, budgets and cache invalidation. Owned by the host's service provider, which closes it last,
/// after governance has flushed its spend.
/// </summary>
internal static class SharedRedis
{
    /// <summary>The link, or null when no Redis is configured. Does not wait for Redis to be up (it reconnects by itself).</summary>
    public static RedisLink? Connect(GatewayConfig config) => config.Redis is { } redisConfig ? ConnectTo(config, redisConfig) : null;

    // Its own method: StackExchange.Redis is loaded only by a host that has Redis configured.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static RedisLink ConnectTo(GatewayConfig config, string redisConfig)
    {
        try
        {
            return RedisLink.ConnectAsync(redisConfig, config.RedisNamespace).GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is StackExchange.Redis.RedisException or ArgumentException)
        {
            throw new ConfigException([$"router_settings.redis_host / REDIS_URL: {ex.Message}"]);
        }
    }

    /// <summary>Registered by factory so that the container disposes it when the host is disposed (after every hosted service stopped).</summary>
    public static void Register(IServiceCollection services, RedisLink link) => services.AddSingleton(_ => link);

    /// <summary>
    /// Sends the link's warnings to the host's log, and shares router cooldowns: a deployment cooled down on this
    /// replica is cooled down on every replica on the same namespace, and one that starts takes those still running.
    /// </summary>
    public static void ShareCooldowns(WebApplication app, ILogger logger)
    {
        // Resolved here so that the container owns (and later disposes) the link.
        var link = app.Services.GetRequiredService<RedisLink>();
        link.Warn = message => logger.LogWarning("{Message}", message);
        var deployments = app.Services.GetRequiredService<LLMux.Stages.Hosting.LLMuxRuntime>().Registry.All;
        var ids = new string[deployments.Count];
        for (var i = 0; i < ids.Length; i++) ids[i] = deployments[i].Id;
        new RedisCooldowns(link, app.Services.GetRequiredService<LLMux.Stages.Routing.RouterState>()).StartAsync(ids).GetAwaiter().GetResult();
    }
}
