using LLMux.Governance.Auth;
using LLMux.Governance.Keys;
using LLMux.Governance.Limits;
using LLMux.Governance.Spend;
using LLMux.Governance.Storage;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;

namespace LLMux.Governance;

/// <summary>
/// Virtual keys, teams and users in one place for the host: authentication (master key or virtual key), the key
/// cache and its eviction, live spend, rate limits and the spend writer. One per process.
/// </summary>
public sealed class GovernanceService : IAsyncDisposable
{
    private readonly string _masterHash;

    public GovernanceService(IGovernanceStore store, GovernanceOptions options, TimeProvider time)
    {
        Store = store;
        Options = options;
        Time = time;
        _masterHash = VirtualKeys.Hash(options.MasterKey.Reveal());
        Cache = new KeyCache(time, options.KeyCacheTtl);
        Limiter = new RateLimiter(time);
        Ledger = new SpendLedger(time);
        Writer = new SpendWriter(store, time);
    }

    public IGovernanceStore Store { get; }
    public GovernanceOptions Options { get; }
    public TimeProvider Time { get; }
    public KeyCache Cache { get; }
    public RateLimiter Limiter { get; }
    public SpendLedger Ledger { get; }
    public SpendWriter Writer { get; }

    public string MasterKeyHash => _masterHash;

    /// <summary>
    /// Who presents <paramref name="presented"/>: the master key (admin), a valid virtual key, or the error to answer
    /// (LiteLLM's statuses). Warm path: one SHA-256 and one dictionary read. On a cache miss the store is read; the
    /// SQLite store answers synchronously, so this stays a plain call.
    /// </summary>
    public Caller? Authenticate(string? presented, out LlmError? error)
    {
        error = null;
        if (string.IsNullOrEmpty(presented)) { error = GovernanceErrors.NoKey(); return null; }
        var hash = VirtualKeys.Hash(presented);
        if (VirtualKeys.SameHash(hash, _masterHash)) return new Caller { KeyHash = hash, IsAdmin = true };
        if (!presented.StartsWith(VirtualKeys.Prefix, StringComparison.Ordinal)) { error = GovernanceErrors.NotVirtualKey(VirtualKeys.Masked(presented)); return null; }
        var grant = Grant(hash);
        if (grant is null || !VirtualKeys.SameHash(grant.Key.Token, hash)) { error = GovernanceErrors.UnknownKey(VirtualKeys.NameOf(presented)); return null; }
        var key = grant.Key;
        if (key.Blocked) { error = GovernanceErrors.KeyBlocked(); return null; }
        var now = Time.GetUtcNow();
        if (key.Expires is { } exp && exp <= now) { error = GovernanceErrors.Expired(exp, now); return null; }
        if (grant.Team is { Blocked: true } team) { error = GovernanceErrors.TeamBlocked(team.TeamId); return null; }
        return new Caller { KeyHash = hash, KeyAlias = key.KeyAlias, TeamId = key.TeamId, UserId = key.UserId };
    }

    /// <summary>The key with its team and user, from the cache or the store; null when the key does not exist.</summary>
    public KeyGrant? Grant(string token)
    {
        if (Cache.TryGet(token, out var cached)) return cached;
        var key = Sync(Store.FindKeyAsync(token));
        if (key is null) return null;
        var team = key.TeamId is { } t ? Sync(Store.FindTeamAsync(t)) : null;
        var user = key.UserId is { } u ? Sync(Store.FindUserAsync(u)) : null;
        var grant = new KeyGrant(key, team, user, Time.GetTimestamp());
        Cache.Put(token, grant);
        return grant;
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (Entities.Customer? Customer, long LoadedAt)> _customers = new(StringComparer.Ordinal);

    /// <summary>The end user named by a request's <c>user</c> field, if the admin created one (cached, absent ones too).</summary>
    public Entities.Customer? CustomerOf(string userId)
    {
        if (_customers.TryGetValue(userId, out var c) && Time.GetElapsedTime(c.LoadedAt) < Options.KeyCacheTtl) return c.Customer;
        var customer = Sync(Store.FindCustomerAsync(userId));
        // Bounded: a flood of distinct end-user ids must not grow the cache without end.
        if (_customers.Count > 100_000) _customers.Clear();
        _customers[userId] = (customer, Time.GetTimestamp());
        return customer;
    }

    public void EvictCustomer(string userId) => _customers.TryRemove(userId, out _);

    private static T Sync<T>(ValueTask<T> pending) => pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync() => await Writer.DisposeAsync().ConfigureAwait(false);
}
