using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace LLMux.Load;

/// <summary>Options of one load run.</summary>
internal sealed record LoadOptions
{
    public required Uri Url { get; init; }
    public required ClientRequest Request { get; init; }
    public int Concurrency { get; init; } = 32;
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(2);
    public bool Stream { get; init; }
    /// <summary>Open loop: requests per second started on a fixed schedule, whatever the latency (0 = closed loop).</summary>
    public int Rate { get; init; }
    /// <summary>A gap between two stream chunks above this counts the stream as stalled.</summary>
    public TimeSpan StallGap { get; init; } = TimeSpan.FromMilliseconds(250);
    public int MaxRequests { get; init; } = 5_000_000;
    /// <summary>Slow client: after this many frames stop reading for <see cref="Pause"/>, then read to the end.</summary>
    public int PauseAfterFrames { get; init; }
    public TimeSpan Pause { get; init; }
    /// <summary>Disconnecting client: abort the stream after this many frames (0 = read to the end).</summary>
    public int AbortAfterFrames { get; init; }
    /// <summary>A process to report CPU, memory, GC and thread-pool figures for (0 = none).</summary>
    public int WatchPid { get; init; }
    /// <summary>The standalone upstream's stats endpoint, read before and after the run.</summary>
    public Uri? UpstreamStats { get; init; }
    /// <summary>Count established TCP connections to this port before and after the run (0 = don't).</summary>
    public int ConnectionsToPort { get; init; }
    /// <summary>Wait this long after the run before reading the upstream's stats and the connections.</summary>
    public TimeSpan Settle { get; init; }
    /// <summary>SO_RCVBUF of the client's sockets (0 = the OS default, autotuned): a slow reader's kernel buffer.</summary>
    public int ReceiveBuffer { get; init; }
}

/// <summary>What a run measured.</summary>
internal sealed record LoadResult(
    string Target, int Concurrency, long Requests, long Errors, double Rps,
    long P50Us, long P90Us, long P99Us, long MaxUs,
    long? OverheadP50Us, long? OverheadP99Us,
    long Streams, long StalledStreams, long Chunks, long GapP50Us, long GapP99Us, long GapMaxUs)
{
    /// <summary>Streams that ended with their format's final event.</summary>
    public long CompleteStreams { get; init; }
    /// <summary>Streams the client abandoned on purpose (disconnect scenario).</summary>
    public long Aborted { get; init; }
    public ProcessFigures? Process { get; init; }
    /// <summary>The upstream's view: counts moved during the run (after the settle time).</summary>
    public UpstreamStats? UpstreamDelta { get; init; }
    /// <summary>Slow clients: the upstream's view and the watched RSS late in the readers' pause.</summary>
    public UpstreamStats? UpstreamMidPause { get; init; }
    public long? RssMidPauseMb { get; init; }
    public int? ConnectionsBefore { get; init; }
    public int? ConnectionsAfter { get; init; }
}

/// <summary>
/// A small load generator on SocketsHttpHandler: closed loop (N workers back to back) or open loop (a fixed
/// start rate), with slow and disconnecting stream readers. Every run is bounded by its duration and a request
/// cap, and targets loopback only.
/// </summary>
internal static class LoadRunner
{
    private static readonly TimeSpan DrainGrace = TimeSpan.FromSeconds(30);

