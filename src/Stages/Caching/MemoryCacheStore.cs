namespace LLMux.Stages.Caching;

/// <summary>
/// The local cache: least-recently-used entries go first once either bound (<see cref="CacheSettings.MaxEntries"/>,
/// <see cref="CacheSettings.MaxBytes"/>) is passed; each entry expires after its TTL on the <see cref="TimeProvider"/>.
/// One lock, taken once per lookup or write (never per streamed chunk).
/// </summary>
public sealed class MemoryCacheStore(int maxEntries, long maxBytes, TimeProvider? time = null) : ICacheStore, ICacheAdmin
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedListNode<Slot>> _byKey = new(StringComparer.Ordinal);
    private readonly LinkedList<Slot> _lru = new();
    private long _bytes;

    private sealed record Slot(string Key, CacheEntry Entry, DateTimeOffset ExpiresAt);

    public MemoryCacheStore(CacheSettings settings, TimeProvider? time = null) : this(settings.MaxEntries, settings.MaxBytes, time) { }

    public int Count { get { lock (_lock) return _byKey.Count; } }
    public long Bytes { get { lock (_lock) return _bytes; } }

    public ValueTask<CacheEntry?> GetAsync(string key, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_byKey.TryGetValue(key, out var node)) return ValueTask.FromResult<CacheEntry?>(null);
            if (node.Value.ExpiresAt <= _time.GetUtcNow())
            {
                RemoveLocked(node);
                return ValueTask.FromResult<CacheEntry?>(null);
            }
            _lru.Remove(node);
            _lru.AddLast(node); // most recently used last
            return ValueTask.FromResult<CacheEntry?>(node.Value.Entry);
        }
    }

    public ValueTask SetAsync(string key, CacheEntry entry, TimeSpan ttl, CancellationToken cancellationToken)
    {
        if (entry.Size > maxBytes || ttl <= TimeSpan.Zero || maxEntries <= 0) return ValueTask.CompletedTask;
        lock (_lock)
        {
            if (_byKey.TryGetValue(key, out var old)) RemoveLocked(old);
            _byKey[key] = _lru.AddLast(new Slot(key, entry, _time.GetUtcNow() + ttl));
            _bytes += entry.Size;
            while (_lru.First is { } oldest && (_byKey.Count > maxEntries || _bytes > maxBytes)) RemoveLocked(oldest);
        }
        return ValueTask.CompletedTask;
    }

    public string CacheType => "local";

    public ValueTask PingAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask<long> DeleteAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        long removed = 0;
        lock (_lock)
        {
            foreach (var key in keys)
            {
                if (!_byKey.TryGetValue(key, out var node)) continue;
                RemoveLocked(node);
                removed++;
            }
        }
        return ValueTask.FromResult(removed);
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _byKey.Clear();
            _lru.Clear();
            _bytes = 0;
        }
        return ValueTask.CompletedTask;
    }

    private void RemoveLocked(LinkedListNode<Slot> node)
    {
        _byKey.Remove(node.Value.Key);
        _lru.Remove(node);
        _bytes -= node.Value.Entry.Size;
    }
}
