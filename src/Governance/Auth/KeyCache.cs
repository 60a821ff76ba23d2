using System.Collections.Concurrent;
using LLMux.Governance.Entities;

namespace LLMux.Governance.Auth;

/// <summary>
/// Key lookups held in process for <see cref="Ttl"/> (warm path: no store round trip). Every admin change on this
/// replica evicts what it touched at once; the TTL only bounds how stale another writer's change can be.
/// </summary>
public sealed class KeyCache(TimeProvider time, TimeSpan ttl)
{
    private readonly ConcurrentDictionary<string, KeyGrant> _byToken = new(StringComparer.Ordinal);
    // Old key hash → the key that replaced it, while the old one is in its grace period (regenerated keys).
    private readonly ConcurrentDictionary<string, (DeprecatedKey Key, long LoadedAt)> _successors = new(StringComparer.Ordinal);

    // Hashes the store answered "no such key" for (nor an old key in its grace period): a client sending a wrong or
    // revoked key over and over costs one pair of store lookups per Ttl, not one per request. Creating the key evicts
    // its hash here and, through Redis, on every replica.
    private readonly ConcurrentDictionary<string, long> _unknown = new(StringComparer.Ordinal);

    public TimeSpan Ttl { get; } = ttl;

    // Counts evictions. A lookup notes it before reading the store and caches its answer only if no eviction came in
    // between: else an answer read before a change (a key blocked, deleted or created on this or another replica) would
    // be cached after that change's eviction, and be served for a whole TTL.
    private long _generation;

    /// <summary>The eviction count, to pass to <see cref="Put(string, KeyGrant, long)"/> and the like as read before the store lookup.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    // An entry put for a lookup that began at generation `since`: taken back when an eviction came after `since`. An
    // eviction counts itself before it removes anything, so an entry put meanwhile is either seen here or removed there.
    private static void Settle<TValue>(ConcurrentDictionary<string, TValue> map, string token, TValue value, long since, long now)
    {
        if (now != since) map.TryRemove(KeyValuePair.Create(token, value));
    }

    /// <summary>Whether the store said, less than <see cref="Ttl"/> ago, that no key has this hash.</summary>
    public bool IsUnknown(string token)
    {
        if (!_unknown.TryGetValue(token, out var at)) return false;
        if (time.GetElapsedTime(at) < Ttl) return true;
        _unknown.TryRemove(token, out _);
        return false;
    }

    /// <summary>Remembers that no key has this hash (bounded: a flood of made-up keys clears the table, it does not grow it).</summary>
    public void PutUnknown(string token) => PutUnknown(token, Generation);

    /// <summary>As <see cref="PutUnknown(string)"/>, for a lookup that began at <paramref name="since"/> (<see cref="Generation"/>).</summary>
    public void PutUnknown(string token, long since)
    {
        if (_unknown.Count >= 100_000) _unknown.Clear();
        var at = time.GetTimestamp();
        _unknown[token] = at;
        Settle(_unknown, token, at, since, Generation);
    }

    /// <summary>
    /// The key an old key hash authenticates as, while its grace period runs at <paramref name="now"/>: from the cache
    /// for <see cref="Ttl"/> (<paramref name="stale"/>: however old, the store being away). An entry whose grace has
    /// ended is dropped.
    /// </summary>
    public bool TryGetSuccessor(string token, DateTimeOffset now, out DeprecatedKey successor, bool stale = false)
    {
        if (_successors.TryGetValue(token, out var entry))
        {
            if (now >= entry.Key.RevokeAt) _successors.TryRemove(token, out _);
            else if (stale || time.GetElapsedTime(entry.LoadedAt) < Ttl) { successor = entry.Key; return true; }
        }
        successor = null!;
        return false;
    }

    public void PutSuccessor(DeprecatedKey successor) => PutSuccessor(successor, Generation);

