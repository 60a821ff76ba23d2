using System.Globalization;
using LLMux.Governance.Storage;
using StackExchange.Redis;

namespace LLMux.Governance.Shared;

/// <summary>
/// Live spend per key, team, user and end user shared by every replica: one counter per entity and budget window
/// (<c>spend:&lt;scope&gt;:&lt;id&gt;:&lt;window end&gt;</c>), seeded once from the store's spend and then added to with
/// <c>INCRBYFLOAT</c> the moment each answer is priced. So a budget check on any replica sees every answer already
/// given, and a budget is overshot only by the calls in flight when it was reached. A new window is a new counter
/// starting at 0, so a reset happens once whichever replica sees it first.
/// </summary>
public sealed class RedisSpendCounters(RedisLink link)
{
    private static readonly TimeSpan NoWindowTtl = TimeSpan.FromDays(7);

    // KEYS: counters; ARGV: per counter its seed and its time to live (ms). Returns every counter's value.
    private const string ReadScriptText = """
        local out = {}
        for i = 1, #KEYS do
          local v = redis.call('GET', KEYS[i])
          if not v then
            redis.call('SET', KEYS[i], ARGV[2*i-1], 'PX', ARGV[2*i], 'NX')
            v = redis.call('GET', KEYS[i])
          end
          out[i] = v
        end
        return out
        """;

    // KEYS: counters; ARGV: the amount, then per counter its seed and time to live. Returns every counter's new value.
    private const string AddScriptText = """
        local out = {}
        for i = 1, #KEYS do
          redis.call('SET', KEYS[i], ARGV[2*i], 'PX', ARGV[2*i+1], 'NX')
          out[i] = redis.call('INCRBYFLOAT', KEYS[i], ARGV[1])
          redis.call('PEXPIRE', KEYS[i], ARGV[2*i+1])
        end
        return out
        """;

    private static readonly RedisScript ReadScript = new(ReadScriptText);
    private static readonly RedisScript AddScript = new(AddScriptText);


    /// <summary>One entity's counter: where it lives, what to start it at, when its window ends.</summary>
    public readonly record struct Counter(BudgetScope Scope, string Id, decimal Seed, DateTimeOffset? WindowEnd);

    // Each counter's Redis key with the text of its last seed and budget, made once per entity and window (bounded).
    private const int MaxCachedKeys = 100_000;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(BudgetScope Scope, string Id, long WindowEnd), Made> _made = new();

    private sealed record Made(RedisKey Key, decimal Seed, RedisValue SeedText, decimal? Max, RedisValue MaxText);

    private Made MadeOf(in Counter c, decimal? max)
    {
        var at = (c.Scope, c.Id, c.WindowEnd?.ToUnixTimeMilliseconds() ?? long.MinValue);
        // A read or an add (no budget asked) keeps the budget text an admission made.
        if (_made.TryGetValue(at, out var made) && made.Seed == c.Seed && (max is null || made.Max == max)) return made;
        if (made is null && _made.Count >= MaxCachedKeys) _made.Clear();
        var key = made?.Key ?? link.Key($"spend:{c.Scope.ToString().ToLowerInvariant()}:{c.Id}:{(c.WindowEnd is { } w ? w.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) : "all")}");
        var seedText = made is not null && made.Seed == c.Seed ? made.SeedText : Text(c.Seed);
        made = max is { } m ? new Made(key, c.Seed, seedText, m, Text(m)) : new Made(key, c.Seed, seedText, made?.Max, made?.MaxText ?? -1);
        _made[at] = made;
        return made;
    }

    private static RedisValue Text(decimal d) => d == 0 ? (RedisValue)0 : d.ToString(CultureInfo.InvariantCulture);

    private RedisKey KeyOf(in Counter c) => MadeOf(c, null).Key;

    private static long TtlMs(in Counter c, DateTimeOffset now) =>
        (long)Math.Max(60_000, ((c.WindowEnd is { } w ? w - now + TimeSpan.FromDays(1) : NoWindowTtl)).TotalMilliseconds);

