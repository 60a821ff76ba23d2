using System.Threading.Channels;

namespace LLMux.Stages.Accounting;

/// <summary>Where finished calls are stored (spend logs, budgets, metrics); attached to the sink.</summary>
public interface IUsageStore
{
    ValueTask WriteAsync(IReadOnlyList<UsageRecord> batch, CancellationToken cancellationToken);
}

/// <summary>
/// Takes usage records off the hot path: a bounded channel (oldest dropped when full, counted) drained in
/// batches by one background task into the attached stores. The drain wakes at most once per
/// <c>flushInterval</c> (or when a batch is full), not once per record, so a busy gateway does not pay a
/// thread-pool wake-up per request; with no store attached, publishing costs nothing at all.
/// </summary>
public sealed class UsageSink : IAsyncDisposable
{
    private readonly Channel<UsageRecord> _channel;
    private readonly IReadOnlyList<IUsageStore> _stores;
    private readonly Task _drain;
    private readonly CancellationTokenSource _stop = new();
    private readonly TimeSpan _flushInterval;
    private long _dropped;
    private long _written;

    private const int BatchSize = 256;

    public UsageSink(IEnumerable<IUsageStore> stores, int capacity = 10_000, TimeSpan? flushInterval = null)
    {
        _stores = stores.ToArray();
        _flushInterval = flushInterval ?? TimeSpan.FromMilliseconds(100);
        _channel = Channel.CreateBounded<UsageRecord>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
            SingleWriter = false,
        }, _ => Interlocked.Increment(ref _dropped));
        _drain = _stores.Count == 0 ? Task.CompletedTask : Task.Run(DrainAsync);
    }

    /// <summary>True when a store is attached: callers skip building records nobody reads.</summary>
    public bool IsActive => _stores.Count > 0;

    /// <summary>Records dropped because the stores fell behind.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Never blocks: a full channel drops its oldest record.</summary>
    public void Publish(UsageRecord record)
    {
        if (_stores.Count > 0) _channel.Writer.TryWrite(record);
    }

    private async Task DrainAsync()
    {
        var batch = new List<UsageRecord>(256);
        var reader = _channel.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
            {
                // Let records gather for one interval rather than waking per record (the channel is bounded meanwhile).
                if (reader.CanCount && reader.Count < BatchSize && _flushInterval > TimeSpan.Zero && !reader.Completion.IsCompleted)
                    await Task.Delay(_flushInterval, _stop.Token).ConfigureAwait(false);
                while (batch.Count < BatchSize && reader.TryRead(out var r)) batch.Add(r);
                foreach (var store in _stores)
                {
                    try { await store.WriteAsync(batch, _stop.Token).ConfigureAwait(false); }
                    catch (Exception ex) when (ex is not OperationCanceledException) { /* a failing store must not stop the others */ }
                }
                Interlocked.Add(ref _written, batch.Count);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) { }
    }

    public async ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
        try { await _drain.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false); }
        catch (TimeoutException) { await _stop.CancelAsync().ConfigureAwait(false); }
        _stop.Dispose();
    }
}
