using LLMux.Governance.Storage;
using LLMux.Governance.Storage.Sqlite;

namespace LLMux.Host.Batches;

/// <summary>
/// The embedded batch store, opened only once there is something in it. A host that never takes a batch never loads
/// SQLite: no native library, no connection pool, no page cache (measured: ≈ 5 MB of idle RSS). While its file does not
/// exist there is no batch to find, list, lease or resume, so the answers are empty; the first batch created (or a
/// file another process created, seen at the next scan) opens and migrates it.
/// </summary>
internal sealed class DeferredSqliteBatchStore(string path) : IBatchStore
{
    private readonly Lock _gate = new();
    private volatile SqliteBatchStore? _store;

    /// <summary>Whether the store is open (tests, diagnostics).</summary>
    public bool IsOpen => _store is not null;

    private SqliteBatchStore Opened()
    {
        if (_store is { } open) return open;
        lock (_gate)
        {
            if (_store is { } raced) return raced;
            if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } dir) Directory.CreateDirectory(dir);
            var store = new SqliteBatchStore(path);
            store.MigrateAsync().AsTask().GetAwaiter().GetResult();
            return _store = store;
        }
    }

    /// <summary>The store when it is open or its file exists; null while there is nothing to read.</summary>
    private SqliteBatchStore? Existing() => _store ?? (File.Exists(path) ? Opened() : null);

    /// <summary>At start: an existing file is opened and migrated now (a broken one is a start-up error); a missing one waits.</summary>
    public ValueTask MigrateAsync(CancellationToken cancellationToken = default)
    {
        Existing();
        return ValueTask.CompletedTask;
    }

    public ValueTask InsertAsync(BatchRow row, CancellationToken cancellationToken = default) => Opened().InsertAsync(row, cancellationToken);

    public ValueTask<BatchRow?> FindAsync(string id, CancellationToken cancellationToken = default) =>
        Existing() is { } s ? s.FindAsync(id, cancellationToken) : new((BatchRow?)null);

    public ValueTask<IReadOnlyList<BatchRow>> ListAsync(string? owner, string? teamId, CancellationToken cancellationToken = default) =>
        Existing() is { } s ? s.ListAsync(owner, teamId, cancellationToken) : new((IReadOnlyList<BatchRow>)[]);

    public ValueTask<IReadOnlyList<string>> RunnableAsync(long nowMs, int limit, CancellationToken cancellationToken = default) =>
        Existing() is { } s ? s.RunnableAsync(nowMs, limit, cancellationToken) : new((IReadOnlyList<string>)[]);

    public ValueTask<bool> TryLeaseAsync(string id, string holder, long nowMs, long untilMs, CancellationToken cancellationToken = default) =>
        Existing() is { } s ? s.TryLeaseAsync(id, holder, nowMs, untilMs, cancellationToken) : new(false);

    public ValueTask<(bool Saved, long? CancelRequestedAt)> SaveAsync(string id, string holder, string status, string state, CancellationToken cancellationToken = default) =>
        Existing() is { } s ? s.SaveAsync(id, holder, status, state, cancellationToken) : new((false, null));

    public ValueTask ReleaseAsync(string id, string holder, CancellationToken cancellationToken = default) =>
        Existing() is { } s ? s.ReleaseAsync(id, holder, cancellationToken) : ValueTask.CompletedTask;

    public ValueTask<bool> RequestCancelAsync(string id, long at, CancellationToken cancellationToken = default) =>
        Existing() is { } s ? s.RequestCancelAsync(id, at, cancellationToken) : new(false);
}
