using System.CommandLine;
using System.CommandLine.Parsing;
using LLMux.Host.Batch;

namespace LLMux.Host.Cli;

/// <summary>What each <c>llmux</c> sub-command does once its arguments are parsed (tests replace them).</summary>
internal sealed record LlmuxCommandActions(
    Func<LlmuxHostOptions, CancellationToken, Task<int>> Serve,
    Func<BatchCommandArgs, CancellationToken, Task<int>> Batch,
    Func<CapabilitiesArgs, int> Capabilities);

/// <summary><c>llmux capabilities</c>: the whole matrix as Markdown (default) or JSON, or one provider's table.</summary>
internal sealed record CapabilitiesArgs(bool Json, string? ProviderModel);

/// <summary><c>llmux batch</c>'s arguments.</summary>
internal sealed record BatchCommandArgs(string? ConfigPath, string InputPath, string OutputPath, string? ErrorsPath, int Parallelism);

/// <summary>
/// The <c>llmux</c> command line on System.CommandLine: <c>serve</c> (also the default when no sub-command is
/// named, so <c>llmux --config FILE</c> keeps working), <c>batch</c> and <c>capabilities</c>. Usage errors print
/// the problem and the command's help to stderr and exit 2.
/// </summary>
internal static class LlmuxCommandLine
{
    public const int UsageError = 2;

    // The host and the batch runner handle Ctrl-C/SIGTERM themselves (graceful stop), so System.CommandLine's own handler is off.
    public static async Task<int> RunAsync(string[] args, LlmuxCommandActions actions, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var root = Build(actions);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var e in parsed.Errors) error.WriteLine($"llmux: {e.Message}");
            error.WriteLine($"(try `llmux {CommandPath(parsed.CommandResult)}--help`)");
            return UsageError;
        }
        return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = null }, cancellationToken).ConfigureAwait(false);
    }

    internal static RootCommand Build(LlmuxCommandActions actions)
    {
        var root = new RootCommand("LLMux: an OpenAI- and Anthropic-compatible LLM gateway. With no sub-command, `serve` runs.");
        var rootServe = ServeOptions.AddTo(root);
        root.SetAction((p, ct) => actions.Serve(rootServe.Read(p), ct));

        var serve = new Command("serve", "Serve the OpenAI-compatible API (default 127.0.0.1:4000). With no config, serves the built-in mock models. OTEL_EXPORTER_OTLP_ENDPOINT exports metrics and traces by OTLP.");
        var serveOptions = ServeOptions.AddTo(serve);
        serve.SetAction((p, ct) => actions.Serve(serveOptions.Read(p), ct));
        root.Subcommands.Add(serve);

        root.Subcommands.Add(BatchCommandLine(actions));
        root.Subcommands.Add(CapabilitiesCommandLine(actions));
        return root;
    }

    private static Command BatchCommandLine(LlmuxCommandActions actions)
    {
        var config = new Option<string>("--config") { Description = "LiteLLM-compatible config.yaml (default: the built-in mock models)", HelpName = "FILE" };
        var input = new Option<string>("--input") { Description = "OpenAI Batch file: one {custom_id, method, url, body} per line", Required = true, HelpName = "requests.jsonl" };
        var output = new Option<string>("--output") { Description = "results, appended as they complete", Required = true, HelpName = "results.jsonl" };
        var errors = new Option<string>("--errors") { Description = "failures (default: <output>.errors.jsonl)", HelpName = "errors.jsonl" };
        var parallelism = new Option<int>("--parallelism") { Description = "requests in flight at once", DefaultValueFactory = static _ => 16, CustomParser = static r => Integer(r, 1, 100_000), HelpName = "N" };
        var command = new Command("batch", "Run an OpenAI Batch file through the gateway's routes. A rerun skips custom_ids already written; Ctrl-C stops cleanly.")
        {
            config, input, output, errors, parallelism,
        };
        command.SetAction((p, ct) => actions.Batch(new BatchCommandArgs(p.GetValue(config), p.GetValue(input)!, p.GetValue(output)!, p.GetValue(errors), p.GetValue(parallelism)), ct));
        return command;
    }

    private static Command CapabilitiesCommandLine(LlmuxCommandActions actions)
    {
        var markdown = new Option<bool>("--markdown") { Description = "the whole matrix as Markdown, as docs/capabilities.md (the default)" };
        var json = new Option<bool>("--json") { Description = "the whole matrix as JSON" };
        var model = new Argument<string?>("provider/model") { Description = "show one provider's parameter table", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("capabilities", "Print what each provider supports: modes and every OpenAI parameter.") { markdown, json, model };
        command.Validators.Add(r =>
        {
            var chosen = (r.GetValue(markdown) ? 1 : 0) + (r.GetValue(json) ? 1 : 0) + (r.GetValue(model) is null ? 0 : 1);
            if (chosen > 1) r.AddError("capabilities: give one of --markdown, --json or a provider/model");
        });
        command.SetAction(p => actions.Capabilities(new CapabilitiesArgs(p.GetValue(json), p.GetValue(model))));
        return command;
    }

    /// <summary>An integer option's value within [min, max]; anything else is a usage error naming the option.</summary>
    private static int Integer(ArgumentResult r, int min, int max)
    {
        var name = (r.Parent as OptionResult)?.Option.Name ?? r.Argument.Name;
        if (r.Tokens.Count != 1) { r.AddError($"{name} needs one value"); return 0; }
        var text = r.Tokens[0].Value;
        if (int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var v) && v >= min && v <= max) return v;
        r.AddError($"{name}: `{text}` is not an integer from {min} to {max}");
        return 0;
    }

    private static string CommandPath(CommandResult result)
    {
        var names = new List<string>();
        for (var r = result; r is not null && r.Command is not RootCommand; r = r.Parent as CommandResult) names.Insert(0, r.Command.Name);
        return names.Count == 0 ? "" : string.Join(' ', names) + " ";
    }

    /// <summary>The serve options, declared once for the root command and for <c>serve</c>.</summary>
    private sealed record ServeOptions(Option<string> Config, Option<int> Port, Option<string> Host, Option<bool> Metrics)
    {
        public static ServeOptions AddTo(Command command)
        {
            var o = new ServeOptions(
                new Option<string>("--config") { Description = "LiteLLM-compatible config.yaml (default: the built-in mock models)", HelpName = "FILE" },
                new Option<int>("--port") { Description = "port to listen on (0 picks a free one)", DefaultValueFactory = static _ => 4000, CustomParser = static r => Integer(r, 0, 65535), HelpName = "N" },
                new Option<string>("--host") { Description = "address to listen on", DefaultValueFactory = static _ => "127.0.0.1", HelpName = "ADDR" },
                new Option<bool>("--metrics") { Description = "serve Prometheus metrics on /metrics" });
            command.Options.Add(o.Config);
            command.Options.Add(o.Port);
            command.Options.Add(o.Host);
            command.Options.Add(o.Metrics);
            return o;
        }

        public LlmuxHostOptions Read(ParseResult p) => new()
        {
            ConfigPath = p.GetValue(Config),
            Port = p.GetValue(Port),
            Host = p.GetValue(Host)!,
            Metrics = p.GetValue(Metrics),
        };
    }
}
