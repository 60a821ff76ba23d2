namespace LLMux.Governance.Storage;

/// <summary>
/// One batch of the Batches API as the store keeps it: who owns it (for listing and ownership checks), its status,
/// its whole state as JSON (the batch object plus what the gateway needs to run it), a cancel request (set by whichever
/// replica received <c>POST /v1/batches/{id}/cancel</c>), and the lease of the replica that runs it.
/// </summary>
public sealed record BatchRow
{
    public required string Id { get; init; }
    /// <summary>The owner scope of the key that created it (a key hash, never a raw key).</summary>
    public required string Owner { get; init; }
    public string? TeamId { get; init; }
    /// <summary>Unix seconds.</summary>
    public required long CreatedAt { get; init; }
    public required string Status { get; init; }
    /// <summary>The batch's state as JSON (opaque to the store).</summary>
    public required string State { get; init; }
    /// <summary>Unix seconds of the first cancel request; null when none.</summary>
    public long? CancelRequestedAt { get; init; }
    /// <summary>The replica that holds the lease (null: none).</summary>
    public string? LeaseHolder { get; init; }
    /// <summary>Unix milliseconds at which the lease lapses unless renewed.</summary>
    public long LeaseUntil { get; init; }
}

/// <summary>
/// Where the Batches API keeps its batches, so that several replicas share them: any replica answers for any batch,
/// and exactly one runs each unfinished batch at a time — the one holding its lease, which it renews while it runs
/// and which another replica may take once it has lapsed (the runner died). Every call is one statement or one
/// transaction. Tables are created by the governance store's migrations (step 4), so one <c>MigrateAsync</c> sets up both.
/// </summary>
public interface IBatchStore
{
    ValueTask MigrateAsync(CancellationToken cancellationToken = default);

    /// <summary>Adds a new batch (no lease).</summary>
    ValueTask InsertAsync(BatchRow row, CancellationToken cancellationToken = default);

    ValueTask<BatchRow?> FindAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Batches of <paramref name="owner"/> or of <paramref name="teamId"/>; both null: all. Newest first.</summary>
    ValueTask<IReadOnlyList<BatchRow>> ListAsync(string? owner, string? teamId, CancellationToken cancellationToken = default);

    /// <summary>Ids of unfinished batches that no replica holds (no lease, or one lapsed before <paramref name="nowMs"/>), oldest first.</summary>
    ValueTask<IReadOnlyList<string>> RunnableAsync(long nowMs, int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes (or renews) the lease of an unfinished batch for <paramref name="holder"/> until <paramref name="untilMs"/>:
    /// true when it was free, lapsed, or already <paramref name="holder"/>'s.
    /// </summary>
    ValueTask<bool> TryLeaseAsync(string id, string holder, long nowMs, long untilMs, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes the batch's status and state, only while <paramref name="holder"/> holds its lease. Returns whether it
    /// did, and the cancel request time (another replica may have asked for a cancel since).
    /// </summary>
    ValueTask<(bool Saved, long? CancelRequestedAt)> SaveAsync(string id, string holder, string status, string state, CancellationToken cancellationToken = default);

    /// <summary>Gives the lease up (a stopping replica): another replica may take the batch at once.</summary>
    ValueTask ReleaseAsync(string id, string holder, CancellationToken cancellationToken = default);

    /// <summary>Records a cancel request; false when the batch has already ended.</summary>
    ValueTask<bool> RequestCancelAsync(string id, long at, CancellationToken cancellationToken = default);
}
