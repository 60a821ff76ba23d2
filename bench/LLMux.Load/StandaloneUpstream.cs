using System.Text;
using System.Text.Json;
using LLMux.Emulators;

namespace LLMux.Load;

/// <summary>Knobs of the standalone upstream emulator (<c>llmux-load upstream</c>).</summary>
internal sealed record UpstreamOptions
{
    public required WireFormat Format { get; init; }
    public required int Port { get; init; }
    /// <summary>Port of the <c>GET /_stats</c> endpoint (0: none); the emulators answer every path, so it lives apart.</summary>
    public int StatsPort { get; init; }
    public int Chunks { get; init; } = 64;
    public TimeSpan ChunkDelay { get; init; }
    public TimeSpan Latency { get; init; }
    /// <summary>Size of the answer text in bytes (0: one short word per chunk).</summary>
    public int ContentBytes { get; init; }
    /// <summary>Fraction of calls answered with the provider's overloaded / internal error.</summary>
    public double ErrorRate { get; init; }
}

/// <summary>
/// One emulator from tests/LLMux.Emulators on a fixed port, configured for load (no request recording), with
/// an error rate and a stats endpoint that reports what the upstream saw (requests, cancelled by the caller,
/// in flight).
/// </summary>
internal sealed class StandaloneUpstream : IAsyncDisposable
{
    // The emulators take per-request scripts from a queue before their default; keeping the queue topped up
    // with a fixed pattern gives an exact error fraction without changing the emulator.
    private const int ScriptBacklog = 8192;

    private readonly EmulatorHost _emulator;
    private readonly Action<bool> _enqueue;
    private readonly Func<int> _queued;
    private readonly CancellationTokenSource _stop = new();
    private WebApplication? _stats;
    private Task _refill = Task.CompletedTask;

    private StandaloneUpstream(EmulatorHost emulator, Action<bool> enqueue, Func<int> queued)
    {
        _emulator = emulator;
        _enqueue = enqueue;
        _queued = queued;
    }

    public static async Task<StandaloneUpstream> StartAsync(UpstreamOptions o)
    {
        var text = Content(o);
        StandaloneUpstream upstream;
        switch (o.Format)
        {
            case WireFormat.OpenAI:
            {
                var e = await OpenAIEmulator.StartNewAsync(o.Port).ConfigureAwait(false);
                e.Default = new OpenAIScript { Content = text, Chunks = o.Chunks, ChunkDelay = o.ChunkDelay, HeaderDelay = o.Latency };
                var error = e.Default with { ErrorStatus = 500 };
                upstream = new StandaloneUpstream(e, fail => e.Enqueue(fail ? error : e.Default), () => e.Scripts.Count);
                break;
            }
            case WireFormat.Anthropic:
            {
                var e = await AnthropicEmulator.StartNewAsync(o.Port).ConfigureAwait(false);
                e.Default = new AnthropicScript { Text = text, Chunks = o.Chunks, ChunkDelay = o.ChunkDelay, HeaderDelay = o.Latency };
                var error = e.Default with { ErrorStatus = 529, ErrorType = "overloaded_error", ErrorMessage = "Overloaded" };
                upstream = new StandaloneUpstream(e, fail => e.Enqueue(fail ? error : e.Default), () => e.Scripts.Count);
                break;
            }
            case WireFormat.Gemini:
            {
                var e = await GeminiEmulator.StartNewAsync(o.Port).ConfigureAwait(false);
                e.Default = new GeminiScript { Text = text, Chunks = o.Chunks, ChunkDelay = o.ChunkDelay, HeaderDelay = o.Latency };
                var error = e.Default with { ErrorStatus = 503, ErrorRpcStatus = "UNAVAILABLE", ErrorMessage = "The model is overloaded. Please try again later." };
                upstream = new StandaloneUpstream(e, fail => e.Enqueue(fail ? error : e.Default), () => e.Scripts.Count);
                break;
            }
            case WireFormat.Bedrock:
            {
                var e = await BedrockEmulator.StartNewAsync(o.Port).ConfigureAwait(false);
                e.Default = new BedrockScript { Content = text, Chunks = o.Chunks, ChunkDelay = o.ChunkDelay, HeaderDelay = o.Latency };
                var error = e.Default with { Error = (500, "InternalServerException", "The server encountered an internal error.") };
                upstream = new StandaloneUpstream(e, fail => e.Enqueue(fail ? error : e.Default), () => e.Scripts.Count);
                break;
            }
            case WireFormat.Responses:
            {
                var e = await OpenAIResponsesEmulator.StartNewAsync(o.Port).ConfigureAwait(false);
                e.Default = new OpenAIResponsesScript { Content = text, Chunks = o.Chunks };
                var error = e.Default with { ErrorStatus = 500 };
                upstream = new StandaloneUpstream(e, fail => e.Enqueue(fail ? error : e.Default), () => e.Scripts.Count);
                break;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(o), o.Format, "unknown format");
        }
        upstream._emulator.RecordRequests = false;
        if (o.ErrorRate > 0) upstream._refill = upstream.RefillAsync(o.ErrorRate);
        if (o.StatsPort > 0) await upstream.StartStatsAsync(o.StatsPort).ConfigureAwait(false);
        return upstream;
    }

    /// <summary>What the upstream saw so far.</summary>
    public UpstreamStats Stats()
    {
        var total = _emulator.TotalRequests;
        var cancelled = _emulator.CancelledRequests;
        var inFlight = _emulator.InFlight;
        return new UpstreamStats(total, total - cancelled - inFlight, cancelled, inFlight);
    }

    private static string Content(UpstreamOptions o)
    {
        if (o.ContentBytes <= 0) return string.Concat(Enumerable.Repeat("token. ", Math.Max(o.Chunks, 1)));
        var sb = new StringBuilder(o.ContentBytes);
        while (sb.Length < o.ContentBytes) sb.Append("lorem ipsum dolor sit amet ");
        sb.Length = o.ContentBytes;
        return sb.ToString();
    }

    private async Task RefillAsync(double rate)
    {
        // Every (1/rate)-th call fails: deterministic, so a short run sees the configured fraction.
        var every = Math.Max(1, (int)Math.Round(1 / rate));
        long n = 0;
        while (!_stop.IsCancellationRequested)
        {
            while (_queued() < ScriptBacklog) _enqueue(++n % every == 0);
            try { await Task.Delay(5, _stop.Token).ConfigureAwait(false); } catch (OperationCanceledException) { }
        }
    }

    private async Task StartStatsAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        _stats = builder.Build();
        _stats.MapGet("/_stats", () => Results.Text(JsonSerializer.Serialize(Stats()), "application/json"));
        await _stats.StartAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _refill.ConfigureAwait(false);
        if (_stats is not null) await _stats.DisposeAsync().ConfigureAwait(false);
        await _emulator.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}

/// <summary>The upstream's view: requests received, answered to the end, abandoned by their caller, still running.</summary>
internal sealed record UpstreamStats(int Requests, int Completed, int Cancelled, int InFlight);
