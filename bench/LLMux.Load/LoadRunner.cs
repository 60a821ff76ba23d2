using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;

namespace LLMux.Load;

/// <summary>Options of one load run.</summary>
internal sealed record LoadOptions
{
    public required Uri Url { get; init; }
    public required string Model { get; init; }
    public int Concurrency { get; init; } = 32;
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(2);
    public bool Stream { get; init; }
    /// <summary>Open loop: requests per second started on a fixed schedule, whatever the latency (0 = closed loop).</summary>
    public int Rate { get; init; }
    /// <summary>A gap between two stream chunks above this counts the stream as stalled.</summary>
    public TimeSpan StallGap { get; init; } = TimeSpan.FromMilliseconds(250);
    public string? ApiKey { get; init; }
    public int MaxRequests { get; init; } = 5_000_000;
}

/// <summary>What a run measured.</summary>
internal sealed record LoadResult(
    string Target, int Concurrency, long Requests, long Errors, double Rps,
    long P50Us, long P90Us, long P99Us, long MaxUs,
    long? OverheadP50Us, long? OverheadP99Us,
    long Streams, long StalledStreams, long Chunks, long GapP50Us, long GapP99Us, long GapMaxUs);

/// <summary>
/// A small load generator on SocketsHttpHandler: closed loop (N workers back to back) or open loop (a fixed
/// start rate). Every run is bounded by its duration and a request cap, and targets loopback only.
/// </summary>
internal static class LoadRunner
{
    public static async Task<LoadResult> RunAsync(string target, LoadOptions o)
    {
        if (!IPAddress.TryParse(o.Url.Host, out var ip) ? o.Url.Host != "localhost" : !IPAddress.IsLoopback(ip))
            throw new ArgumentException($"load runs target loopback only, not {o.Url.Host}");

        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = Math.Max(o.Concurrency, 1) + 16,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(60) };
        var body = Encoding.UTF8.GetBytes(
            $$"""{"model":"{{o.Model}}","stream":{{(o.Stream ? "true" : "false")}},"messages":[{"role":"user","content":"Say something about load testing."}]}""");

        var latency = new Histogram();
        var overhead = new Histogram();
        var gaps = new Histogram();
        long requests = 0, errors = 0, streams = 0, stalled = 0, chunks = 0;
        var measuring = 0;

        using var stop = new CancellationTokenSource(o.Warmup + o.Duration);
        var measureStart = Stopwatch.GetTimestamp();
        _ = Task.Delay(o.Warmup).ContinueWith(_ => { Volatile.Write(ref measuring, 1); measureStart = Stopwatch.GetTimestamp(); }, TaskScheduler.Default);

        async Task OneAsync(CancellationToken ct)
        {
            var start = Stopwatch.GetTimestamp();
            try
            {
                using var req = new HttpRequestMessage(HttpMethod.Post, o.Url) { Content = new ByteArrayContent(body) };
                req.Content.Headers.ContentType = new("application/json");
                if (o.ApiKey is not null) req.Headers.TryAddWithoutValidation("Authorization", "Bearer " + o.ApiKey);
                using var resp = await client.SendAsync(req, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
                var measured = Volatile.Read(ref measuring) == 1;
                if (!resp.IsSuccessStatusCode) { if (measured) Interlocked.Increment(ref errors); await resp.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false); return; }
                if (measured && resp.Headers.TryGetValues("x-llmux-overhead-us", out var ov) && long.TryParse(ov.First(), CultureInfo.InvariantCulture, out var us)) overhead.Record(us);
                if (!o.Stream)
                {
                    await resp.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
                }
                else
                {
                    await using var s = await resp.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
                    var buf = new byte[16 * 1024];
                    var last = Stopwatch.GetTimestamp();
                    var isStalled = false;
                    int n;
                    while ((n = await s.ReadAsync(buf, ct).ConfigureAwait(false)) > 0)
                    {
                        var now = Stopwatch.GetTimestamp();
                        var gap = Stopwatch.GetElapsedTime(last, now);
                        last = now;
                        var frames = Count(buf.AsSpan(0, n));
                        if (measured)
                        {
                            gaps.Record((long)gap.TotalMicroseconds);
                            Interlocked.Add(ref chunks, frames);
                            if (gap > o.StallGap) isStalled = true;
                        }
                    }
                    if (measured) { Interlocked.Increment(ref streams); if (isStalled) Interlocked.Increment(ref stalled); }
                }
                if (measured)
                {
                    latency.Record((long)Stopwatch.GetElapsedTime(start).TotalMicroseconds);
                    Interlocked.Increment(ref requests);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
            catch (HttpRequestException) { if (Volatile.Read(ref measuring) == 1) Interlocked.Increment(ref errors); }
            catch (IOException) { if (Volatile.Read(ref measuring) == 1) Interlocked.Increment(ref errors); }
        }

        var total = 0L;
        if (o.Rate <= 0)
        {
            var workers = new Task[o.Concurrency];
            for (var i = 0; i < workers.Length; i++)
            {
                workers[i] = Task.Run(async () =>
                {
                    while (!stop.IsCancellationRequested && Interlocked.Increment(ref total) <= o.MaxRequests) await OneAsync(stop.Token).ConfigureAwait(false);
                });
            }
            await Task.WhenAll(workers).ConfigureAwait(false);
        }
        else
        {
            var inflight = new List<Task>();
            var interval = TimeSpan.FromSeconds(1.0 / o.Rate);
            var next = Stopwatch.GetTimestamp();
            while (!stop.IsCancellationRequested && total++ < o.MaxRequests)
            {
                inflight.Add(OneAsync(stop.Token));
                next += (long)(interval.TotalSeconds * Stopwatch.Frequency);
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), next);
                if (wait > TimeSpan.Zero) { try { await Task.Delay(wait, stop.Token).ConfigureAwait(false); } catch (OperationCanceledException) { } }
                if (inflight.Count > 4096) { inflight.RemoveAll(static t => t.IsCompleted); }
            }
            await Task.WhenAll(inflight).ConfigureAwait(false);
        }
        var seconds = Stopwatch.GetElapsedTime(measureStart).TotalSeconds;
        return new LoadResult(target, o.Concurrency, requests, errors, requests / Math.Max(seconds, 0.001),
            latency.Percentile(50), latency.Percentile(90), latency.Percentile(99), latency.Max,
            overhead.Count > 0 ? overhead.Percentile(50) : null, overhead.Count > 0 ? overhead.Percentile(99) : null,
            streams, stalled, chunks, gaps.Percentile(50), gaps.Percentile(99), gaps.Max);
    }

    private static int Count(ReadOnlySpan<byte> data)
    {
        var n = 0;
        for (var i = 0; i + 1 < data.Length; i++) if (data[i] == (byte)'\n' && data[i + 1] == (byte)'\n') n++;
        return n;
    }
}
