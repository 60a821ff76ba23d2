namespace LLMux.Stages.Caching;

/// <summary>
/// Where cached answers live. Keys are already tenant-scoped and namespaced (<see cref="CacheKeys"/>); a store only
/// keeps bytes for a time. <see cref="MemoryCacheStore"/> is the in-process default; a Redis store implements the same
/// two calls (<c>GET</c>, <c>SET … PX</c>). A store that cannot answer (Redis down) returns a miss and drops the write —
/// it never fails the request.
/// </summary>
public interface ICacheStore
{
    ValueTask<CacheEntry?> GetAsync(string key, CancellationToken cancellationToken);
    ValueTask SetAsync(string key, CacheEntry entry, TimeSpan ttl, CancellationToken cancellationToken);
}
