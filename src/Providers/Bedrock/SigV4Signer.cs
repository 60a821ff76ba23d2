using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace LLMux.Providers.Bedrock;

/// <summary>
/// AWS Signature Version 4 (<c>AWS4-HMAC-SHA256</c>) for header-signed requests, as the AWS SigV4 test suite
/// defines it: canonical request → string to sign → HMAC chain over date/region/service → signature.
/// Non-S3 rules: the path as sent is URI-encoded once more (so a model id's <c>%3A</c> is signed as
/// <c>%253A</c>) and dot segments / doubled slashes are normalised.
/// </summary>
internal static class SigV4Signer
{
    public const string Algorithm = "AWS4-HMAC-SHA256";

    /// <summary>Hex SHA-256 of the empty body.</summary>
    public const string EmptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    /// <summary><c>YYYYMMDDTHHMMSSZ</c> in UTC, the <c>x-amz-date</c> value.</summary>
    public static string AmzDate(DateTimeOffset time) => time.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);

    /// <summary>Lower-case hex SHA-256 of a body.</summary>
    public static string PayloadHash(ReadOnlySpan<byte> body)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(body, hash);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>
    /// The <c>Authorization</c> header value. <paramref name="headers"/> are the headers to sign and must
    /// already hold <c>host</c> and <c>x-amz-date</c> (and <c>x-amz-security-token</c> for temporary credentials).
    /// </summary>
    public static string Authorization(
        string method, string path, string? query, IReadOnlyList<KeyValuePair<string, string>> headers, string payloadHash,
        AwsCredentials credentials, string region, string service, DateTimeOffset time, bool normalizePath = true)
    {
        var canonical = new CharBuffer(512);
        try
        {
            var signedHeadersStart = WriteCanonicalRequest(ref canonical, method, path, query, headers, payloadHash, normalizePath, out var signedHeadersLength);
            Span<byte> canonicalHash = stackalloc byte[32];
            HashUtf8(canonical.Written, canonicalHash);

            var utc = time.UtcDateTime;
            Span<char> amzDate = stackalloc char[16];
            Span<char> date = stackalloc char[8];
            utc.TryFormat(amzDate, out _, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
            utc.TryFormat(date, out _, "yyyyMMdd", CultureInfo.InvariantCulture);

            Span<byte> signature = stackalloc byte[32];
            Sign(credentials.SecretAccessKey, amzDate, date, region, service, canonicalHash, signature);

            // AWS4-HMAC-SHA256 Credential=<key>/<scope>, SignedHeaders=<list>, Signature=<hex>
            var signedHeaders = canonical.Written.Slice(signedHeadersStart, signedHeadersLength);
            var sb = new StringBuilder(160 + credentials.AccessKeyId.Length + signedHeaders.Length);
            sb.Append(Algorithm).Append(" Credential=").Append(credentials.AccessKeyId).Append('/')
              .Append(date).Append('/').Append(region).Append('/').Append(service).Append("/aws4_request, SignedHeaders=")
              .Append(signedHeaders).Append(", Signature=");
            Span<char> hex = stackalloc char[64];
            Convert.TryToHexStringLower(signature, hex, out _);
            sb.Append(hex);
            return sb.ToString();
        }
        finally
        {
            canonical.Dispose();
        }
    }

    /// <summary>The canonical request text (for tests and diagnostics).</summary>
    public static string CanonicalRequest(string method, string path, string? query, IReadOnlyList<KeyValuePair<string, string>> headers, string payloadHash, bool normalizePath = true)
    {
        var canonical = new CharBuffer(512);
        try
        {
            WriteCanonicalRequest(ref canonical, method, path, query, headers, payloadHash, normalizePath, out _);
            return canonical.Written.ToString();
        }
        finally
        {
            canonical.Dispose();
        }
    }

    /// <summary>The string to sign for a canonical request (for tests and diagnostics).</summary>
    public static string StringToSign(string canonicalRequest, DateTimeOffset time, string region, string service)
    {
        Span<byte> hash = stackalloc byte[32];
        HashUtf8(canonicalRequest, hash);
        var utc = time.UtcDateTime;
        return string.Concat(Algorithm, "\n", AmzDate(time), "\n",
            utc.ToString("yyyyMMdd", CultureInfo.InvariantCulture), "/", region, "/", service, "/aws4_request\n", Convert.ToHexStringLower(hash));
    }

    private static void Sign(string secret, ReadOnlySpan<char> amzDate, ReadOnlySpan<char> date, string region, string service, ReadOnlySpan<byte> canonicalHash, Span<byte> signature)
    {
        // kSecret = "AWS4" + secret; kDate = HMAC(kSecret, date); kRegion; kService; kSigning = HMAC(kService, "aws4_request").
        var secretBytes = ArrayPool<byte>.Shared.Rent(4 + Encoding.UTF8.GetMaxByteCount(secret.Length));
        Span<byte> key = stackalloc byte[32];
        try
        {
            "AWS4"u8.CopyTo(secretBytes);
            var secretLength = 4 + Encoding.UTF8.GetBytes(secret, secretBytes.AsSpan(4));
            Hmac(secretBytes.AsSpan(0, secretLength), date, key);
            Hmac(key, region, key);
            Hmac(key, service, key);
            HMACSHA256.HashData(key, "aws4_request"u8, key);

            // String to sign: algorithm \n amzDate \n scope \n hex(canonical hash)
            Span<char> toSign = stackalloc char[Algorithm.Length + 1 + 16 + 1 + 8 + 1 + region.Length + 1 + service.Length + 13 + 1 + 64];
            var at = 0;
            Append(toSign, ref at, Algorithm); toSign[at++] = '\n';
            Append(toSign, ref at, amzDate); toSign[at++] = '\n';
            Append(toSign, ref at, date); toSign[at++] = '/';
            Append(toSign, ref at, region); toSign[at++] = '/';
            Append(toSign, ref at, service);
            Append(toSign, ref at, "/aws4_request\n");
            Convert.TryToHexStringLower(canonicalHash, toSign[at..], out var hexLength);
            at += hexLength;
            Hmac(key, toSign[..at], signature);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secretBytes);
            ArrayPool<byte>.Shared.Return(secretBytes);
            CryptographicOperations.ZeroMemory(key);
        }
    }

    private static void Append(Span<char> into, ref int at, ReadOnlySpan<char> text)
    {
        text.CopyTo(into[at..]);
        at += text.Length;
    }

    /// <summary>HMAC-SHA256 of ASCII/UTF-8 text; <paramref name="destination"/> may alias <paramref name="key"/>.</summary>
    private static void Hmac(ReadOnlySpan<byte> key, ReadOnlySpan<char> text, Span<byte> destination)
    {
        var max = Encoding.UTF8.GetMaxByteCount(text.Length);
        byte[]? rented = null;
        var bytes = max <= 256 ? stackalloc byte[256] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            var n = Encoding.UTF8.GetBytes(text, bytes);
            Span<byte> result = stackalloc byte[32];
            HMACSHA256.HashData(key, bytes[..n], result);
            result.CopyTo(destination);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static void HashUtf8(ReadOnlySpan<char> text, Span<byte> hash)
    {
        var bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        try
        {
            var n = Encoding.UTF8.GetBytes(text, bytes);
            SHA256.HashData(bytes.AsSpan(0, n), hash);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <summary>Writes the canonical request; returns where the signed-headers list starts in it.</summary>
    private static int WriteCanonicalRequest(
        ref CharBuffer o, string method, string path, string? query, IReadOnlyList<KeyValuePair<string, string>> headers,
        string payloadHash, bool normalizePath, out int signedHeadersLength)
    {
        o.Append(method);
        o.Append('\n');
        WriteCanonicalPath(ref o, normalizePath ? NormalizePath(path) : path);
        o.Append('\n');
        WriteCanonicalQuery(ref o, query);
        o.Append('\n');

        // Header names lower-cased and sorted (stable, so repeated headers keep their order).
        var count = headers.Count;
        var order = ArrayPool<int>.Shared.Rent(Math.Max(count, 1));
        var names = ArrayPool<string>.Shared.Rent(Math.Max(count, 1));
        try
        {
            for (var i = 0; i < count; i++)
            {
                order[i] = i;
                names[i] = headers[i].Key.ToLowerInvariant();
            }
            for (var i = 1; i < count; i++)
            {
                var current = order[i];
                var j = i - 1;
                while (j >= 0 && string.CompareOrdinal(names[order[j]], names[current]) > 0)
                {
                    order[j + 1] = order[j];
                    j--;
                }
                order[j + 1] = current;
            }

            for (var i = 0; i < count; i++)
            {
                var name = names[order[i]];
                if (i > 0 && names[order[i - 1]] == name) continue;
                o.Append(name);
                o.Append(':');
                var first = true;
                for (var k = i; k < count && names[order[k]] == name; k++)
                {
                    if (!first) o.Append(',');
                    AppendTrimmedValue(ref o, headers[order[k]].Value);
                    first = false;
                }
                o.Append('\n');
            }
            o.Append('\n');

            var signedStart = o.Length;
            for (var i = 0; i < count; i++)
            {
                var name = names[order[i]];
                if (i > 0 && names[order[i - 1]] == name) continue;
                if (i > 0) o.Append(';');
                o.Append(name);
            }
            signedHeadersLength = o.Length - signedStart;
            o.Append('\n');
            o.Append(payloadHash);
            return signedStart;
        }
        finally
        {
            Array.Clear(names, 0, count);
            ArrayPool<string>.Shared.Return(names);
            ArrayPool<int>.Shared.Return(order);
        }
    }

    /// <summary>Trims the value and turns every run of whitespace (including folded lines) into one space.</summary>
    private static void AppendTrimmedValue(ref CharBuffer o, string value)
    {
        var span = value.AsSpan().Trim();
        var inSpace = false;
        foreach (var c in span)
        {
            if (c is ' ' or '\t' or '\r' or '\n')
            {
                inSpace = true;
                continue;
            }
            if (inSpace) o.Append(' ');
            inSpace = false;
            o.Append(c);
        }
    }

    /// <summary>Every UTF-8 byte of the path except unreserved characters and <c>/</c> is percent-encoded.</summary>
    private static void WriteCanonicalPath(ref CharBuffer o, string path)
    {
        if (path.Length == 0)
        {
            o.Append('/');
            return;
        }
        UriEncode(ref o, path, keepSlash: true);
    }

    /// <summary>Removes <c>.</c> and <c>..</c> segments and empty segments (doubled slashes); keeps a trailing slash.</summary>
    internal static string NormalizePath(string path)
    {
        if (path.Length == 0) return "/";
        if (!path.Contains("//", StringComparison.Ordinal) && !path.Contains("/.", StringComparison.Ordinal)) return path;
        var segments = new List<string>();
        foreach (var segment in path.Split('/'))
        {
            if (segment.Length == 0 || segment == ".") continue;
            if (segment == "..")
            {
                if (segments.Count > 0) segments.RemoveAt(segments.Count - 1);
                continue;
            }
            segments.Add(segment);
        }
        if (segments.Count == 0) return "/";
        var trailing = path.EndsWith('/');
        return "/" + string.Join('/', segments) + (trailing ? "/" : "");
    }

    /// <summary>Query parameters decoded, re-encoded, and sorted by name then value.</summary>
    private static void WriteCanonicalQuery(ref CharBuffer o, string? query)
    {
        if (string.IsNullOrEmpty(query)) return;
        if (query[0] == '?') query = query[1..];
        if (query.Length == 0) return;
        var pairs = new List<(string Key, string Value)>();
        foreach (var part in query.Split('&'))
        {
            if (part.Length == 0) continue;
            var eq = part.IndexOf('=');
            var key = eq < 0 ? part : part[..eq];
            var value = eq < 0 ? "" : part[(eq + 1)..];
            pairs.Add((Encode(Uri.UnescapeDataString(key)), Encode(Uri.UnescapeDataString(value))));
        }
        pairs.Sort(static (a, b) =>
        {
            var c = string.CompareOrdinal(a.Key, b.Key);
            return c != 0 ? c : string.CompareOrdinal(a.Value, b.Value);
        });
        for (var i = 0; i < pairs.Count; i++)
        {
            if (i > 0) o.Append('&');
            o.Append(pairs[i].Key);
            o.Append('=');
            o.Append(pairs[i].Value);
        }
    }

    private static string Encode(string text)
    {
        var b = new CharBuffer(text.Length * 3 + 4);
        try
        {
            UriEncode(ref b, text, keepSlash: false);
            return b.Written.ToString();
        }
        finally
        {
            b.Dispose();
        }
    }

    private static void UriEncode(ref CharBuffer o, string text, bool keepSlash)
    {
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (IsUnreserved(c) || (keepSlash && c == '/'))
            {
                o.Append(c);
                continue;
            }
            int n;
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                n = Encoding.UTF8.GetBytes(text.AsSpan(i, 2), utf8);
                i++;
            }
            else
            {
                n = Encoding.UTF8.GetBytes(text.AsSpan(i, 1), utf8);
            }
            for (var k = 0; k < n; k++)
            {
                o.Append('%');
                o.Append(HexUpper[utf8[k] >> 4]);
                o.Append(HexUpper[utf8[k] & 0xF]);
            }
        }
    }

    private const string HexUpper = "0123456789ABCDEF";

    private static bool IsUnreserved(char c) =>
        c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.' or '~';

    /// <summary>A growable char buffer over <see cref="ArrayPool{T}"/>.</summary>
    private struct CharBuffer(int capacity) : IDisposable
    {
        private char[] _chars = ArrayPool<char>.Shared.Rent(capacity);
        private int _length;

        public readonly int Length => _length;
        public readonly ReadOnlySpan<char> Written => _chars.AsSpan(0, _length);

        public void Append(char c)
        {
            if (_length == _chars.Length) Grow(1);
            _chars[_length++] = c;
        }

        public void Append(ReadOnlySpan<char> text)
        {
            if (_chars.Length - _length < text.Length) Grow(text.Length);
            text.CopyTo(_chars.AsSpan(_length));
            _length += text.Length;
        }

        private void Grow(int needed)
        {
            var bigger = ArrayPool<char>.Shared.Rent(Math.Max(_chars.Length * 2, _length + needed));
            _chars.AsSpan(0, _length).CopyTo(bigger);
            ArrayPool<char>.Shared.Return(_chars);
            _chars = bigger;
        }

        public void Dispose()
        {
            if (_chars.Length > 0) ArrayPool<char>.Shared.Return(_chars);
            _chars = [];
            _length = 0;
        }
    }
}
