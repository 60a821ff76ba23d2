using System.Globalization;
using System.Text.Json;
using LLMux.Load;
using Yarp.ReverseProxy.Forwarder;

// llmux-load: the pieces of the load harness (bench/run.sh drives them).
//   upstream --format openai|anthropic|gemini|bedrock --port P [--stats-port P2] [--chunks N] [--delay-ms D] [--latency-ms L]
//            [--content-bytes B] [--error-rate F] [--max-seconds S]
//   yarp --port P --target http://127.0.0.1:8090 [--max-seconds S]
//   run --name NAME --url URL --model M [--format F] [--body-file FILE] [--concurrency C] [--seconds S] [--warmup S] [--stream]
//       [--rate R] [--requests N] [--key K] [--json FILE] [--watch-pid PID] [--pause-after FRAMES --pause-ms MS]
//       [--abort-after FRAMES] [--upstream-stats URL] [--conns-port P] [--settle-ms MS] [--recv-buffer BYTES]
//   allocs --trace FILE.nettrace [--top N] [--frames F] [--requests R]   (allocation sampling by type and stack)
//   cpu --trace FILE.nettrace [--top N] [--match TEXT]                      (sampled stacks of running threads by method)
var command = args.Length > 0 ? args[0] : "help";
var opts = Options.Parse(args.Skip(1).ToArray());
var maxSeconds = opts.Int("max-seconds", 900);

switch (command)
{
    case "upstream":
    {
        var format = WireFormats.Parse(opts.String("format", "openai"));
        await using var upstream = await StandaloneUpstream.StartAsync(new UpstreamOptions
        {
            Format = format,
            Port = opts.Int("port", 8090),
            StatsPort = opts.Int("stats-port", 0),
            Chunks = opts.Int("chunks", 64),
            ChunkDelay = TimeSpan.FromMilliseconds(opts.Int("delay-ms", 0)),
            Latency = TimeSpan.FromMilliseconds(opts.Int("latency-ms", 0)),
            ContentBytes = opts.Int("content-bytes", 0),
            ErrorRate = opts.Double("error-rate", 0),
        });
        Console.WriteLine($"{format} upstream emulator on port {opts.Int("port", 8090)} ({opts.Int("chunks", 64)} chunks, {opts.Int("delay-ms", 0)} ms apart)");
        await WaitForStopAsync(maxSeconds);
        return 0;
    }
    case "yarp":
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{opts.Int("port", 8091)}");
        builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
        builder.Services.AddHttpForwarder();
        var app = builder.Build();
        app.MapForwarder("/{**catch-all}", opts.String("target", "http://127.0.0.1:8090"), ForwarderRequestConfig.Empty, HttpTransformer.Empty);
        await app.StartAsync();
        Console.WriteLine($"YARP forwarder on port {opts.Int("port", 8091)} → {opts.String("target", "")}");
        await WaitForStopAsync(maxSeconds);
        await app.StopAsync();
        return 0;
    }
    case "run":
    {
        var stream = opts.Flag("stream");
        var format = WireFormats.Parse(opts.String("format", "openai"));
        var result = await LoadRunner.RunAsync(opts.String("name", "target"), new LoadOptions
        {
            Url = new Uri(opts.String("url", "http://127.0.0.1:4000/v1/chat/completions")),
            Request = ClientRequest.For(format, opts.String("model", "mock-gpt"), stream, opts.Has("key") ? opts.String("key", "") : null,
                opts.Has("body-file") ? opts.String("body-file", "") : null),
            Concurrency = opts.Int("concurrency", 32),
            Duration = TimeSpan.FromSeconds(opts.Int("seconds", 10)),
            Warmup = TimeSpan.FromSeconds(opts.Int("warmup", 2)),
            Stream = stream,
            Rate = opts.Int("rate", 0),
            MaxRequests = opts.Int("requests", 5_000_000),
            PauseAfterFrames = opts.Int("pause-after", 0),
            Pause = TimeSpan.FromMilliseconds(opts.Int("pause-ms", 0)),
            AbortAfterFrames = opts.Int("abort-after", 0),
            WatchPid = opts.Int("watch-pid", 0),
            UpstreamStats = opts.Has("upstream-stats") ? new Uri(opts.String("upstream-stats", "")) : null,
            ConnectionsToPort = opts.Int("conns-port", 0),
            Settle = TimeSpan.FromMilliseconds(opts.Int("settle-ms", 0)),
            ReceiveBuffer = opts.Int("recv-buffer", 0),
        });
        var json = JsonSerializer.Serialize(result);
        Console.WriteLine(json);
        if (opts.Has("json")) await File.AppendAllTextAsync(opts.String("json", ""), json + "\n");
        // A run that moved nothing is a harness failure, not a figure.
        return result.Requests + result.Aborted > 0 ? 0 : 1;
    }
    case "allocs":
        AllocationReport.Print(opts.String("trace", "trace.nettrace"), opts.Int("top", 25), opts.Int("frames", 6), opts.Int("requests", 0));
        return 0;
    case "cpu":
        CpuSampleReport.Print(opts.String("trace", "trace.nettrace"), opts.Int("top", 30), opts.Has("match") ? opts.String("match", "") : null);
        return 0;
    default:
        Console.WriteLine("llmux-load upstream|yarp|run|allocs|cpu [--options]; see bench/run.sh");
        return command == "help" ? 0 : 2;
}

static async Task WaitForStopAsync(int maxSeconds)
{
    // Stops on Ctrl-C, on SIGTERM (ProcessExit) or after maxSeconds, whichever comes first.
    // The web host's console lifetime swallows SIGTERM, so listen for the signals directly too.
    var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, _ => stop.TrySetResult());
    using var intr = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, _ => stop.TrySetResult());
    AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.TrySetResult();
    await Task.WhenAny(stop.Task, Task.Delay(TimeSpan.FromSeconds(maxSeconds)));
}

namespace LLMux.Load
{
    internal sealed class Options(Dictionary<string, string> values)
    {
        public static Options Parse(string[] args)
        {
            var d = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < args.Length; i++)
            {
                if (!args[i].StartsWith("--", StringComparison.Ordinal)) continue;
                var key = args[i][2..];
                d[key] = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "true";
            }
            return new Options(d);
        }

        public bool Has(string key) => values.ContainsKey(key);
        public bool Flag(string key) => values.TryGetValue(key, out var v) && v == "true";
        public string String(string key, string fallback) => values.TryGetValue(key, out var v) ? v : fallback;
        public double Double(string key, double fallback) => values.TryGetValue(key, out var v) && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : fallback;
        public int Int(string key, int fallback) => values.TryGetValue(key, out var v) && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : fallback;
    }
}
