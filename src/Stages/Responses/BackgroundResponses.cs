using System.Collections.Concurrent;

namespace LLMux.Stages.Responses;

/// <summary>
/// The bridged <c>background: true</c> responses still running in this process: each one's cancellation (its
/// upstream call is cancelled with it) and who settles it. Exactly one of the run (completed, incomplete, failed)
/// and <c>POST /cancel</c> (cancelled) writes the final state into the store.
/// </summary>
public sealed class BackgroundResponses
{
    private readonly ConcurrentDictionary<string, Run> _runs = new(StringComparer.Ordinal);

    public int Count => _runs.Count;

    /// <summary>One background response while it runs.</summary>
    public sealed class Run(string id, string owner) : IDisposable
    {
        private int _settled;
        private readonly CancellationTokenSource _cancellation = new();

        public string Id { get; } = id;
        public string Owner { get; } = owner;
        public CancellationToken Token => _cancellation.Token;
        /// <summary>The response's id, time and request echo (its queued, cancelled or failed objects are written from it).</summary>
        public ResponseShape? Shape { get; set; }
        public byte[] InputItems { get; set; } = [];

        /// <summary>True for the one caller allowed to write the final state.</summary>
        public bool TrySettle() => Interlocked.Exchange(ref _settled, 1) == 0;

        public void Cancel()
        {
            try { _cancellation.Cancel(); }
            catch (ObjectDisposedException) { }
        }

        public void Dispose() => _cancellation.Dispose();
    }

    public Run Start(string id, string owner)
    {
        var run = new Run(id, owner);
        _runs[id] = run;
        return run;
    }

    /// <summary>The running response <paramref name="id"/> of <paramref name="owner"/>, or null.</summary>
    public Run? Find(string owner, string id) => _runs.TryGetValue(id, out var run) && run.Owner == owner ? run : null;

    public void Finish(Run run)
    {
        _runs.TryRemove(new KeyValuePair<string, Run>(run.Id, run));
        run.Dispose();
    }

    /// <summary>Host shutdown: every run's upstream call is cancelled.</summary>
    public void CancelAll()
    {
        foreach (var run in _runs.Values) run.Cancel();
    }
}
