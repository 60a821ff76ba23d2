namespace LLMux.Governance.Storage;

/// <summary>
/// A store several processes share that can make a check and the write that follows it one step for all of them
/// (the guaranteed-throughput check of a key against its team's other keys, say). A store used by one process only
/// needs none: the admin API serialises those steps in process as well.
/// </summary>
public interface IGovernanceStoreLocks
{
    /// <summary>Waits until no other process holds the lock named <paramref name="name"/>, and holds it until the result is disposed.</summary>
    ValueTask<IAsyncDisposable> LockAsync(string name, CancellationToken cancellationToken = default);
}