    public static async Task<LoadResult> RunAsync(string target, LoadOptions o)
    {
        if (!IPAddress.TryParse(o.Url.Host, out var ip) ? o.Url.Host != "localhost" : !IPAddress.IsLoopback(ip))
            throw new ArgumentException($"load runs target loopback only, not {o.Url.Host}");

        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = Math.Max(o.Concurrency, 1) + 16,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
            // A disconnecting client must close its connection; by default the handler drains the rest of the answer to reuse it.
            MaxResponseDrainSize = o.AbortAfterFrames > 0 ? 0 : 1024 * 1024,
        };
        if (o.ReceiveBuffer > 0) handler.ConnectCallback = (ctx, ct) => ConnectAsync(ctx.DnsEndPoint, o.ReceiveBuffer, ct);
        var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(120) };
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await using var watch = o.WatchPid > 0 ? new ProcessWatch(o.WatchPid) : null;
        var upstreamBefore = o.UpstreamStats is null ? null : await UpstreamAsync(probe, o.UpstreamStats).ConfigureAwait(false);
        var connectionsBefore = o.ConnectionsToPort > 0 ? TcpConnections.EstablishedTo(o.ConnectionsToPort) : (int?)null;

        var latency = new Histogram();
        var overhead = new Histogram();
        var gaps = new Histogram();
        long requests = 0, errors = 0, streams = 0, stalled = 0, chunks = 0, complete = 0, aborted = 0;
        var measuring = 0;
        long firstPauseTicks = 0;
        UpstreamStats? midPause = null;
        long? rssMidPause = null;
        Task midPauseProbe = Task.CompletedTask;

        // At the deadline no new request starts; those in flight (a stream started late in the window) finish
        // within a grace period and count, so a window shorter than one stream still measures something.
        using var stop = new CancellationTokenSource(o.Warmup + o.Duration);
        using var abandon = new CancellationTokenSource(o.Warmup + o.Duration + DrainGrace);
        var measureStart = Stopwatch.GetTimestamp();
        void BeginMeasuring()
        {
            watch?.BeginWindow();
            measureStart = Stopwatch.GetTimestamp();
            Volatile.Write(ref measuring, 1);
        }
        if (o.Warmup <= TimeSpan.Zero) BeginMeasuring();
        else _ = Task.Delay(o.Warmup).ContinueWith(_ => BeginMeasuring(), TaskScheduler.Default);

        async Task ProbeMidPauseAsync()
        {
            // Late in the pause: a gateway that buffers without bound has grown by now, and let its upstream finish.
            await Task.Delay(o.Pause * 0.8).ConfigureAwait(false);
            rssMidPause = watch?.RssKb / 1024;
            if (o.UpstreamStats is not null) midPause = Delta(upstreamBefore, await UpstreamAsync(probe, o.UpstreamStats).ConfigureAwait(false));
        }

        async Task OneAsync(CancellationToken ct)
        {
            var start = Stopwatch.GetTimestamp();
            try
            {
                using var req = new HttpRequestMessage(HttpMethod.Post, o.Url) { Content = new ByteArrayContent(o.Request.Body) };
                req.Content.Headers.ContentType = new("application/json");
                foreach (var (name, value) in o.Request.Headers) req.Headers.TryAddWithoutValidation(name, value);
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
                    var tail = new byte[1024];
                    var tailLength = 0;
                    var frames = new FrameCounter(o.Request.EventStream);
                    var last = Stopwatch.GetTimestamp();
                    var isStalled = false;
                    var paused = o.PauseAfterFrames <= 0;
                    int n;
                    while ((n = await s.ReadAsync(buf, ct).ConfigureAwait(false)) > 0)
                    {
                        var now = Stopwatch.GetTimestamp();
                        var gap = Stopwatch.GetElapsedTime(last, now);
                        var before = frames.Frames;
                        frames.Add(buf.AsSpan(0, n));
                        tailLength = KeepTail(tail, tailLength, buf.AsSpan(0, n));
                        if (measured)
                        {
                            gaps.Record((long)gap.TotalMicroseconds);
                            Interlocked.Add(ref chunks, frames.Frames - before);
                            if (gap > o.StallGap && paused && o.PauseAfterFrames <= 0) isStalled = true;
                        }
                        if (o.AbortAfterFrames > 0 && frames.Frames >= o.AbortAfterFrames)
                        {
                            // Leaving the using blocks with the body unread aborts the connection.
                            if (measured) Interlocked.Increment(ref aborted);
                            return;
                        }
                        if (!paused && frames.Frames >= o.PauseAfterFrames)
                        {
                            paused = true;
                            if (Interlocked.CompareExchange(ref firstPauseTicks, Stopwatch.GetTimestamp(), 0) == 0) midPauseProbe = ProbeMidPauseAsync();
                            await Task.Delay(o.Pause, ct).ConfigureAwait(false);
                        }
                        last = Stopwatch.GetTimestamp();
                    }
                    if (measured)
                    {
                        Interlocked.Increment(ref streams);
                        if (isStalled) Interlocked.Increment(ref stalled);
                        if (tail.AsSpan(0, tailLength).IndexOf(o.Request.EndMarker) >= 0) Interlocked.Increment(ref complete);
                    }
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
                    while (!stop.IsCancellationRequested && Interlocked.Increment(ref total) <= o.MaxRequests) await OneAsync(abandon.Token).ConfigureAwait(false);
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
                inflight.Add(OneAsync(abandon.Token));
                next += (long)(interval.TotalSeconds * Stopwatch.Frequency);
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), next);
                if (wait > TimeSpan.Zero) { try { await Task.Delay(wait, stop.Token).ConfigureAwait(false); } catch (OperationCanceledException) { } }
                if (inflight.Count > 4096) { inflight.RemoveAll(static t => t.IsCompleted); }
            }
            await Task.WhenAll(inflight).ConfigureAwait(false);
        }
        var seconds = Stopwatch.GetElapsedTime(measureStart).TotalSeconds;
        watch?.EndWindow();
        await midPauseProbe.ConfigureAwait(false);
        // Close the client's own connections before counting what is left open towards the upstream.
        client.Dispose();
        handler.Dispose();

        if (o.Settle > TimeSpan.Zero) await Task.Delay(o.Settle).ConfigureAwait(false);
        var upstreamAfter = o.UpstreamStats is null ? null : await UpstreamAsync(probe, o.UpstreamStats).ConfigureAwait(false);
        var process = watch is null ? null : await watch.FiguresAsync().ConfigureAwait(false);
        return new LoadResult(target, o.Concurrency, requests, errors, requests / Math.Max(seconds, 0.001),
            latency.Percentile(50), latency.Percentile(90), latency.Percentile(99), latency.Max,
            overhead.Count > 0 ? overhead.Percentile(50) : null, overhead.Count > 0 ? overhead.Percentile(99) : null,
            streams, stalled, chunks, gaps.Percentile(50), gaps.Percentile(99), gaps.Max)
        {
            CompleteStreams = complete,
            Aborted = aborted,
            Process = process,
            UpstreamDelta = Delta(upstreamBefore, upstreamAfter),
            UpstreamMidPause = midPause,
            RssMidPauseMb = rssMidPause,
            ConnectionsBefore = connectionsBefore,
            ConnectionsAfter = o.ConnectionsToPort > 0 ? TcpConnections.EstablishedTo(o.ConnectionsToPort) : null,
        };
    }

    /// <summary>Counts moved since <paramref name="before"/>; in-flight as it is now.</summary>
    private static UpstreamStats? Delta(UpstreamStats? before, UpstreamStats? now) =>
        before is null || now is null ? null
            : new UpstreamStats(now.Requests - before.Requests, now.Completed - before.Completed, now.Cancelled - before.Cancelled, now.InFlight);

    private static async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, int receiveBuffer, CancellationToken ct)
    {
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = receiveBuffer };
        try
        {
            await socket.ConnectAsync(endpoint, ct).ConfigureAwait(false);
            return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static int KeepTail(byte[] tail, int length, ReadOnlySpan<byte> data)
    {
        if (data.Length >= tail.Length) { data[^tail.Length..].CopyTo(tail); return tail.Length; }
        var keep = Math.Min(length, tail.Length - data.Length);
        tail.AsSpan(length - keep, keep).CopyTo(tail);
        data.CopyTo(tail.AsSpan(keep));
        return keep + data.Length;
    }

    private static async Task<UpstreamStats?> UpstreamAsync(HttpClient probe, Uri stats)
    {
        try
        {
            return System.Text.Json.JsonSerializer.Deserialize<UpstreamStats>(await probe.GetStringAsync(stats).ConfigureAwait(false));
        }
        catch (HttpRequestException e)
        {
            Console.Error.WriteLine($"upstream stats at {stats} unavailable: {e.Message}");
            return null;
        }
    }
}
