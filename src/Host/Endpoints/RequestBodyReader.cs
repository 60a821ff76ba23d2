using System.Buffers;
using System.IO.Pipelines;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;

namespace LLMux.Host.Endpoints;

/// <summary>Reads the whole request body into a pooled buffer, refusing bodies over the configured limit with 413.</summary>
internal static class RequestBodyReader
{
    public static async ValueTask<PooledBuffer> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength is { } declared && declared > limit)
        {
            // Read (and drop) a moderately oversized body so the client sees the 413 instead of a reset connection.
            if (declared <= DrainLimit) await DrainAsync(request.BodyReader, cancellationToken).ConfigureAwait(false);
            throw TooLarge(limit);
        }
        var buffer = new PooledBuffer(request.ContentLength is > 0 and < 1 << 20 ? (int)request.ContentLength.Value : 8192);
        var reader = request.BodyReader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                var seq = result.Buffer;
                if (buffer.Length + seq.Length > limit)
                {
                    reader.AdvanceTo(seq.End);
                    if (!result.IsCompleted) await DrainAsync(reader, cancellationToken).ConfigureAwait(false);
                    throw TooLarge(limit);
                }
                foreach (var segment in seq) buffer.Write(segment.Span);
                reader.AdvanceTo(seq.End);
                if (result.IsCompleted) break;
            }
            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>Bodies up to this size are read to their end before a 413; larger ones get the 413 at once.</summary>
    private const long DrainLimit = 256L * 1024 * 1024;

    private static async ValueTask DrainAsync(PipeReader reader, CancellationToken cancellationToken)
    {
        long drained = 0;
        while (drained <= DrainLimit)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            drained += result.Buffer.Length;
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted) return;
        }
    }

    private static LlmException TooLarge(long limit) => new LlmError
    {
        Kind = ErrorKind.PayloadTooLarge,
        Message = $"request body is larger than {limit / (1024.0 * 1024):0.#} MiB; send less, or raise general_settings.max_request_size_mb",
        Code = "request_too_large",
    }.ToException();
}