    /// <summary>As <see cref="PutSuccessor(DeprecatedKey)"/>, for a lookup that began at <paramref name="since"/>.</summary>
    public void PutSuccessor(DeprecatedKey successor, long since)
    {
        // Bounded like the hash table: a flood of rotations must not grow it without end.
        if (_successors.Count >= 50_000) _successors.Clear();
        var entry = (successor, time.GetTimestamp());
        _successors[successor.Token] = entry;
        Settle(_successors, successor.Token, entry, since, Generation);
    }

    public bool TryGet(string token, out KeyGrant grant)
    {
        if (_byToken.TryGetValue(token, out grant!) && time.GetElapsedTime(grant.LoadedAt) < Ttl) return true;
        grant = null!;
        return false;
    }

    /// <summary>The last grant read, however old (the store is away: a known key keeps working, LiteLLM's <c>allow_requests_on_db_unavailable</c>).</summary>
    public bool TryGetStale(string token, out KeyGrant grant) => _byToken.TryGetValue(token, out grant!);

    public void Put(string token, KeyGrant grant) => Put(token, grant, Generation);

    /// <summary>Caches a grant read by a lookup that began at <paramref name="since"/> (<see cref="Generation"/>), unless an eviction came since.</summary>
    public void Put(string token, KeyGrant grant, long since)
    {
        _byToken[token] = grant;
        Settle(_byToken, token, grant, since, Generation);
    }

    /// <summary>Told of every eviction made here (kind <c>key</c>, <c>team</c> or <c>user</c>, and the id), to pass it on to the other replicas.</summary>
    public Action<string, string>? Evicted { get; set; }

    /// <summary>
    /// Evicts a key, and every old key in its grace that authenticates as it (deleted, blocked or regenerated again);
    /// also what a replica remembers of its hash being unknown, so a host that creates keys in the store itself calls
    /// this with the new key's hash.
    /// </summary>
    public void EvictKey(string token)
    {
        RemoveKey(token);
        Evicted?.Invoke("key", token);
    }

    /// <summary>Evicts every cached key of a team (its models, limits or blocked flag changed).</summary>
    public void EvictTeam(string teamId)
    {
        RemoveTeam(teamId);
        Evicted?.Invoke("team", teamId);
    }

    public void EvictUser(string userId)
    {
        RemoveUser(userId);
        Evicted?.Invoke("user", userId);
    }

    /// <summary>An eviction another replica made: applied here only, not passed on.</summary>
    public void EvictLocal(string kind, string id)
    {
        switch (kind)
        {
            case "key": RemoveKey(id); break;
            case "team": RemoveTeam(id); break;
            case "user": RemoveUser(id); break;
            case "budget": RemoveBudget(id); break;
        }
    }

    private void RemoveKey(string token)
    {
        Interlocked.Increment(ref _generation);
        _byToken.TryRemove(token, out _);
        _unknown.TryRemove(token, out _);
        if (_successors.IsEmpty) return;
        foreach (var (old, entry) in _successors) if (old == token || entry.Key.ActiveToken == token) _successors.TryRemove(old, out _);
    }

    private void RemoveTeam(string teamId)
    {
        Interlocked.Increment(ref _generation);
        foreach (var (token, g) in _byToken) if (g.Key.TeamId == teamId || g.Team?.TeamId == teamId) _byToken.TryRemove(token, out _);
    }

    /// <summary>Evicts every cached key that links to a budget table row (its limits changed).</summary>
    public void EvictBudget(string budgetId)
    {
        RemoveBudget(budgetId);
        Evicted?.Invoke("budget", budgetId);
    }

    private void RemoveBudget(string budgetId)
    {
        Interlocked.Increment(ref _generation);
        foreach (var (token, g) in _byToken) if (g.Key.BudgetId == budgetId) _byToken.TryRemove(token, out _);
    }

    private void RemoveUser(string userId)
    {
        Interlocked.Increment(ref _generation);
        foreach (var (token, g) in _byToken) if (g.Key.UserId == userId) _byToken.TryRemove(token, out _);
    }

    public int Count => _byToken.Count;
}
