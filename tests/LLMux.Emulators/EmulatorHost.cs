using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LLMux.Emulators;

/// <summary>A request as an emulator received it.</summary>
public sealed record RecordedRequest(string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string BodyText => System.Text.Encoding.UTF8.GetString(Body);
    public System.Text.Json.JsonDocument Json() => System.Text.Json.JsonDocument.Parse(Body);
}

/// <summary>
/// A real Kestrel server on a loopback port that upstream emulators build on: it records every request and
/// counts requests the caller abandoned (client disconnect reached the upstream).
/// </summary>
public abstract class EmulatorHost : IAsyncDisposable
{
    private WebApplication? _app;
    private int _cancelled;
    private int _inFlight;
    private int _total;

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    /// <summary>Off for load runs, where keeping every request would grow without bound.</summary>
    public bool RecordRequests { get; set; } = true;

    /// <summary>Requests whose caller went away before the emulator finished answering.</summary>
    public int CancelledRequests => Volatile.Read(ref _cancelled);

    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Requests received so far, recorded or not (the standalone load upstream reports it).</summary>
    public int TotalRequests => Volatile.Read(ref _total);

    /// <summary>Completes each time a request is cancelled by its caller.</summary>
    public event Action? RequestCancelled;

    public Uri Root { get; private set; } = null!;

    protected Task StartAsync() => StartAsync(0);

    protected async Task StartAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.WebHost.ConfigureKestrel(k => { k.Limits.MinResponseDataRate = null; k.AddServerHeader = false; });
        _app = builder.Build();
        _app.Run(HandleAsync);
        await _app.StartAsync().ConfigureAwait(false);
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Root = new Uri(address);
    }

    private async Task HandleAsync(HttpContext http)
    {
        var body = await ReadBodyAsync(http.Request).ConfigureAwait(false);
        var headers = http.Request.Headers.ToDictionary(static h => h.Key.ToLowerInvariant(), static h => h.Value.ToString());
        var recorded = new RecordedRequest(http.Request.Method, http.Request.Path.Value ?? "", http.Request.QueryString.Value ?? "", headers, body);
        if (RecordRequests) Requests.Enqueue(recorded);
        Interlocked.Increment(ref _total);
        Interlocked.Increment(ref _inFlight);
        try
        {
            await AnswerAsync(http, recorded).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
        }
        catch (IOException) when (http.RequestAborted.IsCancellationRequested)
        {
        }
        finally
        {
            if (http.RequestAborted.IsCancellationRequested)
            {
                Interlocked.Increment(ref _cancelled);
                RequestCancelled?.Invoke();
            }
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request)
    {
        using var ms = new MemoryStream();
        await request.Body.CopyToAsync(ms).ConfigureAwait(false);
        return ms.ToArray();
    }

    /// <summary>Answers one request in the provider's wire format.</summary>
    protected abstract Task AnswerAsync(HttpContext http, RecordedRequest request);

    /// <summary>Waits until <paramref name="count"/> requests were cancelled by their caller, or the timeout passes.</summary>
    public async Task<bool> WaitForCancelledAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (CancelledRequests >= count) return true;
            await Task.Delay(20).ConfigureAwait(false);
        }
        return CancelledRequests >= count;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
        }
        GC.SuppressFinalize(this);
    }
}
