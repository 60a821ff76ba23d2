using System.Buffers;
using System.IO.Compression;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using Microsoft.Extensions.Primitives;
using ZstdSharp;

namespace LLMux.Host.Endpoints;

/// <summary>
/// Undoes a request's <c>Content-Encoding</c> (gzip, deflate, br, zstd, or a list of them, RFC 9110 §8.4) while the
/// body streams into the pooled buffer, so memory is bounded by the decompressed size limit and a zip bomb stops at
/// the limit with a 413. An unknown coding is a 415; data the decoder refuses is a 400.
/// </summary>
internal static class RequestBodyDecoder
{
    private const int ReadSize = 16 * 1024;

    public static bool IsIdentity(StringValues encoding)
    {
        foreach (var value in encoding)
            foreach (var token in (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                if (!token.Equals("identity", StringComparison.OrdinalIgnoreCase)) return false;
        return true;
    }

    public static async ValueTask<PooledBuffer> ReadAsync(HttpRequest request, StringValues encoding, long limit, CancellationToken cancellationToken)
    {
        var codings = Codings(encoding);
        // The codings were applied in the order listed, so the last one is undone first (it wraps the raw body).
        var reader = request.BodyReader;
        var raw = reader.AsStream(leaveOpen: true);
        var source = raw;
        var outermost = true;
        for (var i = codings.Count - 1; i >= 0; i--)
        {
            var zlib = true;
            if (outermost && codings[i] == "deflate") zlib = await StartsWithZlibHeaderAsync(reader, cancellationToken).ConfigureAwait(false);
            source = Decoder(codings[i], source, zlib);
            outermost = false;
        }

        var buffer = new PooledBuffer(request.ContentLength is > 0 and < 1 << 18 ? (int)request.ContentLength.Value * 4 : 8192);
        try
        {
            while (true)
            {
                int n;
                try
                {
                    n = await source.ReadAsync(buffer.GetMemory(ReadSize), cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is InvalidDataException or InvalidOperationException or ZstdException or EndOfStreamException)
                {
                    throw Corrupt(encoding.ToString(), ex);
                }
                if (n == 0) break;
                buffer.Advance(n);
                if (buffer.Length > limit)
                {
                    // A zip bomb ends here: nothing more is decompressed; the rest of the wire bytes are read and dropped.
                    await RequestBodyReader.DrainAsync(reader, cancellationToken).ConfigureAwait(false);
                    throw RequestBodyReader.TooLarge(limit, compressed: true);
                }
            }
            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
        finally
        {
            await source.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static List<string> Codings(StringValues encoding)
    {
        var codings = new List<string>(2);
        foreach (var value in encoding)
            foreach (var token in (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var name = token.ToLowerInvariant();
                switch (name)
                {
                    case "identity": continue;
                    case "gzip" or "x-gzip": codings.Add("gzip"); break;
                    case "deflate" or "br" or "zstd": codings.Add(name); break;
                    default: throw Unsupported(token);
                }
            }
        return codings;
    }

    private static Stream Decoder(string coding, Stream inner, bool zlib) => coding switch
    {
        "gzip" => new GZipStream(inner, CompressionMode.Decompress, leaveOpen: false),
        // HTTP's "deflate" is the zlib format (RFC 9110 §8.4.1.2); some clients send a bare deflate stream instead.
        "deflate" => zlib ? new ZLibStream(inner, CompressionMode.Decompress, leaveOpen: false) : new DeflateStream(inner, CompressionMode.Decompress, leaveOpen: false),
        "br" => new BrotliStream(inner, CompressionMode.Decompress, leaveOpen: false),
        _ => new DecompressionStream(inner, bufferSize: 0, checkEndOfStream: true, leaveOpen: false),
    };

    /// <summary>Peeks at the first two body bytes: a zlib header is CMF/FLG with method 8 and a check value divisible by 31.</summary>
    private static async ValueTask<bool> StartsWithZlibHeaderAsync(System.IO.Pipelines.PipeReader reader, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var seq = result.Buffer;
            if (seq.Length >= 2 || result.IsCompleted)
            {
                var zlib = IsZlibHeader(seq);
                reader.AdvanceTo(seq.Start);
                return zlib;
            }
            reader.AdvanceTo(seq.Start, seq.End);
        }
    }

    private static bool IsZlibHeader(ReadOnlySequence<byte> seq)
    {
        if (seq.Length < 2) return true;
        var reader = new SequenceReader<byte>(seq);
        reader.TryRead(out var cmf);
        reader.TryRead(out var flg);
        return (cmf & 0x0F) == 8 && cmf >> 4 <= 7 && ((cmf << 8) | flg) % 31 == 0;
    }

    private static LlmException Unsupported(string coding) => new LlmError
    {
        Kind = ErrorKind.InvalidRequest,
        StatusOverride = 415,
        Message = $"unsupported Content-Encoding `{coding}`; LLMux accepts gzip, deflate, br, zstd or identity request bodies",
        Code = "unsupported_content_encoding",
    }.ToException();

    private static LlmException Corrupt(string encoding, Exception inner) => new LlmError
    {
        Kind = ErrorKind.InvalidRequest,
        Message = $"request body could not be decompressed as Content-Encoding `{encoding}`: {inner.Message}",
        Code = "invalid_content_encoding",
    }.ToException(inner);
}
