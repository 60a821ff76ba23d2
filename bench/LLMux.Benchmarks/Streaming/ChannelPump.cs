using System.Buffers;
using System.IO.Pipelines;
using System.Net.Http;
using System.Text.Json;
using System.Threading.Channels;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;

namespace LLMux.Benchmarks.Streaming;

/// <summary>
/// The previous stream pump (until 2026-12-02), kept here only as the side-by-side reference of
/// <see cref="StreamPumpBenchmarks"/>: a producer task reads the upstream and hands segments to the client writer
/// through a bounded channel (synchronous continuations), where the current pump reads on the writer's own call.
/// </summary>
internal sealed class ChannelPump : IAsyncDisposable
{
    /// <summary>Segments that may wait for a slow client before the producer parks (what StreamPumpOptions.Capacity was).</summary>
    private const int Capacity = 8;
    private readonly Channel<StreamSegment> _channel;
    private readonly PipeReader _upstream;
    private readonly StreamTranslator _translator;
    private readonly StreamPumpOptions _options;
    private readonly CancellationTokenSource _cts;
    private readonly CancellationToken _clientAborted;
    private readonly string? _provider;
    private Task _producer = Task.CompletedTask;
    private readonly ITimer? _idleTimer;
    private volatile bool _idleExpired;

    private ChannelPump(Stream upstream, StreamTranslator translator, StreamPumpOptions options, string? provider, CancellationToken clientAborted)
    {
        _options = options;
        _translator = translator;
        _provider = provider;
        _clientAborted = clientAborted;
        // Zero-byte reads: while the upstream is quiet (most of a stream's life) no buffer is held, and the real read
        // then completes at once, so a thousand idle streams hold no read buffers and renting stays on one thread.
        _upstream = PipeReader.Create(upstream, new StreamPipeReaderOptions(bufferSize: options.ReadBufferSize, minimumReadSize: 1024, leaveOpen: false, useZeroByteReads: true));
        _channel = Channel.CreateBounded<StreamSegment>(new BoundedChannelOptions(Capacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
            // The waiting side runs inline: with a fast client a chunk goes upstream → client on one thread, no
            // thread-pool hop per chunk (measured: -25 % CPU per stream); a slow client still parks the producer.
            AllowSynchronousContinuations = true,
        });
        _cts = CancellationTokenSource.CreateLinkedTokenSource(clientAborted);
        if (options.IdleTimeout is not null)
        {
            // The idle clock runs on the options' TimeProvider so that tests can move it.
            _idleTimer = options.TimeProvider.CreateTimer(static s => ((ChannelPump)s!).OnIdle(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    private void OnIdle()
    {
        _idleExpired = true;
        try { _cts.Cancel(); } catch (ObjectDisposedException) { }
    }

    /// <summary>
    /// Segments ready for the client, in order; an error segment, if any, is the last. The channel always
    /// completes, also when the client's token passed to <see cref="Start"/> fires, so a consumer bound to that same
    /// token may wait without passing it (an uncancellable wait reuses the channel's waiter: no allocation per chunk).
    /// </summary>
    public ChannelReader<StreamSegment> Segments => _channel.Reader;

    /// <summary>Stopwatch timestamp of the first segment handed to the consumer (0 until then): time to first chunk.</summary>
    public long FirstSegmentTimestamp { get; private set; }

    /// <summary>
    /// Stopwatch ticks spent waiting on upstream reads before the first segment was ready (the model's time to its first
    /// event). Set before that segment is written, so a consumer that has seen it reads the final value.
    /// </summary>
    public long UpstreamWaitBeforeFirstSegment { get; private set; }

    /// <summary>The error that ended the stream, if one did (telemetry reads it once the stream is over).</summary>
    public LlmError? Failure { get; private set; }

    /// <summary>Completes when the producer has finished (upstream ended, failed, or was cancelled).</summary>
    public Task Completion => _producer;

    /// <summary>Starts reading <paramref name="upstream"/> on the thread pool.</summary>
    public static ChannelPump Start(Stream upstream, StreamTranslator translator, StreamPumpOptions options, string? provider, CancellationToken clientAborted)
    {
        var pump = new ChannelPump(upstream, translator, options, provider, clientAborted);
        pump._producer = Task.Run(pump.ProduceAsync, CancellationToken.None);
        return pump;
    }

    /// <summary>Stops the upstream read (client gone): the upstream connection is closed.</summary>
    public void Abort() => _cts.Cancel();

    private async Task ProduceAsync()
    {
        var writer = new SegmentWriter(_options.SegmentSize);
        var output = _channel.Writer;
        var token = _cts.Token;
        try
        {
            while (true)
            {
                if (_options.IdleTimeout is { } idle) _idleTimer!.Change(idle, Timeout.InfiniteTimeSpan);
                var readStarted = FirstSegmentTimestamp == 0 ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
                var result = await _upstream.ReadAsync(token).ConfigureAwait(false);
                if (readStarted != 0) UpstreamWaitBeforeFirstSegment += System.Diagnostics.Stopwatch.GetTimestamp() - readStarted;
                var buffer = result.Buffer;
                try
                {
                    _translator.Decode(ref buffer, writer);
                    if (result.IsCompleted)
                    {
                        _translator.Complete(buffer, writer);
                        buffer = buffer.Slice(buffer.End);
                    }
                }
                finally
                {
                    _upstream.AdvanceTo(buffer.Start, buffer.End);
                }
                if (writer.WrittenCount > 0)
                {
                    // A slow client is not an idle upstream: stop the idle clock while we wait for room.
                    _idleTimer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                    if (FirstSegmentTimestamp == 0) FirstSegmentTimestamp = System.Diagnostics.Stopwatch.GetTimestamp();
                    await output.WriteAsync(writer.Take(), token).ConfigureAwait(false);
                }
                if (result.IsCompleted) break;
            }
        }
        catch (LlmException ex)
        {
            await FailAsync(writer, ex.Error).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_clientAborted.IsCancellationRequested)
        {
            // The client went away: nothing to tell it.
            writer.Reset();
        }
        catch (OperationCanceledException) when (_idleExpired)
        {
            await FailAsync(writer, Error(ErrorKind.Timeout, $"upstream sent nothing for {_options.IdleTimeout?.TotalSeconds:0.###} s while streaming; raise `timeout` for this deployment if the model is slow")).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            await FailAsync(writer, Error(ErrorKind.BadGateway, $"upstream stream carried invalid JSON ({ex.Message}); the answer is incomplete")).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or InvalidDataException)
        {
            await FailAsync(writer, Error(ErrorKind.BadGateway, $"upstream stream broke off before it finished ({ex.GetType().Name}: {ex.Message}); the answer is incomplete")).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Aborted by the consumer (Abort / DisposeAsync): nobody is left to tell.
            writer.Reset();
        }
        catch (Exception ex)
        {
            // A translator bug must still end the stream with an error, never leave the consumer waiting.
            await FailAsync(writer, Error(ErrorKind.ServerError, $"LLMux failed while translating the upstream stream ({ex.GetType().Name}: {ex.Message}); the answer is incomplete")).ConfigureAwait(false);
        }
        finally
        {
            // Every path ends the channel, so a consumer that waits without a token (the host's writer) always wakes.
            output.TryComplete();
            _idleTimer?.Dispose();
            _translator.Dispose();
            await _upstream.CompleteAsync().ConfigureAwait(false);
        }
    }

    private LlmError Error(ErrorKind kind, string message) => new() { Kind = kind, Message = message, Provider = _provider };

    private async Task FailAsync(SegmentWriter writer, LlmError error)
    {
        Failure = error;
        var output = _channel.Writer;
        try
        {
            // Frames produced before the failure still reach the client, then the error.
            if (writer.WrittenCount > 0) await output.WriteAsync(writer.Take(), _clientAborted).ConfigureAwait(false);
            else writer.Reset();
            await output.WriteAsync(new StreamSegment(error, _translator.ContentStarted), _clientAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
        {
            writer.Reset();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _cts.Cancel();
        _channel.Writer.TryComplete();
        try { await _producer.ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        while (_channel.Reader.TryRead(out var segment)) segment.Release();
        _cts.Dispose();
    }
}

