using StackExchange.Redis;
using LLMux.Stages.Caching;

namespace LLMux.Host.Caching;

/// <summary>
/// The response cache in Redis, shared by every replica: one <c>GET</c> per lookup and one <c>SET … PX</c> per write
/// (Redis expires the entry), values as <see cref="CacheEntry.Serialize"/> writes them. Redis being down never fails a
/// request: while it is unreachable a lookup is a miss and a write is dropped at once (no wait for a timeout), counted
/// under <c>llmux.cache.requests{result=error}</c> by the stage; the multiplexer reconnects on its own.
/// </summary>
internal sealed class RedisCacheStore(IConnectionMultiplexer redis, string? ns = null, bool ownsConnection = true) : ICacheStore, ICacheAdmin, IDisposable
{
    private readonly IDatabase _db = redis.GetDatabase();

    /// <summary>The connection the cache uses (its own, or the host's shared link's).</summary>
    internal IConnectionMultiplexer Connection => redis;

    /// <summary>
    /// Connects (without failing when Redis is not up yet) to <c>redis_url</c>/<c>REDIS_URL</c> or host, port and
    /// password. When the host's shared link (<paramref name="shared"/>: limits, budgets, cooldowns) reaches the same
    /// server, database and user, the cache uses that connection rather than opening a second one.
    /// </summary>
    public static RedisCacheStore Connect(CacheSettings settings, LLMux.Governance.Shared.RedisLink? shared = null)
    {
        var options = Options(settings);
        if (shared is not null && shared.Reaches(options)) return new(shared.Multiplexer, settings.Namespace, ownsConnection: false);
        // Replies read on the thread pool, as the shared link's are (no dedicated socket threads of the library's own).
        options.SocketManager ??= SocketManager.ThreadPool;
        return new(ConnectionMultiplexer.Connect(options), settings.Namespace);
    }

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

    public string CacheType => "redis";

    public async ValueTask PingAsync(CancellationToken cancellationToken)
    {
        if (!redis.IsConnected) throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, "Redis is not connected");
        await _db.PingAsync().ConfigureAwait(false);
    }

    public async ValueTask<long> DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        if (keys.Count == 0) return 0;
        var redisKeys = new RedisKey[keys.Count];
        for (var i = 0; i < keys.Count; i++) redisKeys[i] = keys[i];
        return await _db.KeyDeleteAsync(redisKeys).ConfigureAwait(false);
    }

    /// <summary>
    /// Deletes this cache's keys only (the same Redis may hold router state and other caches): those under the
    /// configured namespace, or, without one, keys shaped as LLMux writes them (64 hex digits). Not FLUSHALL, as LiteLLM does.
    /// </summary>
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (!redis.IsConnected) throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, "Redis is not connected");
        var pattern = ns is { Length: > 0 } n ? Glob(n) + ":*" : string.Concat(Enumerable.Repeat("[0-9a-f]", 64));
        var batch = new List<RedisKey>(256);
        foreach (var endpoint in redis.GetEndPoints())
        {
            var server = redis.GetServer(endpoint);
            if (server.IsReplica) continue;
            await foreach (var key in server.KeysAsync(_db.Database, pattern, pageSize: 500).WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                batch.Add(key);
                if (batch.Count < 256) continue;
                await _db.KeyDeleteAsync([.. batch]).ConfigureAwait(false);
                batch.Clear();
            }
        }
        if (batch.Count > 0) await _db.KeyDeleteAsync([.. batch]).ConfigureAwait(false);
    }

    /// <summary>A namespace as a literal in a Redis glob.</summary>
    private static string Glob(string literal)
    {
        var sb = new System.Text.StringBuilder(literal.Length + 8);
        foreach (var c in literal)
        {
            if (c is '*' or '?' or '[' or ']' or '\\') sb.Append('\\');
            sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>Closes the cache's own connection; a shared one belongs to the host, which closes it last.</summary>
    public void Dispose()
    {
        if (ownsConnection) redis.Dispose();
    }
}
