using StackExchange.Redis;
using LLMux.Stages.Caching;

namespace LLMux.Host.Caching;

/// <summary>
/// The response cache in Redis, shared by every replica: one <c>GET</c> per lookup and one <c>SET … PX</c> per write
/// (Redis expires the entry), values as <see cref="CacheEntry.Serialize"/> writes them. Redis being down never fails a
/// request: while it is unreachable a lookup is a miss and a write is dropped at once (no wait for a timeout), counted
/// under <c>llmux.cache.requests{result=error}</c> by the stage; the multiplexer reconnects on its own.
/// </summary>
internal sealed class RedisCacheStore(IConnectionMultiplexer redis) : ICacheStore, IDisposable
{
    private readonly IDatabase _db = redis.GetDatabase();

    /// <summary>Connects (without failing when Redis is not up yet) to <c>redis_url</c>/<c>REDIS_URL</c> or host, port and password.</summary>
    public static RedisCacheStore Connect(CacheSettings settings) => new(ConnectionMultiplexer.Connect(Options(settings)));

    internal static ConfigurationOptions Options(CacheSettings settings)
    {
        var options = new ConfigurationOptions
        {
            AbortOnConnectFail = false, // start without Redis; serve from no cache until it is there
            ConnectTimeout = 2000,
            SyncTimeout = 1000,
            AsyncTimeout = 1000,
            ConnectRetry = 1,
        };
        if (settings.RedisUrl is { } url && Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "redis" or "rediss")
        {
            options.EndPoints.Add(uri.Host, uri.Port > 0 ? uri.Port : 6379);
            options.Ssl = uri.Scheme == "rediss";
            var user = Uri.UnescapeDataString(uri.UserInfo);
            var colon = user.IndexOf(':');
            if (colon >= 0)
            {
                if (colon > 0) options.User = user[..colon];
                options.Password = user[(colon + 1)..];
            }
            else if (user.Length > 0) options.Password = user;
            if (uri.AbsolutePath.Trim('/') is { Length: > 0 } db && int.TryParse(db, out var n)) options.DefaultDatabase = n;
        }
        else if (settings.RedisUrl is { } plain)
        {
            options = ConfigurationOptions.Parse(plain);
            options.AbortOnConnectFail = false;
        }
        else
        {
            options.EndPoints.Add(settings.RedisHost ?? "127.0.0.1", settings.RedisPort ?? 6379);
            options.Password = settings.RedisPassword;
        }
        return options;
    }

    public async ValueTask<CacheEntry?> GetAsync(string key, CancellationToken cancellationToken)
    {
        if (!redis.IsConnected) throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, "Redis is not connected");
        var value = await _db.StringGetAsync(key).ConfigureAwait(false);
        return value.IsNullOrEmpty ? null : CacheEntry.Deserialize((byte[])value!);
    }

    public async ValueTask SetAsync(string key, CacheEntry entry, TimeSpan ttl, CancellationToken cancellationToken)
    {
        if (ttl <= TimeSpan.Zero) return;
        if (!redis.IsConnected) throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, "Redis is not connected");
        await _db.StringSetAsync(key, entry.Serialize(), ttl).ConfigureAwait(false);
    }

    public void Dispose() => redis.Dispose();
}