    /// <summary>Counters to check before a call, as the admission script takes them: keys, and per key (seed, ttl ms, max or -1).</summary>
    internal readonly record struct BudgetedRead(RedisKey[] Keys, RedisValue[] Args);

    /// <summary>The counters with their budgets (<paramref name="max"/>: null for none), for <see cref="RedisRateLimiter"/>'s budgeted admission.</summary>
    internal BudgetedRead Prepare(IReadOnlyList<Counter> counters, IReadOnlyList<decimal?> max, DateTimeOffset now)
    {
        var keys = new RedisKey[counters.Count];
        var args = new RedisValue[counters.Count * 3];
        for (var i = 0; i < counters.Count; i++)
        {
            var made = MadeOf(counters[i], max[i]);
            keys[i] = made.Key;
            args[3 * i] = made.SeedText;
            args[3 * i + 1] = TtlMs(counters[i], now);
            args[3 * i + 2] = made.MaxText;
        }
        return new(keys, args);
    }

    /// <summary>The counters' values (seeded where missing); throws when Redis is away.</summary>
    public async ValueTask<decimal[]> ReadAsync(IReadOnlyList<Counter> counters, DateTimeOffset now)
    {
        var keys = new RedisKey[counters.Count];
        var args = new RedisValue[counters.Count * 2];
        for (var i = 0; i < counters.Count; i++)
        {
            var made = MadeOf(counters[i], null);
            keys[i] = made.Key;
            args[2 * i] = made.SeedText;
            args[2 * i + 1] = TtlMs(counters[i], now);
        }
        var result = (RedisResult[])(await link.EvalAsync(ReadScript, keys, args).ConfigureAwait(false))!;
        var values = new decimal[counters.Count];
        for (var i = 0; i < values.Length; i++)
            values[i] = decimal.Parse((string)result[i]!, NumberStyles.Float, CultureInfo.InvariantCulture);
        return values;
    }

    /// <summary>Adds a priced answer to every counter and returns their new values (atomic: exactly one add crosses a threshold); throws when Redis is away.</summary>
    public async Task<decimal[]> AddAsync(IReadOnlyList<Counter> counters, decimal amount, DateTimeOffset now)
    {
        if (counters.Count == 0 || amount == 0) return [];
        var add = PrepareAdd(counters, amount, now);
        return Values(await link.EvalAsync(AddScript, add.Keys, add.Args).ConfigureAwait(false));
    }

    /// <summary>An add as <see cref="AddScript"/> takes it (and the after-call script of <see cref="RedisRateLimiter"/>): keys; the amount, then per key (seed, ttl ms).</summary>
    internal BudgetedRead PrepareAdd(IReadOnlyList<Counter> counters, decimal amount, DateTimeOffset now)
    {
        var keys = new RedisKey[counters.Count];
        var args = new RedisValue[1 + counters.Count * 2];
        args[0] = amount.ToString(CultureInfo.InvariantCulture);
        for (var i = 0; i < counters.Count; i++)
        {
            var made = MadeOf(counters[i], null);
            keys[i] = made.Key;
            args[1 + 2 * i] = made.SeedText;
            args[2 + 2 * i] = TtlMs(counters[i], now);
        }
        return new(keys, args);
    }

    /// <summary>The counters' new values in a script's answer.</summary>
    internal static decimal[] Values(RedisResult answer)
    {
        var result = (RedisResult[])answer!;
        var values = new decimal[result.Length];
        for (var i = 0; i < values.Length; i++) values[i] = decimal.Parse((string)result[i]!, NumberStyles.Float, CultureInfo.InvariantCulture);
        return values;
    }

    /// <summary>An admin deleted the entity or changed its window: the next read reseeds from the store.</summary>
    public Task ForgetAsync(BudgetScope scope, string id, DateTimeOffset? windowEnd) =>
        link.Database.KeyDeleteAsync(KeyOf(new Counter(scope, id, 0, windowEnd)));
}
