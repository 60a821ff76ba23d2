using System.Buffers;
using System.Runtime.CompilerServices;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;
using LLMux.Pipeline.Wire;

namespace LLMux.Stages.Hosting;

/// <summary>
/// The OpenAI answer of one call as bytes: <see cref="Body"/> for a JSON answer, or the SSE frames of
/// <see cref="ReadStreamAsync"/>. Owns pooled buffers until disposed.
/// </summary>
public sealed class LlmRawResponse : IAsyncDisposable
{
    private readonly LlmContextPool _pool;
    private readonly PooledBuffer? _ownedRequest;
    private LlmContext? _context;
    private StreamSegment? _first;
    private bool _streamRead;

    internal LlmRawResponse(LlmContextPool pool, LlmContext context, PooledBuffer? ownedRequest)
    {
        _pool = pool;
        _context = context;
        _ownedRequest = ownedRequest;
    }

    private LlmContext Context => _context ?? throw new ObjectDisposedException(nameof(LlmRawResponse));

    /// <summary>True when the answer is an SSE stream (read it with <see cref="ReadStreamAsync"/>).</summary>
    public bool IsStream => Context.Stream is not null;

    /// <summary>The JSON answer of a non-stream call; valid until disposed.</summary>
    public ReadOnlyMemory<byte> Body => Context.ResponseBody?.Memory ?? ReadOnlyMemory<byte>.Empty;

    public string? ProviderName => Context.Deployment?.ProviderName;
    public string? DeploymentId => Context.Deployment?.Id;
    public string? ModelGroup => Context.ModelGroup;
    public int Attempts => Context.Attempts;
    /// <summary>Usage, once known (for a stream: after it was read to the end).</summary>
    public Usage? Usage => Context.Usage;
    /// <summary>USD cost, once known (for a stream: after it was read to the end).</summary>
    public decimal? Cost => Context.Cost;
    public IReadOnlyList<string> DroppedParams => Context.DroppedParams;
    /// <summary>Headers the host would add to the answer (e.g. upstream <c>x-ratelimit-*</c>).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ResponseHeaders => Context.ResponseHeaders;
    /// <summary>The error that ended the stream after content was sent (also written as a final error frame).</summary>
    public LlmError? StreamError { get; private set; }
    public long OverheadMicroseconds => Context.OverheadMicroseconds();

    /// <summary>Waits for the first stream segment: an error before any content becomes an exception, as the host makes it an HTTP error.</summary>
    internal async ValueTask StartStreamAsync(CancellationToken cancellationToken)
    {
        var reader = Context.Stream!.Segments;
        if (!await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false)) return;
        reader.TryRead(out var first);
        if (first.Error is { } early && !first.ContentStarted) throw early.ToException();
        _first = first;
    }

    /// <summary>
    /// The SSE bytes in order, each chunk valid until the next is asked for. An error after content arrives as
    /// a final <c>data: {"error":...}</c> frame (never <c>[DONE]</c>), and is kept in <see cref="StreamError"/>.
    /// </summary>
    public IAsyncEnumerable<ReadOnlyMemory<byte>> ReadStreamAsync(CancellationToken cancellationToken = default) => ReadCoreAsync(throwOnError: false, cancellationToken);

    /// <summary>Copies the answer (JSON or SSE) to <paramref name="destination"/>, flushing after each stream chunk.</summary>
    public async Task CopyToAsync(Stream destination, CancellationToken cancellationToken = default)
    {
        if (!IsStream)
        {
            await destination.WriteAsync(Body, cancellationToken).ConfigureAwait(false);
            return;
        }
        await foreach (var bytes in ReadStreamAsync(cancellationToken).ConfigureAwait(false))
        {
            await destination.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            await destination.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    internal async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadCoreAsync(bool throwOnError, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var pump = Context.Stream ?? throw new InvalidOperationException("this answer is not a stream; read Body");
        if (_streamRead) throw new InvalidOperationException("the stream can be read once");
        _streamRead = true;
        var reader = pump.Segments;
        using var abort = cancellationToken.Register(static p => ((StreamPump)p!).Abort(), pump);
        StreamSegment segment;
        if (_first is { } first) { segment = first; _first = null; }
        else if (!await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false) || !reader.TryRead(out segment)) yield break;
        while (true)
        {
            if (segment.Error is { } error)
            {
                StreamError = error;
                if (throwOnError) throw error.ToException();
                var frame = new ArrayBufferWriter<byte>(256);
                frame.Write("data: "u8);
                ErrorJsonWriter.WriteOpenAI(frame, error);
                frame.Write("\n\n"u8);
                yield return frame.WrittenMemory;
            }
            else
            {
                try { yield return segment.Memory; }
                finally { segment.Release(); }
            }
            if (!reader.TryRead(out segment))
            {
                if (!await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false)) break;
                if (!reader.TryRead(out segment)) break;
            }
        }
        // The stream is over: release router admission and account usage and cost now, not at dispose.
        Context.RunCompleted();
    }

    public async ValueTask DisposeAsync()
    {
        var context = Interlocked.Exchange(ref _context, null);
        if (context is null) return;
        _first?.Release();
        _first = null;
        if (context.Stream is { } pump) await pump.DisposeAsync().ConfigureAwait(false);
        context.RunCompleted();
        _pool.Return(context);
        _ownedRequest?.Dispose();
    }
}
