using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace LLMux.Tests.Caching;

/// <summary>
/// A <c>redis-server</c> of the test's own on a free 127.0.0.1 port, without persistence, that the test can kill and
/// start again on the same port. Missing binary: the test is skipped, except under <c>CI=true</c>, where it fails.
/// </summary>
internal sealed class RedisServerProcess : IDisposable
{
    private Process? _process;

    public int Port { get; }
    public string Binary { get; }

    private RedisServerProcess(string binary, int port)
    {
        Binary = binary;
        Port = port;
    }

    /// <summary>The server binary on PATH, else null (and under CI a failure: CI installs it).</summary>
    public static string? Find()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, "redis-server");
            if (File.Exists(candidate)) return candidate;
        }
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            Assert.Fail("redis-server is not on PATH; CI must install it (.ci/services.sh)");
        return null;
    }

    public static async Task<RedisServerProcess> StartAsync(string binary)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var server = new RedisServerProcess(binary, port);
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>Starts the server (again) on <see cref="Port"/> and waits until it accepts connections (bounded).</summary>
    public async Task StartAgainAsync()
    {
        var info = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "yes" })
            info.ArgumentList.Add(a);
        _process = Process.Start(info)!;
        _process.OutputDataReceived += static (_, _) => { };
        _process.ErrorDataReceived += static (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        for (var i = 0; i < 200; i++)
        {
            if (_process.HasExited) Assert.Fail($"redis-server exited at start with code {_process.ExitCode}");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }
        Assert.Fail($"redis-server did not listen on 127.0.0.1:{Port} within 10 s");
    }

    /// <summary>Kills the server at once (no shutdown, no save): what an outage looks like to LLMux.</summary>
    public void Kill()
    {
        if (_process is null) return;
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
        _process.Dispose();
        _process = null;
    }

    public void Dispose() => Kill();
}
