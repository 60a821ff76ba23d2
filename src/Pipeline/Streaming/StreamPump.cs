using System.Buffers;
using System.IO.Pipelines;
using System.Net.Http;
using System.Text.Json;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;
using System.Threading.Channels;
using LLMux.Pipeline.Errors;

namespace LLMux.Pipeline.Streaming;

/// <summary>
/// Joins the upstream reader and the client writer, driven by the client writer: each time the writer has written
/// what it had and asks for more (<see cref="Segments"/>' <c>WaitToReadAsync</c>), the pump reads the upstream on that
/// call, decodes and translates what arrived, and hands over the client's bytes as one pooled segment. No producer
/// task, no queue and no thread hop between the two sides: a chunk goes upstream → client on the thread its bytes
/// arrived on. A slow client is never asked for more while its flush waits, so the upstream is not read and TCP
/// backpressure holds it. Memory held per stream is one segment plus the upstream bytes of one unfinished frame,
/// and nothing while the upstream is quiet (zero-byte reads).
/// </summary>
public sealed class StreamPump : IAsyncDisposable
{
    private readonly PullReader _reader;

    private StreamPump(Stream upstream, StreamTranslator translator, StreamPumpOptions options, string? provider, CancellationToken clientAborted, CancellationTokenSource? cancellation)
        => _reader = new PullReader(this, upstream, translator, options, provider, clientAborted, cancellation);

    /// <summary>
    /// Segments ready for the client, in order; an error segment, if any, is the last. One reader at a time. Waiting
    /// reads the upstream; the reader completes when the stream ends, also when the client's token passed to
    /// <see cref="Start"/> fires, so a consumer bound to that same token may wait without passing it.
    /// </summary>
    public ChannelReader<StreamSegment> Segments => _reader;

    /// <summary>Stopwatch timestamp of the first segment handed to the consumer (0 until then): time to first chunk.</summary>
    public long FirstSegmentTimestamp { get; internal set; }

    /// <summary>
    /// Stopwatch ticks spent waiting on upstream reads before the first segment was ready (the model's time to its first
    /// event). Set before that segment is handed over, so a consumer that has seen it reads the final value.
    /// </summary>
    public long UpstreamWaitBeforeFirstSegment { get; internal set; }

    /// <summary>The error that ended the stream, if one did (telemetry reads it once the stream is over).</summary>
    public LlmError? Failure { get; internal set; }

    /// <summary>
    /// The unexpected exception (a translator bug, not an upstream fault) behind <see cref="Failure"/>, if one was: set
    /// before the error segment is handed over, so a consumer that has read that segment sees it and can log it.
    /// </summary>
    public Exception? Fault { get; internal set; }

    /// <summary>Completes when the stream has ended (upstream finished, failed, or was cancelled) and its reader is closed.</summary>
    public Task Completion => _reader.Ended;

    /// <summary>Wraps <paramref name="upstream"/>; nothing is read until the consumer asks for the first segment.</summary>
    public static StreamPump Start(Stream upstream, StreamTranslator translator, StreamPumpOptions options, string? provider, CancellationToken clientAborted)
        => new(upstream, translator, options, provider, clientAborted, null);

    /// <summary>
    /// As <see cref="Start(Stream, StreamTranslator, StreamPumpOptions, string?, CancellationToken)"/>, cancelling the
    /// caller's <paramref name="cancellation"/> to stop the upstream read instead of a source of its own: it must already
    /// follow <paramref name="clientAborted"/> and outlive the pump (the pooled context's upstream source does). The pump
    /// cancels it only when the stream did not end by itself, so a finished stream leaves it reusable.
    /// </summary>
    public static StreamPump Start(Stream upstream, StreamTranslator translator, StreamPumpOptions options, string? provider, CancellationToken clientAborted, CancellationTokenSource cancellation)
        => new(upstream, translator, options, provider, clientAborted, cancellation);

    /// <summary>Stops the upstream read (client gone): the upstream connection is closed.</summary>
    public void Abort() => _reader.Abort();

    public ValueTask DisposeAsync() => _reader.DisposeAsync();

