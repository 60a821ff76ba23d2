using System.Collections.Concurrent;
using System.Globalization;
using LLMux.Governance.Auth;
using LLMux.Governance.Limits;
using LLMux.Pipeline.Errors;
using StackExchange.Redis;

namespace LLMux.Governance.Shared;

/// <summary>
/// rpm/tpm/max_parallel_requests shared by every replica: one Lua script checks and counts all of a call's
/// descriptors (key, team) atomically, so no read-modify-write race can let an extra call through. Windows are
/// LiteLLM v3's fixed 60 s window from the first request (kept in a hash: start, requests, tokens); retry-after is
/// the real time left in it. A parallel slot is a lease in a sorted set scored by its expiry: this replica renews
/// its live leases every <see cref="LeaseLength"/>/3, so a crashed replica's slots free themselves within
/// <see cref="LeaseLength"/> and can never lock a key.
/// </summary>
public sealed class RedisRateLimiter : IDisposable
{
    public static readonly TimeSpan LeaseLength = TimeSpan.FromSeconds(30);

    // KEYS: per descriptor (key, team) its window hash and its slot set, then the call's budget counters. ARGV: now,
    // window, lease, lease id, the descriptor count n, per descriptor rpm, tpm, max parallel (-1 = none) and the tokens to
    // reserve, then per counter (seed, ttl ms, max budget or -1). A counter at or over its budget refuses the call before
    // any limit counts it: {-1, counter index, spend}. Else a refusal {descriptor, kind, ms left}, or
    // {0, per descriptor: start, requests, tokens, in flight}. Budgets and limits in one round trip.
    private const string AdmitScript = """
        local now = tonumber(ARGV[1]); local win = tonumber(ARGV[2]); local lease = tonumber(ARGV[3]); local id = ARGV[4]
        local n = tonumber(ARGV[5]); local bb = 5 + n*4
        for j = 1, #KEYS - 2*n do
          local k = KEYS[2*n + j]
          local v = redis.call('GET', k)
          if not v then
            redis.call('SET', k, ARGV[bb + 3*j - 2], 'PX', ARGV[bb + 3*j - 1], 'NX')
            v = redis.call('GET', k)
          end
          local max = tonumber(ARGV[bb + 3*j])
          if max >= 0 and tonumber(v) >= max then return {-1, j, v} end
        end
        for i = 1, n do
          local w = KEYS[2*i-1]; local s = KEYS[2*i]; local b = 5 + (i-1)*4
          local rpm = tonumber(ARGV[b+1]); local tpm = tonumber(ARGV[b+2]); local par = tonumber(ARGV[b+3])
          local start = tonumber(redis.call('HGET', w, 'start') or '-1')
          if start < 0 or now - start >= win then
            redis.call('HSET', w, 'start', now, 'requests', 0, 'tokens', 0)
            redis.call('PEXPIRE', w, win * 2)
            start = now
          end
          if par >= 0 then
            redis.call('ZREMRANGEBYSCORE', s, '-inf', now)
            if redis.call('ZCARD', s) + 1 > par then return {i, 3, 1000} end
          end
          if rpm >= 0 and tonumber(redis.call('HGET', w, 'requests')) + 1 > rpm then return {i, 1, start + win - now} end
          if tpm >= 0 and tonumber(redis.call('HGET', w, 'tokens')) >= tpm then return {i, 2, start + win - now} end
        end
        local out = {0}
        for i = 1, n do
          local w = KEYS[2*i-1]; local s = KEYS[2*i]; local b = 5 + (i-1)*4
          local req = redis.call('HINCRBY', w, 'requests', 1)
          local tok = redis.call('HINCRBY', w, 'tokens', tonumber(ARGV[b+4]))
          local inflight = 0
          if tonumber(ARGV[b+3]) >= 0 then
            redis.call('ZADD', s, now + lease, id)
            redis.call('PEXPIRE', s, lease * 4)
            inflight = redis.call('ZCARD', s)
          end
          table.insert(out, tonumber(redis.call('HGET', w, 'start')))
          table.insert(out, req); table.insert(out, tok); table.insert(out, inflight)
        end
        return out
        """;

