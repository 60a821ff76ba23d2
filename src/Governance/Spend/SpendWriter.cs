using System.Threading.Channels;
using LLMux.Governance.Entities;
using LLMux.Governance.Storage;

namespace LLMux.Governance.Spend;

/// <summary>
/// Spend rows and budget resets, off the request path: a bounded channel drained by one writer in transactions of up
/// to <see cref="BatchSize"/> rows. Full-queue policy: the caller writes its own row to the store (backpressure,
/// counted in <see cref="Overflowed"/>), so a row is never dropped. A failed batch is kept and retried with backoff
/// (counted in <see cref="Failures"/>) until the store takes it; disposing drains everything queued.
/// </summary>
public sealed class SpendWriter : IAsyncDisposable
{
    public const int BatchSize = 500;

    private readonly IGovernanceStore _store;
    private readonly TimeProvider _time;
    private readonly Channel<Work> _channel;
    private readonly Task _loop;
    private long _written, _overflowed, _failures;

    private abstract record Work;
    private sealed record RowWork(SpendRow Row) : Work;
    private sealed record ResetWork(BudgetScope Scope, string Id, DateTimeOffset Due, DateTimeOffset Next) : Work;
    private sealed record FlushWork(TaskCompletionSource Done) : Work;

    public SpendWriter(IGovernanceStore store, TimeProvider time, int capacity = 10_000)
    {
        _store = store;
        _time = time;
        _channel = Channel.CreateBounded<Work>(new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _loop = Task.Run(LoopAsync);
    }

    public long Written => Interlocked.Read(ref _written);
    public long Overflowed => Interlocked.Read(ref _overflowed);
    public long Failures => Interlocked.Read(ref _failures);

    public void Enqueue(SpendRow row)
    {
        if (_channel.Writer.TryWrite(new RowWork(row))) return;
        Interlocked.Increment(ref _overflowed);
        // Queue full (or closing): write it here, so the row is not lost.
        _store.WriteSpendAsync([row]).AsTask().GetAwaiter().GetResult();
        Interlocked.Increment(ref _written);
    }

    public void EnqueueReset(BudgetScope scope, string id, DateTimeOffset due, DateTimeOffset next)
    {
        if (!_channel.Writer.TryWrite(new ResetWork(scope, id, due, next)))
            _store.ResetBudgetAsync(scope, id, due, next).AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Completes once everything queued before the call is in the store.</summary>
    public Task FlushAsync()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_channel.Writer.TryWrite(new FlushWork(done))) return _channel.Writer.WriteAsync(new FlushWork(done)).AsTask().ContinueWith(_ => done.Task).Unwrap();
        return done.Task;
    }

    private async Task LoopAsync()
    {
        var reader = _channel.Reader;
        var rows = new List<SpendRow>(BatchSize);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var work))
            {
                switch (work)
                {
                    case RowWork r:
                        rows.Add(r.Row);
                        if (rows.Count >= BatchSize) await WriteAsync(rows).ConfigureAwait(false);
                        break;
                    case ResetWork z:
                        await WriteAsync(rows).ConfigureAwait(false);
                        await RetryAsync(() => _store.ResetBudgetAsync(z.Scope, z.Id, z.Due, z.Next).AsTask()).ConfigureAwait(false);
                        break;
                    case FlushWork f:
                        await WriteAsync(rows).ConfigureAwait(false);
                        f.Done.TrySetResult();
                        break;
                }
            }
            await WriteAsync(rows).ConfigureAwait(false);
        }
        await WriteAsync(rows).ConfigureAwait(false);
    }

    private async Task WriteAsync(List<SpendRow> rows)
    {
        if (rows.Count == 0) return;
        var batch = rows.ToArray();
        rows.Clear();
        await RetryAsync(() => _store.WriteSpendAsync(batch).AsTask()).ConfigureAwait(false);
        Interlocked.Add(ref _written, batch.Length);
    }

    private async Task RetryAsync(Func<Task> write)
    {
        var delay = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            try
            {
                await write().ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (ex is Microsoft.Data.Sqlite.SqliteException or InvalidOperationException or IOException or TimeoutException)
            {
                // The store is away: keep the batch and try again (requests are not held up; the queue is bounded).
                Interlocked.Increment(ref _failures);
                await Task.Delay(delay, _time).ConfigureAwait(false);
                if (delay < TimeSpan.FromSeconds(5)) delay *= 2;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }
}
