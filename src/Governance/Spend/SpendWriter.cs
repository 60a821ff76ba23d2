using System.Data.Common;
using System.Net.Sockets;
using System.Threading.Channels;
using LLMux.Governance.Entities;
using LLMux.Governance.Storage;

namespace LLMux.Governance.Spend;

/// <summary>
/// Spend rows and budget resets, off the request path: a bounded channel drained by one writer in transactions of up
/// to <see cref="BatchSize"/> rows. A failed batch is kept and retried with backoff (counted in <see cref="Failures"/>)
/// until the store takes it. Full-queue policy: with a spill directory (always with PostgreSQL) the row is appended to
/// a local file (<see cref="Spill"/>; counted in <see cref="Spilled"/>) and written once the store answers again, so
/// no request thread ever waits on the database; without one the caller writes its own row (backpressure, counted in
/// <see cref="Overflowed"/>). Either way a row is never dropped. Disposing (SIGTERM) drains what is queued; if the
/// store is still away after <see cref="StopGrace"/>, what is left goes to the spill file for the next start.
/// </summary>
public sealed class SpendWriter : IAsyncDisposable
{
    public const int BatchSize = 500;
    /// <summary>
    /// How long the writer lets rows gather after the first one arrives, so a busy gateway writes one transaction per
    /// <see cref="Linger"/> instead of one per row (a transaction costs far more than a row). <see cref="FlushAsync"/>
    /// and stopping cut it short.
    /// </summary>
    public static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(50);
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);

    private readonly IGovernanceStore _store;
    private readonly TimeProvider _time;
    // Rows go in as they are (no wrapper per call); resets and flushes as Work.
    private readonly Channel<object> _channel;
    private readonly SpendSpill? _spill;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly SemaphoreSlim _kick = new(0);
    private long _written, _overflowed, _failures, _spilled;
    // The batch the loop is handing the store (its rows are still in the loop's list): spilled under its mark on a stop.
    private SpendBatch? _trying;

    private abstract record Work;
    private sealed record ResetWork(BudgetScope Scope, string Id, DateTimeOffset Due, DateTimeOffset Next) : Work;
    private sealed record FlushWork(TaskCompletionSource Done) : Work;

    public SpendWriter(IGovernanceStore store, TimeProvider time, int capacity = 10_000, string? spillDirectory = null)
    {
        _store = store;
        _time = time;
        _spill = spillDirectory is null ? null : new SpendSpill(spillDirectory);
        _channel = Channel.CreateBounded<object>(new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _loop = Task.Run(LoopAsync);
    }

    public long Written => Interlocked.Read(ref _written);
    public long Overflowed => Interlocked.Read(ref _overflowed);
    public long Failures => Interlocked.Read(ref _failures);
    public long Spilled => Interlocked.Read(ref _spilled);
    public SpendSpill? Spill => _spill;

    public void Enqueue(SpendRow row)
    {
        if (_channel.Writer.TryWrite(row)) return;
        Interlocked.Increment(ref _overflowed);
        if (_spill is not null)
        {
            _spill.Append([row]);
            Interlocked.Increment(ref _spilled);
            return;
        }
        // Queue full (or closing), no spill file: write it here, so the row is not lost.
        _store.WriteSpendAsync([row]).AsTask().GetAwaiter().GetResult();
        Interlocked.Increment(ref _written);
    }

    public void EnqueueReset(BudgetScope scope, string id, DateTimeOffset due, DateTimeOffset next)
    {
        // A per-model budget has no row to reset: its window is computed, its spend summed from the logs.
        if (scope is BudgetScope.KeyModel or BudgetScope.TeamModel or BudgetScope.UserModel or BudgetScope.CustomerModel) return;
        // A reset that cannot be queued is dropped: the next check that finds the window over queues it again.
        _channel.Writer.TryWrite(new ResetWork(scope, id, due, next));
    }

    /// <summary>Completes once everything queued before the call is in the store.</summary>
    public Task FlushAsync()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_channel.Writer.TryWrite(new FlushWork(done)))
            return _channel.Writer.WriteAsync(new FlushWork(done)).AsTask().ContinueWith(_ => { Kick(); return done.Task; }, TaskScheduler.Default).Unwrap();
        Kick();
        return done.Task;
    }

    private void Kick()
    {
        if (_kick.CurrentCount == 0) _kick.Release();
    }

    /// <summary>Waits <see cref="Linger"/> for more rows, unless a batch is already full or a flush (or stop) asks for them now.</summary>
    private async Task LingerAsync(ChannelReader<object> reader)
    {
        if (reader.Count >= BatchSize || _kick.Wait(0)) return;
        using var done = new CancellationTokenSource();
        var kicked = _kick.WaitAsync(done.Token);
        var delay = Task.Delay(Linger, _time, done.Token);
        var first = await Task.WhenAny(kicked, delay).ConfigureAwait(false);
        await done.CancelAsync().ConfigureAwait(false);
        // A kick that lost the race to the delay stays counted for the next linger; the cancelled wait took nothing.
        if (first == delay) await kicked.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
    }

    private async Task LoopAsync()
    {
        var reader = _channel.Reader;
        var rows = new List<SpendRow>(BatchSize);
        try
        {
            // Rows a previous run (or another replica on this machine) could not write.
            await DrainSpillAsync().ConfigureAwait(false);
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                await LingerAsync(reader).ConfigureAwait(false);
                while (reader.TryRead(out var work))
                {
                    switch (work)
                    {
                        case SpendRow r:
                            rows.Add(r);
                            if (rows.Count >= BatchSize) await WriteAsync(rows).ConfigureAwait(false);
                            break;
                        case ResetWork z:
                            await WriteAsync(rows).ConfigureAwait(false);
                            await ResetAsync(z).ConfigureAwait(false);
                            break;
                        case FlushWork f:
                            await WriteAsync(rows).ConfigureAwait(false);
                            await DrainSpillAsync().ConfigureAwait(false);
                            f.Done.TrySetResult();
                            break;
                    }
                }
                await WriteAsync(rows).ConfigureAwait(false);
                if (_spill is { HasRows: true }) await DrainSpillAsync().ConfigureAwait(false);
            }
            await WriteAsync(rows).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Stopping with the store away: keep everything for the next start.
            while (reader.TryRead(out var work))
            {
                if (work is SpendRow r) rows.Add(r);
                else if (work is FlushWork f) f.Done.TrySetResult();
            }
            if (_spill is not null)
            {
                // The batch being tried keeps its mark (the store may have committed it without answering); the rest was never tried.
                if (_trying is { } tried)
                {
                    _spill.Append(tried, tried.Mark);
                    Interlocked.Add(ref _spilled, tried.Count);
                    rows.RemoveRange(0, tried.Count);
                }
                if (rows.Count > 0)
                {
                    _spill.Append(rows);
                    Interlocked.Add(ref _spilled, rows.Count);
                }
            }
        }
    }

    // Its own method: a lambda capturing the reset in the loop would allocate its closure for every row read.
    private Task ResetAsync(ResetWork z) => RetryAsync(() => _store.ResetBudgetAsync(z.Scope, z.Id, z.Due, z.Next).AsTask());

    private async Task WriteAsync(List<SpendRow> rows)
    {
        if (rows.Count == 0) return;
        // One mark for every try of this batch: a store that committed it once adds its unlogged spend once.
        var batch = _trying = new SpendBatch([.. rows]);
        await RetryAsync(() => _store.WriteSpendAsync(batch).AsTask()).ConfigureAwait(false);
        _trying = null;
        rows.Clear();
        Interlocked.Add(ref _written, batch.Count);
    }

    private async Task DrainSpillAsync()
    {
        if (_spill is null) return;
        foreach (var claimed in _spill.Claim())
        {
            // Each batch under the mark the file gives it: a file put back half written is recognised batch by batch.
            foreach (var batch in claimed.Batches)
            {
                try
                {
                    await RetryAsync(() => _store.WriteSpendAsync(batch).AsTask()).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    claimed.Release();
                    throw;
                }
                Interlocked.Add(ref _written, batch.Count);
            }
            claimed.Done();
        }
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
            catch (Exception ex) when (ex is DbException or InvalidOperationException or IOException or TimeoutException or SocketException)
            {
                // The store is away: keep the batch and try again (requests are not held up; the queue is bounded).
                Interlocked.Increment(ref _failures);
                _stop.Token.ThrowIfCancellationRequested();
                try
                {
                    await Task.Delay(delay, _time, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Stopping: one last try below, then give up to the spill file.
                }
                if (delay < TimeSpan.FromSeconds(2)) delay *= 2;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
        Kick();
        // Real time on purpose: a stopping process waits at most this long for an absent database.
        if (await Task.WhenAny(_loop, Task.Delay(_spill is null ? Timeout.InfiniteTimeSpan : StopGrace)).ConfigureAwait(false) != _loop)
            await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
        _kick.Dispose();
        _spill?.RemoveIfEmpty();
    }
}