    // A finished call: its parallel slots back (ZREM) and its token reservation corrected, in one round trip.
    // KEYS: slot sets (count in ARGV[1]) then windows; ARGV: slot count, lease id, per window (start, reserved), tokens.
    private const string FinishScript = """
        local ns = tonumber(ARGV[1]); local id = ARGV[2]; local actual = tonumber(ARGV[#ARGV])
        for i = 1, ns do redis.call('ZREM', KEYS[i], id) end
        for i = ns + 1, #KEYS do
          local j = i - ns
          local start = redis.call('HGET', KEYS[i], 'start')
          if start then
            local delta = actual
            if tonumber(start) == tonumber(ARGV[1 + 2*j]) then delta = actual - tonumber(ARGV[2 + 2*j]) end
            local t = redis.call('HINCRBY', KEYS[i], 'tokens', delta)
            if t < 0 then redis.call('HSET', KEYS[i], 'tokens', 0) end
          end
        end
        return 1
        """;

    // KEYS: window hashes. ARGV: per descriptor the window start at admission and the tokens reserved, then the real tokens.
    private const string SettleScript = """
        local actual = tonumber(ARGV[#ARGV])
        for i = 1, #KEYS do
          local start = redis.call('HGET', KEYS[i], 'start')
          if start then
            local delta = actual
            if tonumber(start) == tonumber(ARGV[2*i-1]) then delta = actual - tonumber(ARGV[2*i]) end
            local t = redis.call('HINCRBY', KEYS[i], 'tokens', delta)
            if t < 0 then redis.call('HSET', KEYS[i], 'tokens', 0) end
          end
        end
        return 1
        """;

    private readonly RedisLink _link;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<RedisLease, byte> _live = new();
    private readonly ITimer _renewal;

    public RedisRateLimiter(RedisLink link, TimeProvider time)
    {
        _link = link;
        _time = time;
        _renewal = time.CreateTimer(static s => _ = ((RedisRateLimiter)s!).RenewAsync(), this, LeaseLength / 3, LeaseLength / 3);
    }

    private readonly record struct Descriptor(string Name, string Value, RateLimits Limits, long Reserve);

    /// <summary>
    /// Admits the call in Redis, or returns its 429. Throws only when Redis is away (the caller then falls back to
    /// local counters).
    /// </summary>
    public async ValueTask<(RateLease? Lease, LlmError? Refusal)> TryAdmitAsync(string keyToken, RateLimits keyLimits, string? teamId, RateLimits teamLimits, long estimatedTokens, IReadOnlyList<RateDescriptor>? extra = null)
    {
        var (lease, refusal, _, _) = await TryAdmitAsync(keyToken, keyLimits, teamId, teamLimits, estimatedTokens, null, extra).ConfigureAwait(false);
        return (lease, refusal);
    }

