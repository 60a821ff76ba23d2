using System.Threading.Channels;

namespace LLMux.Stages.Accounting;

/// <summary>Where finished calls are stored (spend logs, budgets, metrics); attached to the sink.</summary>
public interface IUsageStore
{
    ValueTask WriteAsync(IReadOnlyList<UsageRecord> batch, CancellationToken cancellationToken);
}

/// <summary>
/// Takes usage records off the hot path: a bounded channel (oldest dropped when full, counted) drained in
/// batches by one background task into the attached stores.
/// </summary>
public sealed class UsageSink : IAsyncDisposable
{
    private readonly Channel<UsageRecord> _channel;
    private readonly IReadOnlyList<IUsageStore> _stores;
    private readonly Task _drain;
    private readonly CancellationTokenSource _stop = new();
    private long _dropped;
    private long _written;

    public UsageSink(IEnumerable<IUsageStore> stores, int capacity = 10_000)
    {
        _stores = stores.ToArray();
        _channel = Channel.CreateBounded<UsageRecord>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
            SingleWriter = false,
        }, _ => Interlocked.Increment(ref _dropped));
        _drain = Task.Run(DrainAsync);
    }

    /// <summary>Records dropped because the stores fell behind.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Never blocks: a full channel drops its oldest record.</summary>
    public void Publish(UsageRecord record) => _channel.Writer.TryWrite(record);

    private async Task DrainAsync()
    {
        var batch = new List<UsageRecord>(256);
        var reader = _channel.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
            {
                while (batch.Count < 256 && reader.TryRead(out var r)) batch.Add(r);
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
