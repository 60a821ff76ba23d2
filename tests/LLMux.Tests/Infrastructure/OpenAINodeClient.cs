using System.Diagnostics;
using System.Text.Json;

namespace LLMux.Tests.Infrastructure;

/// <summary>
/// The official <c>openai</c> npm client in tests/agents/openai-node: its check scripts run under node against a gateway
/// and print one JSON line of what they saw. Missing (no <c>npm ci</c>) skips the test, or fails it under <c>CI=true</c>.
/// </summary>
internal static class OpenAINodeClient
{
    private static string? Dir()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "LLMux.sln"))) continue;
            var client = Path.Combine(dir.FullName, "tests", "agents", "openai-node");
            return Directory.Exists(Path.Combine(client, "node_modules", "openai")) ? client : null;
        }
        return null;
    }

    /// <summary>Skips (or, under CI, fails) the calling test when the client is not installed.</summary>
    public static string Require()
    {
        if (Dir() is { } dir) return dir;
        const string message = "the openai npm client is not installed: run `npm ci` in tests/agents/openai-node (the CI script does)";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase)) Assert.Fail(message);
        Skip.If(true, message);
        return null!;
    }

    /// <summary>Runs <paramref name="script"/> with <paramref name="args"/>; asserts exit 0 and returns its last output line as JSON.</summary>
    public static async Task<JsonDocument> RunAsync(string script, TimeSpan timeout, params string[] args)
    {
        var start = new ProcessStartInfo("node") { WorkingDirectory = Require(), RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try { await process.WaitForExitAsync(deadline.Token); }
        catch (OperationCanceledException) { process.Kill(entireProcessTree: true); await process.WaitForExitAsync(); }
        var output = await stdout;
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}\n{output}\n{await stderr}");
        return JsonDocument.Parse(output.Trim().Split('\n')[^1]);
    }
}