    /// <summary>
    /// The consumer-driven reader. <see cref="WaitToReadAsync"/> reads the upstream when nothing is pending; when that
    /// read has to wait, the pump itself is the awaited source (one reusable <see cref="ManualResetValueTaskSourceCore{TResult}"/>),
    /// so waiting allocates nothing per chunk.
    /// </summary>
    private sealed class PullReader : ChannelReader<StreamSegment>, IValueTaskSource<bool>
    {
        private readonly StreamPump _pump;
        private readonly PipeReader _upstream;
        private readonly StreamTranslator _translator;
        private readonly StreamPumpOptions _options;
        private readonly CancellationTokenSource _cts;
        private readonly bool _ownsCts;
        private readonly CancellationToken _clientAborted;
        private readonly string? _provider;
        private readonly SegmentWriter _writer;
        private readonly ITimer? _idleTimer;
        private readonly Action _onReadCompleted;
        private readonly Lock _gate = new();
        private ManualResetValueTaskSourceCore<bool> _wait;
        private ConfiguredValueTaskAwaitable<ReadResult>.ConfiguredValueTaskAwaiter _read;
        private long _readStarted;
        // Up to two segments wait for the consumer: the frames produced before a failure, then the error.
        private StreamSegment _first, _second;
        private int _pending;
        private bool _reading, _ended, _disposing;
        private volatile bool _idleExpired;
        private TaskCompletionSource? _endedSource;

