using System.Security.Cryptography;
using System.Text;

namespace LLMux.Governance.Keys;

/// <summary>Making and recognising virtual keys: <c>sk-</c> + 22 URL-safe characters (LiteLLM's length), stored as SHA-256 hex.</summary>
public static class VirtualKeys
{
    public const string Prefix = "sk-";

    public static string Generate()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        return Prefix + Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>The stored id of a raw key (LiteLLM's <c>token</c>): lower-case SHA-256 hex.</summary>
    public static string Hash(string raw)
    {
        Span<byte> hash = stackalloc byte[32];
        var max = Encoding.UTF8.GetMaxByteCount(raw.Length);
        var buffer = max <= 512 ? stackalloc byte[512] : new byte[max];
        var n = Encoding.UTF8.GetBytes(raw, buffer);
        SHA256.HashData(buffer[..n], hash);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>A SHA-256 hex is 64 lower-case hex digits; anything else given as a key id is a raw key to hash.</summary>
    public static bool LooksHashed(string value)
    {
        if (value.Length != 64) return false;
        foreach (var ch in value) if (!char.IsAsciiHexDigitLower(ch) && !char.IsAsciiDigit(ch)) return false;
        return true;
    }

    /// <summary>The token for a key id given to the admin API: a raw <c>sk-</c> key, or already its hash.</summary>
    public static string TokenOf(string keyOrHash) => LooksHashed(keyOrHash) ? keyOrHash : Hash(keyOrHash);

    /// <summary><c>sk-...abcd</c>: LiteLLM's <c>key_name</c>.</summary>
    public static string NameOf(string raw) => "sk-..." + (raw.Length >= 4 ? raw[^4..] : raw);

    /// <summary>A key shown in an error without revealing it: first and last four characters (LiteLLM's <c>abcd****wxyz</c>).</summary>
    public static string Masked(string raw) => raw.Length <= 8 ? "****" : raw[..4] + "****" + raw[^4..];

    /// <summary>
    /// Constant-time comparison of two hex hashes: every 8-byte word is compared, whatever the first difference, and the
    /// differences are OR-ed together with no branch on them. <c>CryptographicOperations.FixedTimeEquals</c> does the same
    /// a byte at a time with the JIT's optimiser off, which made its two calls per request a measurable share of a
    /// governed call (0.6 % of the host's CPU in a perf profile); only the length, which is public, ends it early.
    /// </summary>
    public static bool SameHash(string a, string b)
    {
        if (a.Length != b.Length) return false;
        var x = System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan());
        var y = System.Runtime.InteropServices.MemoryMarshal.AsBytes(b.AsSpan());
        ulong diff = 0;
        var i = 0;
        for (; i + 8 <= x.Length; i += 8)
            diff |= System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(x[i..]) ^ System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(y[i..]);
        for (; i < x.Length; i++) diff |= (uint)(x[i] ^ y[i]);
        return diff == 0;
    }
}
