using System.Diagnostics;
using System.Text;

namespace LLMux.Tests.Agents;

/// <summary>What one run of a coding-agent CLI produced.</summary>
internal sealed record AgentRun(int ExitCode, string Stdout, string Stderr, bool TimedOut)
{
    public override string ToString() => $"exit {ExitCode}{(TimedOut ? " (timed out)" : "")}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}

/// <summary>
/// Runs a real coding-agent CLI installed by the npm project in <c>tests/agents/&lt;name&gt;</c>: finds its binary
/// in <c>node_modules/.bin</c>, gives it a throwaway HOME and working directory, an environment of our choosing
/// (nothing inherited that could point it at a real service), a bounded run time after which the whole
/// process tree is killed, and captures stdout and stderr. Under <c>CI=true</c> a missing binary fails the
/// test; elsewhere the test is skipped with the command that installs it.
/// </summary>
internal sealed class AgentCli : IDisposable
{
    /// <summary>Environment variables passed through from the test process (the rest is left behind).</summary>
    private static readonly string[] Inherited = ["PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "USER", "LOGNAME", "SHELL", "TERM"];

    private AgentCli(string binary, string root)
    {
        Binary = binary;
        Root = root;
        Home = Directory.CreateDirectory(Path.Combine(root, "home")).FullName;
        WorkDir = Directory.CreateDirectory(Path.Combine(root, "work")).FullName;
    }

    /// <summary>The CLI's executable (a node_modules/.bin entry).</summary>
    public string Binary { get; }
    /// <summary>The temporary directory holding <see cref="Home"/> and <see cref="WorkDir"/>; deleted on dispose.</summary>
    public string Root { get; }
    /// <summary>HOME for the run: the CLI's config and state land here, never in the real home.</summary>
    public string Home { get; }
    /// <summary>The directory the CLI runs in (put the task's files here).</summary>
    public string WorkDir { get; }
    /// <summary>Extra environment variables for the run.</summary>
    public Dictionary<string, string> Environment { get; } = new(StringComparer.Ordinal);

    /// <summary>The CLI <paramref name="binary"/> of <c>tests/agents/<paramref name="agent"/></c>, or skip (fail under CI) when it is not installed.</summary>
    public static AgentCli Require(string agent, string binary)
    {
        var path = Find(agent, binary);
        if (path is null)
        {
            var message = $"the {agent} CLI is not installed: run `npm ci` in tests/agents/{agent} (the CI script does)";
            if (string.Equals(System.Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase)) Assert.Fail(message);
            Skip.If(true, message);
        }
        return new AgentCli(path!, Directory.CreateTempSubdirectory("llmux-agent-").FullName);
    }

    /// <summary>tests/agents/&lt;agent&gt;/node_modules/.bin/&lt;binary&gt; under the repository root (found from the test assembly upwards).</summary>
    public static string? Find(string agent, string binary)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "LLMux.sln"))) continue;
            var bin = Path.Combine(dir.FullName, "tests", "agents", agent, "node_modules", ".bin", binary);
            return File.Exists(bin) ? bin : null;
        }
        return null;
    }

    /// <summary>Runs the CLI with <paramref name="arguments"/>; after <paramref name="timeout"/> its process tree is killed.</summary>
    public async Task<AgentRun> RunAsync(IEnumerable<string> arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(Binary)
        {
            WorkingDirectory = WorkDir,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        start.Environment.Clear();
        foreach (var name in Inherited)
            if (System.Environment.GetEnvironmentVariable(name) is { } value) start.Environment[name] = value;
        start.Environment["HOME"] = Home;
        start.Environment["XDG_CONFIG_HOME"] = Path.Combine(Home, ".config");
        start.Environment["XDG_CACHE_HOME"] = Path.Combine(Home, ".cache");
        foreach (var (name, value) in Environment) start.Environment[name] = value;

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {Binary}");
        process.StandardInput.Close(); // non-interactive: nothing will be typed
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        var timedOut = false;
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            timedOut = true;
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        return new AgentRun(process.ExitCode, await stdout, await stderr, timedOut);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A CLI child still holding a file: the temp directory is left for the OS to clean.
        }
    }
}
