using System.Globalization;

namespace LLMux.Load;

/// <summary>
/// Watches a process on this machine during a load run: CPU time and RSS from /proc (sampled every 100 ms),
/// and the runtime counters over EventPipe. <see cref="BeginWindow"/> and <see cref="EndWindow"/> bound the measured window.
/// </summary>
internal sealed class ProcessWatch : IAsyncDisposable
{
    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux
    private readonly int _pid;
    private readonly RuntimeCounters? _counters;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;
    private long _rssMaxKb;
    private long _anonMaxKb;
    private long _threadsMax;
    private long _sampledRssKb;
    private volatile bool _inWindow;
    private DateTime _from, _to;
    private double _cpuFrom, _cpuTo;
    private long _rssBeforeKb;

    public ProcessWatch(int pid)
    {
        _pid = pid;
        try { _counters = RuntimeCounters.Start(pid); }
        catch (Exception e) when (e is Microsoft.Diagnostics.NETCore.Client.ServerNotAvailableException or UnauthorizedAccessException or IOException)
        {
            Console.Error.WriteLine($"no EventPipe session on pid {pid} ({e.Message}); runtime counters left out");
        }
        _sampling = SampleAsync();
    }

    /// <summary>RSS right now (KB), read from /proc.</summary>
    public long RssKb => Interlocked.Read(ref _sampledRssKb);

    public void BeginWindow()
    {
        var (rss, anon, threads) = ReadStatus();
        _rssBeforeKb = rss;
        Interlocked.Exchange(ref _rssMaxKb, rss);
        Interlocked.Exchange(ref _anonMaxKb, anon);
        Interlocked.Exchange(ref _threadsMax, threads);
        _cpuFrom = CpuSeconds();
        _from = DateTime.UtcNow;
        _inWindow = true;
    }

    public void EndWindow()
    {
        _inWindow = false;
        _to = DateTime.UtcNow;
        _cpuTo = CpuSeconds();
    }

    /// <summary>The figures of the window, once the counters of its last second have arrived.</summary>
    public async Task<ProcessFigures> FiguresAsync()
    {
        CounterFigures? c = null;
        if (_counters is not null)
        {
            // The interval covering the window's end is written at most one interval later; stopping the session flushes it.
            var wait = _to + RuntimeCounters.Interval + TimeSpan.FromMilliseconds(50) - DateTime.UtcNow;
            if (wait > TimeSpan.Zero) await Task.Delay(wait).ConfigureAwait(false);
            await _counters.StopAsync().ConfigureAwait(false);
            c = _counters.Window(_from, _to);
        }
        return new ProcessFigures(_pid, Math.Round(_cpuTo - _cpuFrom, 3), _rssBeforeKb / 1024, Interlocked.Read(ref _rssMaxKb) / 1024,
            ReadStatus().RssKb / 1024, Interlocked.Read(ref _threadsMax), c, Interlocked.Read(ref _anonMaxKb) / 1024);
    }

    private async Task SampleAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var (rss, anon, threads) = ReadStatus();
            Interlocked.Exchange(ref _sampledRssKb, rss);
            if (_inWindow)
            {
                InterlockedMax(ref _rssMaxKb, rss);
                InterlockedMax(ref _anonMaxKb, anon);
                InterlockedMax(ref _threadsMax, threads);
            }
            try { await Task.Delay(100, _stop.Token).ConfigureAwait(false); } catch (OperationCanceledException) { }
        }
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long seen;
        while (value > (seen = Interlocked.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }

    private double CpuSeconds()
    {
        // /proc/PID/stat: fields after the parenthesised name; utime and stime are the 14th and 15th fields.
        var stat = File.ReadAllText($"/proc/{_pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
    }

    /// <summary>VmRSS and RssAnon (KB) and the thread count, from one read of /proc/PID/status.</summary>
    private (long RssKb, long AnonKb, long Threads) ReadStatus()
    {
        long rss = 0, anon = 0, threads = 0;
        try
        {
            foreach (var line in File.ReadLines($"/proc/{_pid}/status"))
            {
                var colon = line.IndexOf(':');
                if (colon < 0) continue;
                ref var target = ref rss;
                switch (line.AsSpan(0, colon))
                {
                    case "VmRSS": break;
                    case "RssAnon": target = ref anon; break;
                    case "Threads": target = ref threads; break;
                    default: continue;
                }
                var parts = line[(colon + 1)..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
                target = long.Parse(parts[0], CultureInfo.InvariantCulture);
            }
        }
        catch (IOException) { }
        return (rss, anon, threads);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _sampling.ConfigureAwait(false);
        if (_counters is not null) await _counters.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}

/// <summary>What a watched process did over a measured window (MB for memory, seconds for CPU).</summary>
/// <remarks>RSS counts the mapped runtime and assemblies too (file pages shared with every .NET process); AnonMaxMb is the
/// process's own memory (heaps, stacks, JIT code).</remarks>
internal sealed record ProcessFigures(int Pid, double CpuSeconds, long RssBeforeMb, long RssMaxMb, long RssAfterMb, long ThreadsMax, CounterFigures? Runtime, long AnonMaxMb);
