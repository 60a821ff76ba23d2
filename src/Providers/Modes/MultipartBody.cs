using System.Text;
using LLMux.Pipeline.Errors;

namespace LLMux.Providers.Modes;

/// <summary>One part of a multipart/form-data body: its raw header block, its field name and file name, and where its bytes are.</summary>
public sealed class MultipartPart
{
    public required byte[] RawHeaders { get; init; }
    public required string Name { get; init; }
    public string? FileName { get; init; }
    public string? ContentType { get; init; }
    /// <summary>A field's value (file parts: null, their bytes are in the spool).</summary>
    public byte[]? Value { get; set; }
    public long SpoolOffset { get; init; }
    public long Length { get; set; }
    public string? Text => Value is null ? null : Encoding.UTF8.GetString(Value);
}

/// <summary>
/// A multipart/form-data upload read once from the client and kept so that it can be sent upstream (and sent again on a
/// retry or fallback) byte for byte: field values in memory (each at most 1 MiB), file bytes spooled to a temporary file
/// that is deleted on dispose, never the whole upload in memory. The whole body is bounded by the request size limit (413).
/// </summary>
public sealed class MultipartBody : IDisposable
{
    private const int MaxField = 1 << 20;
    private const int MaxHeaders = 16 * 1024;
    private readonly FileStream? _spool;

    public string Boundary { get; }
    public IReadOnlyList<MultipartPart> Parts { get; }
    /// <summary>The bytes after the closing delimiter's <c>--</c> (usually CRLF).</summary>
    public byte[] Epilogue { get; }

    private MultipartBody(string boundary, List<MultipartPart> parts, byte[] epilogue, FileStream? spool)
    {
        Boundary = boundary;
        Parts = parts;
        Epilogue = epilogue;
        _spool = spool;
    }

    public MultipartPart? Field(string name)
    {
        foreach (var p in Parts) if (p.FileName is null && p.Name == name) return p;
        return null;
    }

    public IEnumerable<MultipartPart> Fields(string name)
    {
        foreach (var p in Parts) if (p.FileName is null && p.Name == name) yield return p;
    }

    public MultipartPart? File(string name)
    {
        foreach (var p in Parts) if (p.FileName is not null && p.Name == name) return p;
        return null;
    }

    /// <summary>Copies a file part's bytes to <paramref name="destination"/>.</summary>
    public async Task CopyFileAsync(MultipartPart part, Stream destination, CancellationToken cancellationToken)
    {
        if (_spool is null) return;
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            var remaining = part.Length;
            var position = part.SpoolOffset;
            while (remaining > 0)
            {
                var n = await RandomAccess.ReadAsync(_spool.SafeFileHandle, buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), position, cancellationToken).ConfigureAwait(false);
                if (n == 0) break;
                await destination.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                position += n;
                remaining -= n;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The first bytes of a file part (for a format check), at most <paramref name="count"/>.</summary>
    public byte[] Head(MultipartPart part, int count)
    {
        if (_spool is null) return [];
        var head = new byte[(int)Math.Min(count, part.Length)];
        var n = RandomAccess.Read(_spool.SafeFileHandle, head, part.SpoolOffset);
        return n == head.Length ? head : head[..n];
    }

    public void Dispose() => _spool?.Dispose();

    /// <summary>The boundary of a <c>multipart/form-data</c> Content-Type, or null.</summary>
    public static string? BoundaryOf(string? contentType)
    {
        if (contentType is null || !contentType.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase)) return null;
        foreach (var piece in contentType.Split(';'))
        {
            var p = piece.Trim();
            if (p.StartsWith("boundary=", StringComparison.OrdinalIgnoreCase)) return p[9..].Trim('"');
        }
        return null;
    }

    /// <summary>Reads the whole upload from <paramref name="body"/>; throws a 400 for a malformed body, a 413 past <paramref name="limit"/>.</summary>
    public static async Task<MultipartBody> ReadAsync(Stream body, string boundary, long limit, CancellationToken cancellationToken)
    {
        var reader = new Reader(body, limit);
        FileStream? spool = null;
        var parts = new List<MultipartPart>();
        try
        {
            var open = Encoding.ASCII.GetBytes("--" + boundary);
            var delimiter = Encoding.ASCII.GetBytes("\r\n--" + boundary);
            // The first delimiter: at the very start, or after a preamble line.
            var at = await reader.FindAsync(open, cancellationToken).ConfigureAwait(false);
            if (at < 0) throw Malformed("no opening boundary");
            reader.Skip(at + open.Length);
            while (true)
            {
                if (await reader.StartsWithAsync("--"u8.ToArray(), cancellationToken).ConfigureAwait(false))
                {
                    reader.Skip(2);
                    return new MultipartBody(boundary, parts, await reader.RestAsync(4096, cancellationToken).ConfigureAwait(false), spool);
                }
                if (!await reader.StartsWithAsync("\r\n"u8.ToArray(), cancellationToken).ConfigureAwait(false)) throw Malformed("a boundary line must end with CRLF");
                reader.Skip(2);
                var end = await reader.FindAsync("\r\n\r\n"u8.ToArray(), cancellationToken, MaxHeaders).ConfigureAwait(false);
                if (end < 0) throw Malformed("part headers are missing or too long");
                var raw = reader.Take(end);
                reader.Skip(4);
                var (name, fileName, contentType) = ParseHeaders(raw);
                if (fileName is null)
                {
                    var value = new MemoryStream();
                    var length = await reader.CopyUntilAsync(delimiter, value, MaxField, cancellationToken).ConfigureAwait(false);
                    if (length < 0) throw LlmError.Invalid($"form field `{name}` is longer than 1 MiB", name).ToException();
                    parts.Add(new MultipartPart { RawHeaders = raw, Name = name, Value = value.ToArray(), Length = value.Length });
                }
                else
                {
                    spool ??= new FileStream(Path.Combine(Path.GetTempPath(), "llmux-upload-" + Guid.NewGuid().ToString("N")), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
                    var offset = spool.Length;
                    spool.Position = offset;
                    var length = await reader.CopyUntilAsync(delimiter, spool, long.MaxValue, cancellationToken).ConfigureAwait(false);
                    await spool.FlushAsync(cancellationToken).ConfigureAwait(false);
                    parts.Add(new MultipartPart { RawHeaders = raw, Name = name, FileName = fileName, ContentType = contentType, SpoolOffset = offset, Length = length });
                }
                reader.Skip(delimiter.Length);
            }
        }
        catch
        {
            spool?.Dispose();
            throw;
        }
    }

    private static (string Name, string? FileName, string? ContentType) ParseHeaders(byte[] raw)
    {
        string? name = null, fileName = null, contentType = null;
        foreach (var line in Encoding.UTF8.GetString(raw).Split("\r\n"))
        {
            var colon = line.IndexOf(':');
            if (colon <= 0) continue;
            var header = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (header.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)) contentType = value;
            if (!header.Equals("Content-Disposition", StringComparison.OrdinalIgnoreCase)) continue;
            foreach (var piece in value.Split(';'))
            {
                var p = piece.Trim();
                if (p.StartsWith("name=", StringComparison.OrdinalIgnoreCase)) name = p[5..].Trim('"');
                else if (p.StartsWith("filename=", StringComparison.OrdinalIgnoreCase)) fileName = p[9..].Trim('"');
            }
        }
        return (name ?? throw Malformed("a part has no Content-Disposition name"), fileName, contentType);
    }

