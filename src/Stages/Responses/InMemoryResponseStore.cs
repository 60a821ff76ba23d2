namespace LLMux.Stages.Responses;

/// <summary>
/// The default response store: bounded by count, bytes and age (see <see cref="ResponseStoreOptions"/>), oldest
/// evicted first. One lock; the store is touched once per request, never per streamed event.
/// </summary>
public sealed class InMemoryResponseStore(ResponseStoreOptions options, TimeProvider? time = null) : IResponseStore
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedListNode<Entry>> _byId = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _order = new();
    /// <summary>Item id → the response holding it, for item_reference.</summary>
    private readonly Dictionary<string, string> _items = new(StringComparer.Ordinal);
    private long _bytes;

    private sealed record Entry(StoredResponse Response, DateTimeOffset ExpiresAt, string[] ItemIds);

    public int Count { get { lock (_lock) return _byId.Count; } }

    public ValueTask PutAsync(StoredResponse response, CancellationToken cancellationToken)
    {
        if (response.Size > options.MaxBytes) return ValueTask.CompletedTask; // larger than the whole store: not kept
        var itemIds = StoredItems.Ids(response.InputItems, response.OutputItems);
        lock (_lock)
        {
            RemoveLocked(response.Id);
            var node = _order.AddLast(new Entry(response, _time.GetUtcNow() + options.TimeToLive, itemIds));
            _byId[response.Id] = node;
            foreach (var itemId in itemIds) _items[itemId] = response.Id;
            _bytes += response.Size;
            while (_order.First is { } oldest && (_byId.Count > options.MaxResponses || _bytes > options.MaxBytes)) RemoveLocked(oldest.Value.Response.Id);
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask<StoredResponse?> GetAsync(string owner, string id, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_byId.TryGetValue(id, out var node)) return ValueTask.FromResult<StoredResponse?>(null);
            if (node.Value.ExpiresAt <= _time.GetUtcNow()) { RemoveLocked(id); return ValueTask.FromResult<StoredResponse?>(null); }
            return ValueTask.FromResult(node.Value.Response.Owner == owner ? node.Value.Response : null);
        }
    }

    public ValueTask<bool> DeleteAsync(string owner, string id, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_byId.TryGetValue(id, out var node) || node.Value.Response.Owner != owner) return ValueTask.FromResult(false);
            var live = node.Value.ExpiresAt > _time.GetUtcNow();
            RemoveLocked(id);
            return ValueTask.FromResult(live);
        }
    }

    public ValueTask<byte[]?> GetItemAsync(string owner, string itemId, CancellationToken cancellationToken)
    {
        StoredResponse? holder = null;
        lock (_lock)
        {
            if (_items.TryGetValue(itemId, out var responseId) && _byId.TryGetValue(responseId, out var node)
                && node.Value.ExpiresAt > _time.GetUtcNow() && node.Value.Response.Owner == owner)
                holder = node.Value.Response;
        }
        return ValueTask.FromResult(holder is null ? null : StoredItems.Find(holder, itemId));
    }

    private void RemoveLocked(string id)
    {
        if (!_byId.Remove(id, out var node)) return;
        foreach (var itemId in node.Value.ItemIds)
            if (_items.TryGetValue(itemId, out var holder) && holder == id) _items.Remove(itemId);
        _order.Remove(node);
        _bytes -= node.Value.Response.Size;
    }
}