    /// <summary>
    /// Admits a call after checking its budgets' shared spend counters in the same script (<paramref name="budgets"/>:
    /// counters with their budget; null checks none). <c>OverBudget</c> is the index of the first counter at or over
    /// its budget (then nothing was counted) and <c>Spend</c> its value; else -1 and the admission's answer.
    /// </summary>
    internal async ValueTask<(RateLease? Lease, LlmError? Refusal, int OverBudget, decimal Spend)> TryAdmitAsync(string keyToken, RateLimits keyLimits, string? teamId, RateLimits teamLimits, long estimatedTokens, RedisSpendCounters.BudgetedRead? budgets, IReadOnlyList<RateDescriptor>? extra = null)
    {
        var list = new List<Descriptor>(2 + (extra?.Count ?? 0));
        var reserve = Math.Max(0, estimatedTokens);
        if (keyLimits.Any) list.Add(new("api_key", keyToken, keyLimits, keyLimits.Tpm is null ? 0 : reserve));
        if (teamId is not null && teamLimits.Any) list.Add(new("team", teamId, teamLimits, teamLimits.Tpm is null ? 0 : reserve));
        if (extra is not null)
            foreach (var d in extra)
                if (d.Limits.Any) list.Add(new(d.Name, d.Value, d.Limits, d.Limits.Tpm is null ? 0 : reserve));
        if (list.Count == 0) return (RateLease.None, null, -1, 0);
        var now = _time.GetUtcNow();
        var nowMs = now.ToUnixTimeMilliseconds();
        var leaseId = Guid.NewGuid().ToString("N");
        var nb = budgets?.Keys.Length ?? 0;
        const int o = 5;
        var keys = new RedisKey[list.Count * 2 + nb];
        var args = new RedisValue[o + list.Count * 4 + nb * 3];
        args[0] = nowMs; args[1] = (long)RateWindow.Length.TotalMilliseconds; args[2] = (long)LeaseLength.TotalMilliseconds; args[3] = leaseId;
        args[4] = list.Count;
        for (var i = 0; i < list.Count; i++)
        {
            var d = list[i];
            keys[2 * i] = _link.Key($"rl:{d.Name}:{d.Value}");
            keys[2 * i + 1] = _link.Key($"rl:{d.Name}:{d.Value}:slots");
            args[o + 4 * i] = d.Limits.Rpm ?? -1;
            args[o + 1 + 4 * i] = d.Limits.Tpm ?? -1;
            args[o + 2 + 4 * i] = d.Limits.MaxParallel ?? -1;
            args[o + 3 + 4 * i] = d.Reserve;
        }
        if (budgets is { } b)
        {
            b.Keys.CopyTo(keys, list.Count * 2);
            b.Args.CopyTo(args, o + list.Count * 4);
        }
        var result = (RedisResult[])(await _link.Database.ScriptEvaluateAsync(AdmitScript, keys, args).ConfigureAwait(false))!;
        var refusedAt = (int)result[0];
        if (refusedAt < 0) return (null, null, (int)result[1] - 1, decimal.Parse((string)result[2]!, NumberStyles.Float, CultureInfo.InvariantCulture));
        if (refusedAt > 0)
        {
            var d = list[refusedAt - 1];
            var kind = (int)result[1];
            var left = TimeSpan.FromMilliseconds(Math.Max(0, (long)result[2]));
            return kind switch
            {
                3 => (null, GovernanceErrors.RateLimited(d.Name, d.Value, "max_parallel_requests", d.Limits.MaxParallel!.Value, 0, now + left, left), -1, 0),
                1 => (null, GovernanceErrors.RateLimited(d.Name, d.Value, "requests", d.Limits.Rpm!.Value, 0, now + left, left), -1, 0),
                _ => (null, GovernanceErrors.RateLimited(d.Name, d.Value, "tokens", d.Limits.Tpm!.Value, 0, now + left, left), -1, 0),
            };
        }
        var held = new RedisLease.Held[list.Count];
        for (var i = 0; i < list.Count; i++)
        {
            var d = list[i];
            held[i] = new RedisLease.Held(d.Name, d.Limits, keys[2 * i], keys[2 * i + 1], (long)result[1 + 4 * i], (long)result[2 + 4 * i], (long)result[3 + 4 * i], (long)result[4 + 4 * i], d.Reserve);
        }
        var lease = new RedisLease(this, leaseId, held);
        _live.TryAdd(lease, 0);
        return (lease, null, -1, 0);
    }

    private async Task RenewAsync()
    {
        if (_live.IsEmpty || !_link.Available) return;
        var until = (_time.GetUtcNow() + LeaseLength).ToUnixTimeMilliseconds();
        try
        {
            var batch = _link.Database.CreateBatch();
            var pending = new List<Task>();
            foreach (var (lease, _) in _live)
                foreach (var h in lease.Descriptors)
                    if (h.Limits.MaxParallel is not null) pending.Add(batch.SortedSetAddAsync(h.Slots, lease.Id, until, SortedSetWhen.Exists));
            batch.Execute();
            await Task.WhenAll(pending).ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisLink.IsOutage(ex))
        {
            _link.FellBack(ex);
        }
    }

    internal void Released(RedisLease lease)
    {
        _live.TryRemove(lease, out _);
        foreach (var h in lease.Descriptors)
            if (h.Limits.MaxParallel is not null)
                _ = Swallow(_link.Database.SortedSetRemoveAsync(h.Slots, lease.Id, CommandFlags.FireAndForget));
    }

