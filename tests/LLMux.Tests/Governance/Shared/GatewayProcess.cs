using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace LLMux.Tests.Governance.Shared;

/// <summary>
/// The real <c>llmux</c> host as a child process (<c>dotnet llmux.dll serve</c>) on a loopback port, so a test can stop
/// it as an orchestrator does: <c>kill -TERM</c>. Killed outright on dispose if it is still running.
/// </summary>
internal sealed class GatewayProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _configPath;

    private GatewayProcess(Process process, string configPath, int port)
    {
        _process = process;
        _configPath = configPath;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public HttpClient Http { get; }
    public System.Text.StringBuilder Output { get; } = new();

    public static async Task<GatewayProcess> StartAsync(string yaml)
    {
        var configPath = Path.Combine(Path.GetTempPath(), "llmux-proc-" + Guid.NewGuid().ToString("N") + ".yaml");
        await File.WriteAllTextAsync(configPath, yaml);
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var dll = Path.Combine(AppContext.BaseDirectory, "llmux.dll");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { dll, "serve", "--config", configPath, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture) }) info.ArgumentList.Add(a);
        var process = Process.Start(info)!;
        var g = new GatewayProcess(process, configPath, port);
        process.OutputDataReceived += (_, e) => { lock (g.Output) g.Output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (g.Output) g.Output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (process.HasExited) throw new InvalidOperationException("llmux exited at start: " + g.Output);
            try
            {
                using var r = await g.Http.GetAsync("/health/liveliness");
                if (r.IsSuccessStatusCode) return g;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }
        await g.DisposeAsync();
        throw new TimeoutException("llmux did not answer /health/liveliness within 60 s: " + g.Output);
    }

    /// <summary>Sends SIGTERM and waits for the process to exit; returns its exit code.</summary>
    public async Task<int> TerminateAsync()
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        File.Delete(_configPath);
    }
}
