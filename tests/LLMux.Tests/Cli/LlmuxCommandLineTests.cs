using LLMux.Host;
using LLMux.Host.Cli;

namespace LLMux.Tests.Cli;

/// <summary>The <c>llmux</c> command line: sub-commands, the default serve, help and usage errors.</summary>
public sealed class LlmuxCommandLineTests
{
    private sealed class Recorder
    {
        public LlmuxHostOptions? Served;
        public BatchCommandArgs? Batch;
        public CapabilitiesArgs? Capabilities;

        public LlmuxCommandActions Actions => new(
            (o, _) => { Served = o; return Task.FromResult(0); },
            (b, _) => { Batch = b; return Task.FromResult(0); },
            c => { Capabilities = c; return 0; });
    }

    private static async Task<(int Code, Recorder Calls, string Out, string Err)> Run(params string[] args)
    {
        var r = new Recorder();
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await LlmuxCommandLine.RunAsync(args, r.Actions, output, error);
        return (code, r, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task No_sub_command_serves_with_the_old_flags()
    {
        var (code, calls, _, err) = await Run("--config", "c.yaml", "--port", "8080", "--host", "0.0.0.0", "--metrics");
        Assert.Equal(0, code);
        Assert.Equal("", err);
        Assert.Equal(new LlmuxHostOptions { ConfigPath = "c.yaml", Port = 8080, Host = "0.0.0.0", Metrics = true }, calls.Served);
    }

    [Fact]
    public async Task Serve_defaults_to_the_loopback_port_4000_and_the_built_in_config()
    {
        var (code, calls, _, _) = await Run("serve");
        Assert.Equal(0, code);
        Assert.Equal(new LlmuxHostOptions(), calls.Served);
    }

    [Theory]
    [InlineData("--port", "abc")]
    [InlineData("--port", "70000")]
    [InlineData("--bogus")]
    [InlineData("serve", "--port")]
    public async Task Usage_errors_exit_2_naming_the_problem_without_serving(params string[] args)
    {
        var (code, calls, _, err) = await Run(args);
        Assert.Equal(LlmuxCommandLine.UsageError, code);
        Assert.Null(calls.Served);
        Assert.StartsWith("llmux: ", err);
        Assert.Contains("--help", err);
    }

    [Fact]
    public async Task Help_lists_the_sub_commands_and_serves_nothing()
    {
        var (code, calls, output, _) = await Run("--help");
        Assert.Equal(0, code);
        Assert.Null(calls.Served);
        foreach (var word in new[] { "serve", "batch", "capabilities", "--config", "--port" }) Assert.Contains(word, output);
    }

    [Fact]
    public async Task Batch_requires_input_and_output()
    {
        var (code, calls, _, err) = await Run("batch", "--input", "in.jsonl");
        Assert.Equal(2, code);
        Assert.Null(calls.Batch);
        Assert.Contains("--output", err);
    }

    [Fact]
    public async Task Batch_reads_every_flag()
    {
        var (code, calls, _, _) = await Run("batch", "--config", "c.yaml", "--input", "in.jsonl", "--output", "out.jsonl", "--errors", "e.jsonl", "--parallelism", "4");
        Assert.Equal(0, code);
        Assert.Equal(new BatchCommandArgs("c.yaml", "in.jsonl", "out.jsonl", "e.jsonl", 4), calls.Batch);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-3")]
    [InlineData("many")]
    public async Task Batch_parallelism_must_be_a_positive_integer(string value)
    {
        var (code, calls, _, _) = await Run("batch", "--input", "i", "--output", "o", "--parallelism", value);
        Assert.Equal(2, code);
        Assert.Null(calls.Batch);
    }

    [Theory]
    [InlineData(new string[0], false, null)]
    [InlineData(new[] { "--markdown" }, false, null)]
    [InlineData(new[] { "--json" }, true, null)]
    [InlineData(new[] { "anthropic/claude-sonnet-4-5" }, false, "anthropic/claude-sonnet-4-5")]
    public async Task Capabilities_picks_the_format(string[] rest, bool json, string? model)
    {
        var (code, calls, _, _) = await Run(["capabilities", .. rest]);
        Assert.Equal(0, code);
        Assert.Equal(new CapabilitiesArgs(json, model), calls.Capabilities);
    }

    [Fact]
    public async Task Capabilities_refuses_two_formats_at_once()
    {
        var (code, calls, _, err) = await Run("capabilities", "--json", "--markdown");
        Assert.Equal(2, code);
        Assert.Null(calls.Capabilities);
        Assert.Contains("one of", err);
    }
}
