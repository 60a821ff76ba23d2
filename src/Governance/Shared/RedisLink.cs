using System.Diagnostics;
using System.Diagnostics.Metrics;
using LLMux.Stages.Telemetry;
using StackExchange.Redis;

namespace LLMux.Governance.Shared;

/// <summary>
/// The Redis the replicas share (<c>router_settings.redis_*</c> or <c>REDIS_URL</c>): one multiplexed connection per
/// process (the host owns it; router cooldowns and governance both use it), the key namespace, and the outage rule. Redis is an accelerator, never a dependency: a failed call marks it away for a
/// short while (a warning, and <c>llmux.governance.redis_fallbacks</c> counted per call served locally), and every
/// caller falls back to this replica's own counters until a later call succeeds.
/// </summary>
public sealed class RedisLink : IAsyncDisposable, IDisposable
{
    private static readonly Counter<long> Fallbacks = LLMuxTelemetry.Meter.CreateCounter<long>("llmux.governance.redis_fallbacks", "{call}",
        "Governance decisions made on this replica's own counters because Redis did not answer.");

    private static readonly TimeSpan Backoff = TimeSpan.FromSeconds(2);
    private readonly ConnectionMultiplexer _redis;
    private long _downUntil;
    private long _lastWarning;
    private long _fallbacks;

    private RedisLink(ConnectionMultiplexer redis, string ns)
    {
        _redis = redis;
        Namespace = ns;
        Origin = Guid.NewGuid().ToString("N")[..12];
    }

    /// <summary>Connects (without failing when Redis is not up yet: StackExchange.Redis keeps reconnecting in the background).</summary>
    public static async Task<RedisLink> ConnectAsync(string configuration, string ns, Action<string>? warn = null)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = Math.Min(options.ConnectTimeout, 2000);
        options.SyncTimeout = Math.Min(options.SyncTimeout, 1000);
        options.AsyncTimeout = Math.Min(options.AsyncTimeout, 1000);
        // Replies are read on the .NET thread pool, not on the library's own dedicated threads: each reply then completes
        // its caller without a wake-up of another thread (measured: bench/governance.sh, pg-redis).
        options.SocketManager ??= SocketManager.ThreadPool;
        var redis = await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false);
        return new RedisLink(redis, ns) { Warn = warn };
    }

    /// <summary>Where warnings go (the host's logger); null drops them.</summary>
    public Action<string>? Warn { get; set; }

    /// <summary>Prefix of every key (<c>general_settings.redis_namespace</c>).</summary>
    public string Namespace { get; }

    /// <summary>This process's id in invalidation messages.</summary>
    internal string Origin { get; }

    internal IDatabase Database => _redis.GetDatabase();

    /// <summary>
    /// Runs <paramref name="script"/> by its SHA-1 (<c>EVALSHA</c>), and by its text only when the server answers
    /// <c>NOSCRIPT</c> (first use on a server, after a restart or <c>SCRIPT FLUSH</c>), which loads it. Passing the
    /// text every time, StackExchange.Redis looks the script up in a table keyed by the whole text, hashing it on each
    /// call: 1.6 µs of every governed call in a perf profile of the PostgreSQL + Redis host.
    /// </summary>
    internal async Task<RedisResult> EvalAsync(RedisScript script, RedisKey[]? keys, RedisValue[]? args)
    {
        var db = Database;
        try
        {
            return await db.ScriptEvaluateAsync(script.Hash, keys, args).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            return await db.ScriptEvaluateAsync(script.Text, keys, args).ConfigureAwait(false);
        }
    }

    /// <summary>The connection itself, for another user of the same server (the response cache) to share.</summary>
    internal IConnectionMultiplexer Multiplexer => _redis;

    /// <summary>
    /// Whether a connection made with <paramref name="other"/> would reach the same server as this one, as the same
    /// user, in the same database: then it can use this link's connection instead of opening its own.
    /// </summary>
    internal bool Reaches(ConfigurationOptions other)
    {
        var mine = ConfigurationOptions.Parse(_redis.Configuration);
        static string Endpoints(ConfigurationOptions o) => string.Join(",", o.EndPoints.Select(static e => e switch
        {
            System.Net.DnsEndPoint d => d.Host + ":" + d.Port,
            System.Net.IPEndPoint ip => ip.Address + ":" + ip.Port,
            _ => e.ToString(),
        }).Order(StringComparer.OrdinalIgnoreCase));
        return Endpoints(mine) == Endpoints(other) && mine.Ssl == other.Ssl && (mine.DefaultDatabase ?? 0) == (other.DefaultDatabase ?? 0)
            && mine.User == other.User && mine.Password == other.Password;
    }
    internal ISubscriber Subscriber => _redis.GetSubscriber();

    /// <summary>False while Redis is marked away (after a failure, for a short backoff).</summary>
    public bool Available => Stopwatch.GetTimestamp() >= Interlocked.Read(ref _downUntil) && _redis.IsConnected;

    /// <summary>Calls decided locally because Redis was away (tests, diagnostics).</summary>
    public long FallbackCount => Interlocked.Read(ref _fallbacks);

    internal string Key(string part) => Namespace + ":" + part;

    /// <summary>A decision is being made locally: counted, and warned about at most every 10 s.</summary>
    internal void FellBack(Exception? error)
    {
        Interlocked.Increment(ref _fallbacks);
        Fallbacks.Add(1);
        if (error is not null) Interlocked.Exchange(ref _downUntil, Stopwatch.GetTimestamp() + (long)(Backoff.TotalSeconds * Stopwatch.Frequency));
        var now = Stopwatch.GetTimestamp();
        var last = Interlocked.Read(ref _lastWarning);
        if (now - last < 10 * Stopwatch.Frequency || Interlocked.CompareExchange(ref _lastWarning, now, last) != last) return;
        Warn?.Invoke($"Redis is not answering ({error?.GetType().Name ?? "disconnected"}: {error?.Message}); router cooldowns, rate limits, parallel slots and budgets are kept on this replica only until it returns");
    }

    /// <summary>Whether an exception means "Redis is away" (as opposed to a bug).</summary>
    internal static bool IsOutage(Exception ex) => ex is RedisException or TimeoutException or ObjectDisposedException;

    public async ValueTask DisposeAsync() => await _redis.DisposeAsync().ConfigureAwait(false);

    /// <summary>For containers disposed synchronously (the host's provider owns the link).</summary>
    public void Dispose() => _redis.Dispose();
}

/// <summary>A Lua script with its SHA-1 computed once (how Redis names a loaded script; not a security use).</summary>
internal sealed class RedisScript(string text)
{
    public string Text { get; } = text;
#pragma warning disable CA5350 // Redis identifies scripts by SHA-1.
    public byte[] Hash { get; } = System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(text));
#pragma warning restore CA5350
}
