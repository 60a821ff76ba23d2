using System.Globalization;
using LLMux.Host.Config;
using LLMux.Providers;
using LLMux.Stages.Hosting;
using Microsoft.Extensions.Options;

namespace LLMux.Host.Batch;

/// <summary><c>llmux batch --config FILE --input requests.jsonl --output results.jsonl [--errors FILE] [--parallelism N]</c> (parsed by <see cref="LLMux.Host.Cli.LlmuxCommandLine"/>).</summary>
internal static class BatchCommand
{
    public static async Task<int> RunAsync(LLMux.Host.Cli.BatchCommandArgs args, CancellationToken cancellationToken)
    {
        string? config = args.ConfigPath, input = args.InputPath, output = args.OutputPath, errors = args.ErrorsPath;
        var parallelism = args.Parallelism;
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
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
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