    internal void Settled(RedisLease lease, long tokens)
    {
        var keys = new List<RedisKey>(lease.Descriptors.Length);
        var args = new List<RedisValue>(lease.Descriptors.Length * 2 + 1);
        foreach (var h in lease.Descriptors)
        {
            if (h.Limits.Tpm is null) continue;
            keys.Add(h.Window);
            args.Add(h.WindowStart);
            args.Add(h.Reserved);
        }
        if (keys.Count == 0) return;
        args.Add(tokens);
        _ = Swallow(_link.Database.ScriptEvaluateAsync(SettleScript, [.. keys], [.. args], CommandFlags.FireAndForget));
    }

    internal void Finished(RedisLease lease, long tokens)
    {
        _live.TryRemove(lease, out _);
        var slots = 0;
        var windows = 0;
        foreach (var h in lease.Descriptors)
        {
            if (h.Limits.MaxParallel is not null) slots++;
            if (h.Limits.Tpm is not null) windows++;
        }
        if (slots + windows == 0) return;
        var keys = new RedisKey[slots + windows];
        var args = new RedisValue[3 + windows * 2];
        args[0] = slots;
        args[1] = lease.Id;
        int s = 0, w = 0;
        foreach (var h in lease.Descriptors)
        {
            if (h.Limits.MaxParallel is not null) keys[s++] = h.Slots;
            if (h.Limits.Tpm is null) continue;
            keys[slots + w] = h.Window;
            args[2 + 2 * w] = h.WindowStart;
            args[3 + 2 * w] = h.Reserved;
            w++;
        }
        args[^1] = tokens;
        _ = Swallow(_link.Database.ScriptEvaluateAsync(FinishScript, keys, args, CommandFlags.FireAndForget));
    }

    private async Task Swallow(Task pending)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisLink.IsOutage(ex))
        {
            // A lost release is healed by the lease's expiry; a lost token correction by the window's end.
            _link.FellBack(ex);
        }
    }

    /// <summary>Calls this replica holds slots for in Redis (tests, diagnostics).</summary>
    public int LiveLeases => _live.Count;

    public void Dispose() => _renewal.Dispose();
}

/// <summary>One call's slots and reservation in Redis.</summary>
internal sealed class RedisLease(RedisRateLimiter owner, string id, RedisLease.Held[] descriptors) : RateLease
{
    internal readonly record struct Held(string Name, RateLimits Limits, RedisKey Window, RedisKey Slots, long WindowStart, long Requests, long Tokens, long InFlight, long Reserved);

    private int _released;
    private long _settledTokens = -1;

    public string Id { get; } = id;
    public Held[] Descriptors { get; } = descriptors;

    public override void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0) return;
        owner.Released(this);
    }

    public override void Settle(long tokens)
    {
        if (Interlocked.CompareExchange(ref _settledTokens, tokens, -1) != -1) return;
        owner.Settled(this, tokens);
    }

    public override void Finish(long tokens)
    {
        var settles = Interlocked.CompareExchange(ref _settledTokens, tokens, -1) == -1;
        var releases = Interlocked.Exchange(ref _released, 1) == 0;
        if (settles && releases) owner.Finished(this, tokens);
        else if (settles) owner.Settled(this, tokens);
        else if (releases) owner.Released(this);
    }

    /// <summary>The counters as the admission left them, corrected for this call's own release and real tokens.</summary>
    public override void WriteHeaders(List<KeyValuePair<string, string>> headers)
    {
        var released = Volatile.Read(ref _released) == 1;
        var settled = Interlocked.Read(ref _settledTokens);
        foreach (var h in Descriptors)
        {
            var tokens = settled >= 0 ? h.Tokens - h.Reserved + settled : h.Tokens;
            RateLimiter.WriteHeaders(h.Name, h.Limits, h.Requests, Math.Max(0, tokens), released ? Math.Max(0, h.InFlight - 1) : h.InFlight, headers);
        }
    }

    public override string ToString() => Id.ToString(CultureInfo.InvariantCulture);
}
