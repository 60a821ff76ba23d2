using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using LLMux.Stages.Telemetry;

namespace LLMux.Host.Ui;

/// <summary>
/// The Live page's figures: requests and errors per second, p50/p99 latency over the last ten seconds, calls in
/// flight. It listens to the <c>LLMux</c> meter only while someone watches (the first viewer starts the listener, the
/// last one stops it), so the gateway pays nothing for the page when it is closed.
/// </summary>
internal sealed class LiveStats(ConsoleSessions sessions, TimeProvider clock) : IDisposable
{
    private const int Seconds = 60;
    private const int SamplesPerSecond = 2_000;
    private const int MaxViewers = 16;

    private sealed class Bucket
    {
        public long Second = -1;
        public int Requests;
        public int Errors;
        public readonly List<double> LatenciesMs = new(64);
    }

    private readonly Lock _lock = new();
    private readonly Bucket[] _buckets = Enumerable.Range(0, Seconds).Select(static _ => new Bucket()).ToArray();
    private MeterListener? _listener;
    private int _viewers;

    public int Viewers => Volatile.Read(ref _viewers);

    /// <summary>One SSE stream of snapshots, a frame a second, until the viewer leaves or the session ends.</summary>
    public async Task StreamAsync(ConsoleRequest r)
    {
        var http = r.Http;
        if (Interlocked.Increment(ref _viewers) > MaxViewers)
        {
            Interlocked.Decrement(ref _viewers);
            http.Response.StatusCode = 429;
            await http.Response.WriteAsync("too many live viewers", http.RequestAborted);
            return;
        }
        try
        {
            Listen();
            ConsoleLayout.PrivateHeaders(http.Response);
            http.Response.ContentType = "text/event-stream";
            http.Response.Headers["X-Accel-Buffering"] = "no";
            var cookie = http.Request.Cookies[ConsoleSessions.CookieName];
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), clock);
            do
            {
                if (sessions.Find(cookie) is null)
                {
                    await http.Response.WriteAsync("event: ended\ndata: {}\n\n", http.RequestAborted);
                    break;
                }
                await http.Response.WriteAsync(Frame(r), http.RequestAborted);
                await http.Response.Body.FlushAsync(http.RequestAborted);
            }
            while (await timer.WaitForNextTickAsync(http.RequestAborted));
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
        }
        finally
        {
            if (Interlocked.Decrement(ref _viewers) == 0) StopListening();
        }
    }

    private string Frame(ConsoleRequest r)
    {
        var now = Now();
        int requests = 0, errors = 0;
        var latencies = new List<double>();
        var series = new int[Seconds];
        lock (_lock)
        {
            for (var i = 0; i < Seconds; i++)
            {
                var b = _buckets[(int)((now - i) % Seconds)];
                if (b.Second != now - i) continue;
                series[Seconds - 1 - i] = b.Requests;
                if (i is >= 1 and <= 10)
                {
                    requests += b.Requests;
                    errors += b.Errors;
                    latencies.AddRange(b.LatenciesMs);
                }
            }
        }
        latencies.Sort();
        var inFlight = 0;
        foreach (var d in r.Registry.All) inFlight += r.Router.For(d).InFlight;
        var sb = new StringBuilder(512);
        sb.Append("data: {\"rps\":").Append(F(requests / 10.0)).Append(",\"errors_per_s\":").Append(F(errors / 10.0))
          .Append(",\"p50_ms\":").Append(F(Percentile(latencies, 0.50))).Append(",\"p99_ms\":").Append(F(Percentile(latencies, 0.99)))
          .Append(",\"in_flight\":").Append(inFlight).Append(",\"series\":[").AppendJoin(',', series).Append("]}\n\n");
        return sb.ToString();
    }

    private static double Percentile(List<double> sorted, double q) => sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];

    private static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    private long Now() => clock.GetUtcNow().ToUnixTimeSeconds();

    private void Listen()
    {
        lock (_lock)
        {
            if (_listener is not null) return;
            var listener = new MeterListener();
            listener.InstrumentPublished = static (instrument, l) =>
            {
                if (ReferenceEquals(instrument, LLMuxTelemetry.OperationDuration)) l.EnableMeasurementEvents(instrument);
            };
            listener.SetMeasurementEventCallback<double>(OnDuration);
            listener.Start();
            _listener = listener;
        }
    }

    private void StopListening()
    {
        lock (_lock)
        {
            _listener?.Dispose();
            _listener = null;
        }
    }

    private void OnDuration(Instrument instrument, double seconds, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        var failed = false;
        foreach (var t in tags)
            if (t.Key == "error.type") { failed = true; break; }
        var now = Now();
        lock (_lock)
        {
            var b = _buckets[(int)(now % Seconds)];
            if (b.Second != now)
            {
                b.Second = now;
                b.Requests = 0;
                b.Errors = 0;
                b.LatenciesMs.Clear();
            }
            b.Requests++;
            if (failed) b.Errors++;
            if (b.LatenciesMs.Count < SamplesPerSecond) b.LatenciesMs.Add(seconds * 1000);
        }
    }

    public void Dispose() => StopListening();
}
