using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;

namespace LLMux.Load;

/// <summary>
/// Reads another .NET process's <c>System.Runtime</c> EventCounters over an EventPipe session, as dotnet-counters
/// does: nothing changes in the target. Keeps every interval (a quarter second) with its end time, so a caller
/// can sum exactly the intervals of its own measured window.
/// </summary>
internal sealed class RuntimeCounters : IAsyncDisposable
{
    /// <summary>Counter interval: short, so the window's edges are sharp and the last interval arrives soon.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(0.25);

    private readonly EventPipeSession _session;
    private readonly EventPipeEventSource _source;
    private readonly Task _processing;
    private readonly Lock _gate = new();
    private readonly List<CounterInterval> _intervals = [];
    private readonly HashSet<string> _seen = [];

    private RuntimeCounters(EventPipeSession session)
    {
        _session = session;
        _source = new EventPipeEventSource(session.EventStream);
        _source.Dynamic.All += OnEvent;
        _processing = Task.Run(() => _source.Process());
    }

    public static RuntimeCounters Start(int pid)
    {
        var client = new DiagnosticsClient(pid);
        var provider = new EventPipeProvider("System.Runtime", EventLevel.Informational, 0,
            new Dictionary<string, string> { ["EventCounterIntervalSec"] = Interval.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        return new RuntimeCounters(client.StartEventPipeSession([provider], requestRundown: false));
    }

    private void OnEvent(TraceEvent e)
    {
        if (e.EventName != "EventCounters" || e.PayloadValue(0) is not IDictionary<string, object> outer
            || outer["Payload"] is not IDictionary<string, object> payload) return;
        var name = (string)payload["Name"];
        // An incrementing counter's first interval can hold its total since process start: drop it.
        lock (_gate) { if (_seen.Add(name)) return; }
        var interval = Convert.ToDouble(payload["IntervalSec"], System.Globalization.CultureInfo.InvariantCulture);
        var value = payload.TryGetValue("Increment", out var inc) ? Convert.ToDouble(inc, System.Globalization.CultureInfo.InvariantCulture)
            : Convert.ToDouble(payload["Mean"], System.Globalization.CultureInfo.InvariantCulture);
        var end = e.TimeStamp.ToUniversalTime();
        lock (_gate) _intervals.Add(new CounterInterval(name, end.AddSeconds(-interval), end, value));
    }

    /// <summary>Ends the session; stopping flushes what EventPipe still buffers (about a second otherwise), so every interval so far is in.</summary>
    public async Task StopAsync()
    {
        try { await _session.StopAsync(CancellationToken.None).ConfigureAwait(false); }
        catch (ServerNotAvailableException) { }
        catch (EndOfStreamException) { }
        await Task.WhenAny(_processing, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
    }

    /// <summary>The counters over [<paramref name="from"/>, <paramref name="to"/>] (UTC).</summary>
    public CounterFigures Window(DateTime from, DateTime to)
    {
        double allocated = 0, gen0 = 0, gen1 = 0, gen2 = 0, queueMax = 0, threadsMax = 0;
        var intervals = 0;
        lock (_gate)
        {
            foreach (var i in _intervals)
            {
                var overlap = (Min(i.End, to) - Max(i.Start, from)).TotalSeconds;
                if (overlap <= 0) continue;
                var fraction = overlap / Math.Max((i.End - i.Start).TotalSeconds, 1e-3);
                // Whole collections: an interval counts when most of it lies inside the window.
                var inside = fraction >= 0.5;
                switch (i.Name)
                {
                    case "alloc-rate": allocated += i.Value * fraction; intervals++; break;
                    case "gen-0-gc-count": if (inside) gen0 += i.Value; break;
                    case "gen-1-gc-count": if (inside) gen1 += i.Value; break;
                    case "gen-2-gc-count": if (inside) gen2 += i.Value; break;
                    case "threadpool-queue-length": queueMax = Math.Max(queueMax, i.Value); break;
                    case "threadpool-thread-count": threadsMax = Math.Max(threadsMax, i.Value); break;
                }
            }
        }
        return new CounterFigures(intervals, (long)allocated, (long)gen0, (long)gen1, (long)gen2, (long)Math.Ceiling(queueMax), (long)threadsMax);
    }

    private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;
    private static DateTime Max(DateTime a, DateTime b) => a > b ? a : b;

    public async ValueTask DisposeAsync()
    {
        if (!_processing.IsCompleted) await StopAsync().ConfigureAwait(false);
        _source.Dispose();
        _session.Dispose();
    }

    private sealed record CounterInterval(string Name, DateTime Start, DateTime End, double Value);
}

/// <summary>Runtime counters summed (or maximised) over a window; <c>Intervals</c> = allocation intervals seen.</summary>
internal sealed record CounterFigures(int Intervals, long AllocatedBytes, long Gen0, long Gen1, long Gen2, long ThreadPoolQueueMax, long ThreadPoolThreadsMax);
