using System.Globalization;
using LLMux.Host.Config;
using LLMux.Providers;
using LLMux.Stages.Hosting;
using Microsoft.Extensions.Options;

namespace LLMux.Host.Batch;

/// <summary><c>llmux batch --config FILE --input requests.jsonl --output results.jsonl [--errors FILE] [--parallelism N]</c>.</summary>
internal static class BatchCommand
{
    public const string Usage = "llmux batch [--config FILE] --input requests.jsonl --output results.jsonl [--errors errors.jsonl] [--parallelism N]\n" +
        "  Runs an OpenAI Batch file (custom_id, method, url, body per line) through the gateway's routes. Results are\n" +
        "  appended as they complete; failures go to the errors file (default: <output>.errors.jsonl). A rerun skips\n" +
        "  custom_ids already written. Ctrl-C stops cleanly: finished results are written, the rest is done on the next run.";

    public static async Task<int> RunAsync(string[] args)
    {
        string? config = null, input = null, output = null, errors = null;
        var parallelism = 16;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--config" when i + 1 < args.Length: config = args[++i]; break;
                case "--input" when i + 1 < args.Length: input = args[++i]; break;
                case "--output" when i + 1 < args.Length: output = args[++i]; break;
                case "--errors" when i + 1 < args.Length: errors = args[++i]; break;
                case "--parallelism" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var p) && p > 0:
                    parallelism = p; i++; break;
                case "-h" or "--help": Console.WriteLine(Usage); return 0;
                default:
                    Console.Error.WriteLine($"llmux batch: unknown or incomplete argument `{args[i]}`\n{Usage}");
                    return 2;
            }
        }
        if (input is null || output is null)
        {
            Console.Error.WriteLine($"llmux batch: --input and --output are required\n{Usage}");
            return 2;
        }

        ServiceProvider services;
        try
        {
            services = BuildServices(config);
        }
        catch (ConfigException ex)
        {
            Console.Error.WriteLine($"llmux batch: {ex.Message}");
            return 1;
        }
        catch (OptionsValidationException ex)
        {
            Console.Error.WriteLine($"llmux batch: invalid config:\n  - {string.Join("\n  - ", ex.Failures)}");
            return 1;
        }

        await using var _ = services;
        using var stop = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            // First Ctrl-C: stop cleanly. A second one ends the process the usual way.
            if (stop.IsCancellationRequested) return;
            e.Cancel = true;
            Console.Error.WriteLine("llmux batch: stopping; finished results are being written (Ctrl-C again to abort)");
            stop.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            var runtime = services.GetRequiredService<LLMuxRuntime>();
            var options = new BatchOptions { InputPath = input, OutputPath = output, ErrorsPath = errors, Parallelism = parallelism, ModelLimit = model => GroupLimit(runtime, model) };
            var progress = new BatchProgress();
            var client = services.GetRequiredService<ILlmClient>();
            var summary = await BatchProgressDisplay.RunAsync(progress, () => BatchRunner.RunAsync(options, client, progress, stop.Token), stop.Token);
            Console.Error.WriteLine($"llmux batch: {summary.Succeeded} succeeded, {summary.Failed} failed (see {options.EffectiveErrorsPath}), {summary.Skipped} skipped as already done, {summary.Duplicates} duplicate custom_ids ignored; {summary.Tokens} tokens, ${summary.Cost:0.######}");
            if (summary.Cancelled)
            {
                Console.Error.WriteLine("llmux batch: stopped before the end; run the same command again to finish");
                return 130;
            }
            return 0;
        }
        catch (FileNotFoundException ex)
        {
            Console.Error.WriteLine($"llmux batch: {ex.Message}");
            return 1;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>The sum of the group's <c>max_parallel_requests</c>, when every deployment of it sets one.</summary>
    internal static int? GroupLimit(LLMuxRuntime runtime, string model)
    {
        if (runtime.Registry.Group(runtime.Settings.Router.ModelGroupAlias.GetValueOrDefault(model) ?? model) is not { Count: > 0 } group) return null;
        var sum = 0;
        foreach (var d in group)
        {
            if (!int.TryParse(d.Setting("max_parallel_requests"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) || n <= 0) return null;
            sum += n;
        }
        return sum;
    }

    /// <summary>The host's YAML config, resolved by its loader, served by the library's <see cref="ILlmClient"/>.</summary>
    internal static ServiceProvider BuildServices(string? configPath)
    {
        var catalog = new ProviderCatalog();
        var loader = new ConfigLoader(catalog);
        var config = configPath is null ? ConfigLoader.BuiltIn(catalog) : loader.LoadFile(configPath);
        foreach (var w in config.Warnings) Console.Error.WriteLine($"llmux batch: config: {w}");
        var services = new ServiceCollection();
        services.AddSingleton(catalog);
        services.AddLLMux(b => b.AddDeployments(config.Deployments).Configure(o => o.Settings = config.Settings));
        var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        return provider;
    }
}