    private static LlmException Malformed(string what) => LlmError.Invalid($"the multipart/form-data body is malformed: {what}", null, "invalid_multipart").ToException();

    /// <summary>A forward-only window over the request stream, counting bytes against the limit.</summary>
    private sealed class Reader(Stream stream, long limit)
    {
        private byte[] _buffer = new byte[64 * 1024];
        private int _start, _end;
        private long _total;
        private bool _done;

        private async ValueTask<bool> FillAsync(CancellationToken ct)
        {
            if (_done) return false;
            if (_start > 0 && _start == _end) { _start = _end = 0; }
            if (_end == _buffer.Length)
            {
                if (_start > 0)
                {
                    Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                    _end -= _start;
                    _start = 0;
                }
                else Array.Resize(ref _buffer, _buffer.Length * 2);
            }
            var n = await stream.ReadAsync(_buffer.AsMemory(_end), ct).ConfigureAwait(false);
            if (n == 0) { _done = true; return false; }
            _total += n;
            if (_total > limit)
                throw new LlmError { Kind = ErrorKind.PayloadTooLarge, Message = $"request body is larger than {limit / (1024.0 * 1024):0.#} MiB; send less, or raise general_settings.max_request_size_mb", Code = "request_too_large" }.ToException();
            _end += n;
            return true;
        }

        private ReadOnlySpan<byte> Window => _buffer.AsSpan(_start, _end - _start);

        public async ValueTask<int> FindAsync(byte[] pattern, CancellationToken ct, int max = int.MaxValue)
        {
            while (true)
            {
                var i = Window.IndexOf(pattern);
                if (i >= 0) return i;
                if (_end - _start > max) return -1;
                if (!await FillAsync(ct).ConfigureAwait(false)) return -1;
            }
        }

        public async ValueTask<bool> StartsWithAsync(byte[] prefix, CancellationToken ct)
        {
            while (_end - _start < prefix.Length) if (!await FillAsync(ct).ConfigureAwait(false)) break;
            return Window.StartsWith(prefix);
        }

        public void Skip(int count) => _start += count;

        public byte[] Take(int count)
        {
            var bytes = Window[..count].ToArray();
            _start += count;
            return bytes;
        }

        public async ValueTask<byte[]> RestAsync(int max, CancellationToken ct)
        {
            while (_end - _start < max && await FillAsync(ct).ConfigureAwait(false)) { }
            var rest = Window[..Math.Min(max, _end - _start)].ToArray();
            // Anything past the epilogue we keep is read and dropped (still counted against the limit).
            while (await FillAsync(ct).ConfigureAwait(false)) _start = _end;
            return rest;
        }

        /// <summary>Copies bytes up to (not including) <paramref name="delimiter"/>; −1 when more than <paramref name="max"/>.</summary>
        public async ValueTask<long> CopyUntilAsync(byte[] delimiter, Stream to, long max, CancellationToken ct)
        {
            long copied = 0;
            while (true)
            {
                var window = Window;
                var i = window.IndexOf(delimiter);
                if (i >= 0)
                {
                    if (copied + i > max) return -1;
                    await to.WriteAsync(_buffer.AsMemory(_start, i), ct).ConfigureAwait(false);
                    _start += i;
                    return copied + i;
                }
                // Keep a tail that may be the start of a delimiter split across reads.
                var safe = window.Length - (delimiter.Length - 1);
                if (safe > 0)
                {
                    if (copied + safe > max) return -1;
                    await to.WriteAsync(_buffer.AsMemory(_start, safe), ct).ConfigureAwait(false);
                    _start += safe;
                    copied += safe;
                }
                if (!await FillAsync(ct).ConfigureAwait(false)) throw Malformed("the body ended inside a part (no closing boundary)");
            }
        }
    }
}
