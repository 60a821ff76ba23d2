using System.Globalization;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Load;
using Yarp.ReverseProxy.Forwarder;

// llmux-load: the pieces of the load harness (bench/run.sh drives them).
//   upstream --port P [--chunks N] [--delay-ms D] [--latency-ms L] [--max-seconds S]
//   yarp --port P --target http://127.0.0.1:8090 [--max-seconds S]
//   run --name NAME --url URL --model M [--concurrency C] [--seconds S] [--warmup S] [--stream] [--rate R] [--key K] [--json FILE]
var command = args.Length > 0 ? args[0] : "help";
var opts = Options.Parse(args.Skip(1).ToArray());
var maxSeconds = opts.Int("max-seconds", 900);

switch (command)
{
    case "upstream":
    {
        var emulator = await OpenAIEmulator.StartNewAsync(opts.Int("port", 8090));
        emulator.RecordRequests = false;
        var chunks = opts.Int("chunks", 64);
        emulator.Default = new OpenAIScript
        {
            Content = string.Concat(Enumerable.Repeat("token. ", chunks)),
            Chunks = chunks,
            ChunkDelay = TimeSpan.FromMilliseconds(opts.Int("delay-ms", 0)),
            HeaderDelay = TimeSpan.FromMilliseconds(opts.Int("latency-ms", 0)),
        };
        Console.WriteLine($"upstream emulator on {emulator.ApiBase} ({chunks} chunks, {opts.Int("delay-ms", 0)} ms apart)");
        await WaitForStopAsync(maxSeconds);
        await emulator.DisposeAsync();
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
        var result = await LoadRunner.RunAsync(opts.String("name", "target"), new LoadOptions
        {
            Url = new Uri(opts.String("url", "http://127.0.0.1:4000/v1/chat/completions")),
            Model = opts.String("model", "mock-gpt"),
            Concurrency = opts.Int("concurrency", 32),
            Duration = TimeSpan.FromSeconds(opts.Int("seconds", 10)),
            Warmup = TimeSpan.FromSeconds(opts.Int("warmup", 2)),
            Stream = opts.Flag("stream"),
            Rate = opts.Int("rate", 0),
            ApiKey = opts.Has("key") ? opts.String("key", "") : null,
        });
        Console.WriteLine(JsonSerializer.Serialize(result));
        if (opts.Has("json")) await File.AppendAllTextAsync(opts.String("json", ""), JsonSerializer.Serialize(result) + "\n");
        return result.Requests > 0 ? 0 : 1;
    }
    default:
        Console.WriteLine("llmux-load upstream|yarp|run [--options]; see bench/run.sh");
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
        public int Int(string key, int fallback) => values.TryGetValue(key, out var v) && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : fallback;
    }
}
