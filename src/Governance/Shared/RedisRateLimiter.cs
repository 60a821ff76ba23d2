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
    private const string AdmitScriptText = """
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
    private const string FinishScriptText = """
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

    // A finished, priced call: FinishScript's work and the spend added to its budgets' counters, in one round trip.
    // KEYS: slot sets (ARGV[1] of them), windows (ARGV[3]), then spend counters. ARGV: slot count, lease id, window
    // count, per window (start, reserved), the real tokens, the amount, then per counter (seed, ttl ms). Returns the
    // counters' new values.
    private const string FinishSpendScriptText = """
        local ns = tonumber(ARGV[1]); local id = ARGV[2]; local nw = tonumber(ARGV[3])
        local actual = tonumber(ARGV[4 + 2*nw]); local amount = ARGV[5 + 2*nw]; local cb = 5 + 2*nw
        for i = 1, ns do redis.call('ZREM', KEYS[i], id) end
        for j = 1, nw do
          local w = KEYS[ns + j]
          local start = redis.call('HGET', w, 'start')
          if start then
            local delta = actual
            if tonumber(start) == tonumber(ARGV[2 + 2*j]) then delta = actual - tonumber(ARGV[3 + 2*j]) end
            local t = redis.call('HINCRBY', w, 'tokens', delta)
            if t < 0 then redis.call('HSET', w, 'tokens', 0) end
          end
        end
        local out = {}
        for c = 1, #KEYS - ns - nw do
          local k = KEYS[ns + nw + c]
          redis.call('SET', k, ARGV[cb + 2*c - 1], 'PX', ARGV[cb + 2*c], 'NX')
          out[c] = redis.call('INCRBYFLOAT', k, amount)
          redis.call('PEXPIRE', k, ARGV[cb + 2*c])
        end
        return out
        """;

    // KEYS: window hashes. ARGV: per descriptor the window start at admission and the tokens reserved, then the real tokens.
    private const string SettleScriptText = """
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

    private static readonly RedisScript AdmitScript = new(AdmitScriptText);
    private static readonly RedisScript FinishScript = new(FinishScriptText);
    private static readonly RedisScript FinishSpendScript = new(FinishSpendScriptText);
    private static readonly RedisScript SettleScript = new(SettleScriptText);


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

    // Each descriptor's two Redis keys, made once per key, team or end user (bounded: cleared past MaxCachedKeys).
    private const int MaxCachedKeys = 100_000;
    private readonly ConcurrentDictionary<(string Name, string Value), (RedisKey Window, RedisKey Slots)> _keys = new();
    // Lease ids: a random base per process and a counter (unique across replicas without a string per call).
    private readonly long _leaseBase = Random.Shared.NextInt64() & 0x3FFF_FFFF_FFFF_0000;
    private long _leaseSeq;

    private (RedisKey Window, RedisKey Slots) KeysOf(string name, string value)
    {
        if (_keys.TryGetValue((name, value), out var made)) return made;
        if (_keys.Count >= MaxCachedKeys) _keys.Clear();
        var window = _link.Key($"rl:{name}:{value}");
        made = (window, window + ":slots");
        _keys[(name, value)] = made;
        return made;
    }

    /// <summary>
    /// Admits the call in Redis, or returns its 429. Throws only when Redis is away (the caller then falls back to
    /// local counters).
    /// </summary>
    public async ValueTask<(RateLease? Lease, LlmError? Refusal)> TryAdmitAsync(string keyToken, RateLimits keyLimits, string? teamId, RateLimits teamLimits, long estimatedTokens, IReadOnlyList<RateDescriptor>? extra = null)
    {
        if (Prepare(keyToken, keyLimits, teamId, teamLimits, estimatedTokens, null, extra) is not { } pending) return (RateLease.None, null);
        var (lease, refusal, _, _) = Interpret(pending, await Send(pending).ConfigureAwait(false));
        return (lease, refusal);
    }

    /// <summary>
    /// A call's admission ready to send: its descriptors (counters to come from the answer), the script's keys and
    /// arguments, after the budgets' counters when <paramref name="budgets"/> is given. Null when no limit applies and
    /// no budget is checked.
    /// </summary>
    internal RedisLease? Prepare(string keyToken, RateLimits keyLimits, string? teamId, RateLimits teamLimits, long estimatedTokens, RedisSpendCounters.BudgetedRead? budgets, IReadOnlyList<RateDescriptor>? extra = null)
    {
        var n = (keyLimits.Any ? 1 : 0) + (teamId is not null && teamLimits.Any ? 1 : 0);
        if (extra is not null) foreach (var d in extra) if (d.Limits.Any) n++;
        var nb = budgets?.Keys.Length ?? 0;
        if (n == 0 && nb == 0) return null;
        var reserve = Math.Max(0, estimatedTokens);
        var held = new RedisLease.Held[n];
        var i = 0;
        if (keyLimits.Any) held[i++] = Describe("api_key", keyToken, keyLimits, reserve);
        if (teamId is not null && teamLimits.Any) held[i++] = Describe("team", teamId, teamLimits, reserve);
        if (extra is not null)
            foreach (var d in extra)
                if (d.Limits.Any) held[i++] = Describe(d.Name, d.Value, d.Limits, reserve);
        var now = _time.GetUtcNow();
        var id = _leaseBase + Interlocked.Increment(ref _leaseSeq);
        const int o = 5;
        var keys = new RedisKey[n * 2 + nb];
        var args = new RedisValue[o + n * 4 + nb * 3];
        args[0] = now.ToUnixTimeMilliseconds(); args[1] = (long)RateWindow.Length.TotalMilliseconds; args[2] = (long)LeaseLength.TotalMilliseconds; args[3] = id;
        args[4] = n;
        for (i = 0; i < n; i++)
        {
            ref readonly var d = ref held[i];
            keys[2 * i] = d.Window;
            keys[2 * i + 1] = d.Slots;
            args[o + 4 * i] = d.Limits.Rpm ?? -1;
            args[o + 1 + 4 * i] = d.Limits.Tpm ?? -1;
            args[o + 2 + 4 * i] = d.Limits.MaxParallel ?? -1;
            args[o + 3 + 4 * i] = d.Reserved;
        }
        if (budgets is { } b)
        {
            b.Keys.CopyTo(keys, n * 2);
            b.Args.CopyTo(args, o + n * 4);
        }
        return new RedisLease(this, id, held) { Now = now, ScriptKeys = keys, ScriptArgs = args };
    }

    private RedisLease.Held Describe(string name, string value, RateLimits limits, long reserve)
    {
        var (window, slots) = KeysOf(name, value);
        return new RedisLease.Held(name, value, limits, window, slots, 0, 0, 0, 0, limits.Tpm is null ? 0 : reserve);
    }

    /// <summary>Runs the admission script (throws when Redis is away).</summary>
    internal Task<RedisResult> Send(RedisLease pending) => _link.EvalAsync(AdmitScript, pending.ScriptKeys, pending.ScriptArgs);

    /// <summary>
    /// The script's answer: the lease (now holding its counters), or the 429, or <c>OverBudget</c>: the index of the
    /// first budget counter at or over its budget (then nothing was counted) with its spend; else -1.
    /// </summary>
    internal (RateLease? Lease, LlmError? Refusal, int OverBudget, decimal Spend) Interpret(RedisLease pending, RedisResult answer)
    {
        var result = (RedisResult[])answer!;
        pending.ScriptKeys = null;
        pending.ScriptArgs = null;
        var refusedAt = (int)result[0];
        if (refusedAt < 0) return (null, null, (int)result[1] - 1, decimal.Parse((string)result[2]!, NumberStyles.Float, CultureInfo.InvariantCulture));
        var held = pending.Descriptors;
        var now = pending.Now;
        if (refusedAt > 0)
        {
            var d = held[refusedAt - 1];
            var kind = (int)result[1];
            var left = TimeSpan.FromMilliseconds(Math.Max(0, (long)result[2]));
            return kind switch
            {
                3 => (null, GovernanceErrors.RateLimited(d.Name, d.Value, "max_parallel_requests", d.Limits.MaxParallel!.Value, 0, now + left, left), -1, 0),
                1 => (null, GovernanceErrors.RateLimited(d.Name, d.Value, "requests", d.Limits.Rpm!.Value, 0, now + left, left), -1, 0),
                _ => (null, GovernanceErrors.RateLimited(d.Name, d.Value, "tokens", d.Limits.Tpm!.Value, 0, now + left, left), -1, 0),
            };
        }
        if (held.Length == 0) return (RateLease.None, null, -1, 0);
        for (var i = 0; i < held.Length; i++)
            held[i] = held[i] with { WindowStart = (long)result[1 + 4 * i], Requests = (long)result[2 + 4 * i], Tokens = (long)result[3 + 4 * i], InFlight = (long)result[4 + 4 * i] };
        _live.TryAdd(pending, 0);
        return (pending, null, -1, 0);
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
        _ = Swallow(_link.EvalAsync(SettleScript, [.. keys], [.. args]));
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
        _ = Swallow(_link.EvalAsync(FinishScript, keys, args));
    }

    /// <summary>A lease finished together with its call's spend: its slots and windows, and its real tokens.</summary>
    internal readonly record struct Finishing(RedisLease Lease, long Tokens);

    /// <summary>
    /// Gives the slots back, corrects the tokens and adds <paramref name="add"/>'s amount to its counters in one script;
    /// returns the counters' new values when <paramref name="awaited"/> (else fire and forget, and a null task).
    /// </summary>
    internal Task<RedisResult> Finish(Finishing finishing, RedisSpendCounters.BudgetedRead add, bool awaited)
    {
        var lease = finishing.Lease;
        _live.TryRemove(lease, out _);
        int slots = 0, windows = 0;
        foreach (var h in lease.Descriptors)
        {
            if (h.Limits.MaxParallel is not null) slots++;
            if (h.Limits.Tpm is not null) windows++;
        }
        var keys = new RedisKey[slots + windows + add.Keys.Length];
        var args = new RedisValue[4 + windows * 2 + add.Args.Length];
        args[0] = slots;
        args[1] = lease.Id;
        args[2] = windows;
        int s = 0, w = 0;
        foreach (var h in lease.Descriptors)
        {
            if (h.Limits.MaxParallel is not null) keys[s++] = h.Slots;
            if (h.Limits.Tpm is null) continue;
            keys[slots + w] = h.Window;
            args[3 + 2 * w] = h.WindowStart;
            args[4 + 2 * w] = h.Reserved;
            w++;
        }
        args[3 + 2 * windows] = finishing.Tokens;
        add.Keys.CopyTo(keys, slots + windows);
        add.Args.CopyTo(args, 4 + 2 * windows);
        if (awaited) return _link.EvalAsync(FinishSpendScript, keys, args);
        _ = Swallow(_link.EvalAsync(FinishSpendScript, keys, args));
        return null!;
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
internal sealed class RedisLease(RedisRateLimiter owner, long id, RedisLease.Held[] descriptors) : RateLease
{
    internal readonly record struct Held(string Name, string Value, RateLimits Limits, RedisKey Window, RedisKey Slots, long WindowStart, long Requests, long Tokens, long InFlight, long Reserved);

    private int _released;
    private long _settledTokens = -1;

    public long Id { get; } = id;
    public Held[] Descriptors { get; } = descriptors;

    // While the admission is being sent: when it was made, and the script's keys and arguments.
    internal DateTimeOffset Now { get; init; }
    internal RedisKey[]? ScriptKeys { get; set; }
    internal RedisValue[]? ScriptArgs { get; set; }

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

    /// <summary>
    /// Finishes the lease as part of the call's after-call script (see <see cref="RedisRateLimiter.Finish"/>), when
    /// neither its release nor its settlement happened yet; null otherwise (then <see cref="Finish"/> is the way).
    /// </summary>
    internal RedisRateLimiter.Finishing? FinishWith(long tokens)
    {
        if (Volatile.Read(ref _released) != 0 || Interlocked.Read(ref _settledTokens) != -1) return null;
        if (Interlocked.CompareExchange(ref _settledTokens, tokens, -1) != -1) return null;
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            // Released meanwhile (a disconnect): only the settlement is left, through the usual path.
            owner.Settled(this, tokens);
            return null;
        }
        return new(this, tokens);
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
