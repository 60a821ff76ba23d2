using System.Collections.Concurrent;

namespace LLMux.Governance.Auth;

/// <summary>
/// Key lookups held in process for <see cref="Ttl"/> (warm path: no store round trip). Every admin change on this
/// replica evicts what it touched at once; the TTL only bounds how stale another writer's change can be.
/// </summary>
public sealed class KeyCache(TimeProvider time, TimeSpan ttl)
{
    private readonly ConcurrentDictionary<string, KeyGrant> _byToken = new(StringComparer.Ordinal);

    public TimeSpan Ttl { get; } = ttl;

    public bool TryGet(string token, out KeyGrant grant)
    {
        if (_byToken.TryGetValue(token, out grant!) && time.GetElapsedTime(grant.LoadedAt) < Ttl) return true;
        grant = null!;
        return false;
    }

    public void Put(string token, KeyGrant grant) => _byToken[token] = grant;

    public void EvictKey(string token) => _byToken.TryRemove(token, out _);

    /// <summary>Evicts every cached key of a team (its models, limits or blocked flag changed).</summary>
    public void EvictTeam(string teamId)
    {
        foreach (var (token, g) in _byToken) if (g.Key.TeamId == teamId || g.Team?.TeamId == teamId) _byToken.TryRemove(token, out _);
    }

    public void EvictUser(string userId)
    {
        foreach (var (token, g) in _byToken) if (g.Key.UserId == userId) _byToken.TryRemove(token, out _);
    }

    public int Count => _byToken.Count;
}
