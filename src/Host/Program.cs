using LLMux.Host;
using LLMux.Host.Batch;
using LLMux.Host.Capabilities;
using LLMux.Host.Cli;
using LLMux.Host.Config;

return await LlmuxCommandLine.RunAsync(args, new LlmuxCommandActions(ServeAsync, BatchCommand.RunAsync, a => CapabilitiesCommand.Run(a, Console.Out, Console.Error)), Console.Out, Console.Error);

static async Task<int> ServeAsync(LlmuxHostOptions options, CancellationToken cancellationToken)
{
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
}