        public PullReader(StreamPump pump, Stream upstream, StreamTranslator translator, StreamPumpOptions options, string? provider, CancellationToken clientAborted, CancellationTokenSource? cancellation)
        {
            _pump = pump;
            _options = options;
            _translator = translator;
            _provider = provider;
            _clientAborted = clientAborted;
            _writer = new SegmentWriter(options.SegmentSize);
            // Zero-byte reads: while the upstream is quiet (most of a stream's life) no buffer is held, and the real read
            // then completes at once, so a thousand idle streams hold no read buffers and renting stays on one thread.
            _upstream = PipeReader.Create(upstream, new StreamPipeReaderOptions(bufferSize: options.ReadBufferSize, minimumReadSize: 1024, leaveOpen: false, useZeroByteReads: true));
            _ownsCts = cancellation is null;
            _cts = cancellation ?? CancellationTokenSource.CreateLinkedTokenSource(clientAborted);
            _onReadCompleted = OnReadCompleted;
            _wait.RunContinuationsAsynchronously = false; // the consumer continues on the thread the bytes arrived on
            if (options.IdleTimeout is not null)
            {
                // The idle clock runs on the options' TimeProvider so that tests can move it.
                _idleTimer = options.TimeProvider.CreateTimer(static s => ((PullReader)s!).OnIdle(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }
        }

        public override bool CanPeek => true;

        public override Task Completion => Ended;

        public Task Ended
        {
            get
            {
                lock (_gate)
                {
                    if (_ended && !_reading) return Task.CompletedTask;
                    return (_endedSource ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
                }
            }
        }

        public override bool TryRead(out StreamSegment item)
        {
            if (_pending == 0) { item = default; return false; }
            item = _first;
            _first = _second;
            _second = default;
            _pending--;
            return true;
        }

        public override bool TryPeek(out StreamSegment item)
        {
            item = _first;
            return _pending > 0;
        }

        public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
        {
            if (_pending > 0) return new ValueTask<bool>(true);
            if (_ended || _disposing) return new ValueTask<bool>(false);
            if (cancellationToken.CanBeCanceled) return WaitToReadAsync(this, cancellationToken);
            return ReadUpstream();

            static async ValueTask<bool> WaitToReadAsync(PullReader reader, CancellationToken cancellationToken)
            {
                cancellationToken.ThrowIfCancellationRequested();
                // The caller's token ends this stream (a channel would only end the wait; no caller of a pump waits again).
                using (cancellationToken.UnsafeRegister(static r => ((PullReader)r!).Abort(), reader))
                {
                    var any = await reader.ReadUpstream().ConfigureAwait(false);
                    cancellationToken.ThrowIfCancellationRequested();
                    return any;
                }
            }
        }

        /// <summary>Reads the upstream until a segment is ready or the stream ended; completes synchronously while bytes are there.</summary>
        private ValueTask<bool> ReadUpstream()
        {
            while (true)
            {
                if (_options.IdleTimeout is { } idle) _idleTimer!.Change(idle, Timeout.InfiniteTimeSpan);
                _readStarted = _pump.FirstSegmentTimestamp == 0 ? Stopwatch.GetTimestamp() : 0;
                try
                {
                    _read = _upstream.ReadAsync(_cts.Token).ConfigureAwait(false).GetAwaiter();
                }
                catch (Exception ex)
                {
                    Fail(ex);
                    return new ValueTask<bool>(_pending > 0);
                }
                if (!_read.IsCompleted)
                {
                    lock (_gate) _reading = true;
                    _wait.Reset();
                    _read.UnsafeOnCompleted(_onReadCompleted);
                    return new ValueTask<bool>(this, _wait.Version);
                }
                if (Process()) return new ValueTask<bool>(_pending > 0);
            }
        }

        private void OnReadCompleted()
        {
            var decided = Process();
            while (!decided)
            {
                if (_options.IdleTimeout is { } idle) _idleTimer!.Change(idle, Timeout.InfiniteTimeSpan);
                _readStarted = _pump.FirstSegmentTimestamp == 0 ? Stopwatch.GetTimestamp() : 0;
                try
                {
                    _read = _upstream.ReadAsync(_cts.Token).ConfigureAwait(false).GetAwaiter();
                }
                catch (Exception ex)
                {
                    Fail(ex);
                    break;
                }
                if (!_read.IsCompleted)
                {
                    _read.UnsafeOnCompleted(_onReadCompleted);
                    return;
                }
                decided = Process();
            }
            bool disposing;
            lock (_gate)
            {
                _reading = false;
                disposing = _disposing;
            }
            if (disposing) End(); // DisposeAsync waits for this callback; it releases what is pending
            SignalIfEnded();
            _wait.SetResult(!disposing && _pending > 0);
        }

        /// <summary>Takes the finished read: true when a segment is pending or the stream ended, false to read again.</summary>
        private bool Process()
        {
            ReadResult result;
            try
            {
                result = _read.GetResult();
            }
            catch (Exception ex)
            {
                Fail(ex);
                return true;
            }
            _read = default;
            if (_readStarted != 0) _pump.UpstreamWaitBeforeFirstSegment += Stopwatch.GetTimestamp() - _readStarted;
            var buffer = result.Buffer;
            // One segment the size of what arrived (a passthrough writes about as much as it reads): no regrowth copies.
            _writer.Reserve(buffer.Length);
            try
            {
                try
                {
                    _translator.Decode(ref buffer, _writer);
                    if (result.IsCompleted)
                    {
                        _translator.Complete(buffer, _writer);
                        buffer = buffer.Slice(buffer.End);
                    }
                }
                finally
                {
                    _upstream.AdvanceTo(buffer.Start, buffer.End);
                }
            }
            catch (Exception ex)
            {
                Fail(ex);
                return true;
            }
            // A slow client is not an idle upstream: the idle clock runs only while a read waits.
            _idleTimer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            if (_writer.WrittenCount > 0) Hand(_writer.Take());
            else _writer.Reset(); // half a frame: hold no output buffer while the rest is on its way
            if (result.IsCompleted) { End(); return true; }
            return _pending > 0;
        }

        private void Hand(StreamSegment segment)
        {
            if (_pump.FirstSegmentTimestamp == 0) _pump.FirstSegmentTimestamp = Stopwatch.GetTimestamp();
            if (_pending == 0) _first = segment; else _second = segment;
            _pending++;
        }

        /// <summary>Ends the stream for the exception that stopped it: an error segment for the client, or silence when nobody is left to tell.</summary>
        private void Fail(Exception exception)
        {
            var error = exception switch
            {
                LlmException ex => ex.Error,
                OperationCanceledException when _clientAborted.IsCancellationRequested => null, // the client went away: nothing to tell it
                OperationCanceledException when _idleExpired => Error(ErrorKind.Timeout, $"upstream sent nothing for {_options.IdleTimeout?.TotalSeconds:0.###} s while streaming; raise `timeout` for this deployment if the model is slow"),
                JsonException ex => Error(ErrorKind.BadGateway, $"upstream stream carried invalid JSON ({ex.Message}); the answer is incomplete"),
                IOException or HttpRequestException or InvalidDataException => Error(ErrorKind.BadGateway, $"upstream stream broke off before it finished ({exception.GetType().Name}: {exception.Message}); the answer is incomplete"),
                OperationCanceledException => null, // aborted by the consumer (Abort / DisposeAsync): nobody is left to tell
                // A translator bug must still end the stream with an error, never leave the consumer waiting.
                _ => Unexpected(exception),
            };
            if (error is null) _writer.Reset();
            else
            {
                _pump.Failure = error;
                // Frames produced before the failure still reach the client, then the error.
                if (_writer.WrittenCount > 0) Hand(_writer.Take());
                else _writer.Reset();
                Hand(new StreamSegment(error, _translator.ContentStarted));
            }
            End();
        }

        /// <summary>A bug, not an upstream fault: its text can hold anything (keys included), so the client gets a generic error and the host logs <see cref="Fault"/>.</summary>
        private LlmError Unexpected(Exception exception)
        {
            _pump.Fault = exception;
            return Error(ErrorKind.ServerError, "LLMux failed unexpectedly while translating the upstream stream; the answer is incomplete");
        }

        private LlmError Error(ErrorKind kind, string message) => new() { Kind = kind, Message = message, Provider = _provider };

        /// <summary>Closes the upstream side once: no more reads; pending segments still reach the consumer.</summary>
        private void End()
        {
            lock (_gate)
            {
                if (_ended) return;
                _ended = true;
            }
            _idleTimer?.Dispose();
            _translator.Dispose();
            _upstream.Complete();
            SignalIfEnded();
        }

        /// <summary>Completes <see cref="Ended"/> once the stream has ended and no read callback is still running.</summary>
        private void SignalIfEnded()
        {
            TaskCompletionSource? ended;
            lock (_gate) ended = _ended && !_reading ? _endedSource : null;
            ended?.TrySetResult();
        }

        private void OnIdle()
        {
            // Under the gate: a late tick after the stream ended must not cancel a borrowed source already handed on.
            lock (_gate)
            {
                if (_ended) return;
                _idleExpired = true;
                Abort();
            }
        }

        public void Abort()
        {
            try { _cts.Cancel(); } catch (ObjectDisposedException) { }
        }

        public async ValueTask DisposeAsync()
        {
            bool reading, ended;
            lock (_gate)
            {
                _disposing = true;
                reading = _reading;
                ended = _ended;
            }
            // A stream that ended by itself has nothing left to stop (and a borrowed source stays reusable).
            if (reading || !ended) Abort();
            // A read still in flight ends the stream itself once the cancellation reaches it.
            if (reading) await Ended.ConfigureAwait(false);
            else End();
            while (TryRead(out var segment)) segment.Release();
            _writer.Reset();
            if (_ownsCts) _cts.Dispose();
        }

        bool IValueTaskSource<bool>.GetResult(short token) => _wait.GetResult(token);

        ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _wait.GetStatus(token);

        void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
            => _wait.OnCompleted(continuation, state, token, flags);
    }
}

/// <summary>
/// Bounds of one stream pump. There is no queue length: the consumer-driven pump holds at most one segment for the
/// client (plus an error), so the upstream read pauses as soon as the client stops asking.
/// </summary>
public sealed record StreamPumpOptions
{
    /// <summary>Initial size of each pooled output segment (it grows for a larger batch).</summary>
    public int SegmentSize { get; init; } = 4096;
    /// <summary>
    /// Upstream read size. With zero-byte reads a buffer is rented only once bytes are there and returned once they are
    /// translated, so a larger one costs nothing while streams wait, and a pump that fell behind takes what queued up in
    /// one read, one translation and one client write (measured: 16 KiB cut CPU per stream by ≈ 12 % against 4 KiB).
    /// </summary>
    public int ReadBufferSize { get; init; } = 16384;
    /// <summary>Longest wait for the next upstream bytes; null waits forever.</summary>
    public TimeSpan? IdleTimeout { get; init; }
    /// <summary>The clock of the idle timeout.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    public static StreamPumpOptions Default { get; } = new();
}
