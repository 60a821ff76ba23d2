using System.IO.Pipelines;
using System.Text.Unicode;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;

namespace LLMux.Host.Endpoints;

/// <summary>
/// Reads the whole request body into a pooled buffer: every inbound JSON body passes here, so every endpoint gets the
/// same rules. A <c>Content-Encoding</c> (gzip, deflate, br, zstd) is undone while reading, and the size limit applies
/// to the decompressed bytes (413). The body must be valid UTF-8 (400) before anything goes upstream.
/// </summary>
internal static class RequestBodyReader
{
    public static async ValueTask<PooledBuffer> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        var encoding = request.Headers.ContentEncoding;
        var compressed = encoding.Count > 0 && !RequestBodyDecoder.IsIdentity(encoding);
        if (request.ContentLength is { } declared && declared > limit)
        {
            // Read (and drop) a moderately oversized body so the client sees the 413 instead of a reset connection.
            if (declared <= DrainLimit) await DrainAsync(request.BodyReader, cancellationToken).ConfigureAwait(false);
            throw TooLarge(limit, compressed);
        }
        var buffer = compressed
            ? await RequestBodyDecoder.ReadAsync(request, encoding, limit, cancellationToken).ConfigureAwait(false)
            : await ReadPlainAsync(request, limit, cancellationToken).ConfigureAwait(false);
        if (!Utf8.IsValid(buffer.Span))
        {
            var error = NotUtf8(buffer.Span);
            buffer.Dispose();
            throw error;
        }
        return buffer;
    }

    private static async ValueTask<PooledBuffer> ReadPlainAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
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
                    throw TooLarge(limit, compressed: false);
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
    internal const long DrainLimit = 256L * 1024 * 1024;

    internal static async ValueTask DrainAsync(PipeReader reader, CancellationToken cancellationToken)
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

    internal static LlmException TooLarge(long limit, bool compressed) => new LlmError
    {
        Kind = ErrorKind.PayloadTooLarge,
        Message = $"request body {(compressed ? "(decompressed) " : "")}is larger than {limit / (1024.0 * 1024):0.#} MiB; send less, or raise general_settings.max_request_size_mb",
        Code = "request_too_large",
    }.ToException();

    /// <summary>The 400 for a body that is not UTF-8, naming the first bad byte (this path only runs on a bad body).</summary>
    private static LlmException NotUtf8(ReadOnlySpan<byte> body)
    {
        Span<char> scratch = stackalloc char[256];
        var offset = 0;
        while (offset < body.Length)
        {
            var status = Utf8.ToUtf16(body[offset..], scratch, out var read, out _, replaceInvalidSequences: false, isFinalBlock: true);
            offset += read;
            if (status != System.Buffers.OperationStatus.DestinationTooSmall) break;
        }
        var shown = Convert.ToHexString(body.Slice(offset, Math.Min(4, body.Length - offset))).ToLowerInvariant();
        return new LlmError
        {
            Kind = ErrorKind.InvalidRequest,
            Message = $"request body is not valid UTF-8: invalid byte sequence at offset {offset} (0x{shown}); JSON bodies must be UTF-8",
            Code = "invalid_utf8",
        }.ToException();
    }
}
