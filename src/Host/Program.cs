using System.Globalization;
using LLMux.Host;
using LLMux.Host.Config;

if (args.Length > 0 && args[0] == "capabilities") return LLMux.Host.Capabilities.CapabilitiesCommand.Run(args[1..], Console.Out, Console.Error);
if (args.Length > 0 && args[0] == "batch") return await LLMux.Host.Batch.BatchCommand.RunAsync(args[1..]);

var options = new LlmuxHostOptions();
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--config" when i + 1 < args.Length: options = options with { ConfigPath = args[++i] }; break;
        case "--port" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var port):
            options = options with { Port = port }; i++; break;
        case "--host" when i + 1 < args.Length: options = options with { Host = args[++i] }; break;
        case "--metrics": options = options with { Metrics = true }; break;
        case "-h" or "--help":
            Console.WriteLine("llmux [--config FILE] [--port N] [--host ADDR] [--metrics]\n       llmux batch --help\n       llmux capabilities [--markdown|--json|<provider/model>]\n  Serves an OpenAI-compatible API (default 127.0.0.1:4000). With no config, serves the built-in mock models.\n  --metrics serves Prometheus metrics on /metrics; OTEL_EXPORTER_OTLP_ENDPOINT exports metrics and traces by OTLP.");
            return 0;
        default:
            Console.Error.WriteLine($"llmux: unknown argument `{args[i]}` (try --help)");
            return 2;
    }
}

WebApplication app;
try
{
    app = LlmuxApp.Build(options);
}
catch (ConfigException ex)
{
    Console.Error.WriteLine($"llmux: {ex.Message}");
    return 1;
}
Console.WriteLine($"llmux listening on http://{options.Host}:{options.Port} ({(options.ConfigPath ?? "built-in mock config")})");
await app.RunAsync();
return 0;
