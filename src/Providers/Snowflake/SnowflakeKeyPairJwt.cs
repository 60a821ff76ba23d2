using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Errors;

namespace LLMux.Providers.Snowflake;

/// <summary>
/// Snowflake key-pair authentication: a JWT signed RS256 with the user's private key, whose <c>iss</c> is
/// <c>&lt;ACCOUNT&gt;.&lt;USER&gt;.SHA256:&lt;fingerprint&gt;</c> (the fingerprint is the base64 SHA-256 of the public key's
/// DER SubjectPublicKeyInfo, as <c>DESC USER</c> shows it in RSA_PUBLIC_KEY_FP) and whose <c>sub</c> is
/// <c>&lt;ACCOUNT&gt;.&lt;USER&gt;</c>. Snowflake accepts at most an hour of lifetime; the token is kept until a minute
/// before it expires, on the <see cref="TimeProvider"/>.
/// </summary>
internal sealed class SnowflakeKeyPairJwt : IDisposable
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);
    private static readonly TimeSpan Margin = TimeSpan.FromMinutes(1);

    private readonly RSA _key;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private (string Token, DateTimeOffset RefreshAt)? _cached;

    public SnowflakeKeyPairJwt(string account, string user, string privateKeyPem, string? passphrase, TimeProvider time)
    {
        _time = time;
        _key = RSA.Create();
        try
        {
            if (passphrase is { Length: > 0 }) _key.ImportFromEncryptedPem(privateKeyPem, passphrase);
            else _key.ImportFromPem(privateKeyPem);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            _key.Dispose();
            throw new LlmError
            {
                Kind = ErrorKind.Auth,
                Provider = SnowflakeSpec.Name,
                Message = $"{SnowflakeSpec.Name}: snowflake_private_key is not a PEM RSA private key LLMux can read ({ex.GetType().Name}); an encrypted key needs snowflake_private_key_passphrase",
                Param = "snowflake_private_key",
                Code = "invalid_credentials",
            }.ToException(ex);
        }
        Fingerprint = "SHA256:" + Convert.ToBase64String(SHA256.HashData(_key.ExportSubjectPublicKeyInfo()));
        Subject = AccountPart(account) + "." + user.ToUpperInvariant();
    }

    /// <summary><c>SHA256:&lt;base64&gt;</c>, as Snowflake shows RSA_PUBLIC_KEY_FP.</summary>
    public string Fingerprint { get; }

    /// <summary><c>&lt;ACCOUNT&gt;.&lt;USER&gt;</c>, upper case.</summary>
    public string Subject { get; }

    /// <summary>
    /// The account as the JWT names it: upper case, and for an account locator with a region
    /// (<c>xy12345.us-east-2.aws</c>) only the locator, as Snowflake's key-pair guide says.
    /// </summary>
    internal static string AccountPart(string account)
    {
        var a = account.Trim();
        if (!a.Contains(".global", StringComparison.OrdinalIgnoreCase))
        {
            var dot = a.IndexOf('.');
            if (dot > 0) a = a[..dot];
        }
        else
        {
            var dash = a.IndexOf('-');
            if (dash > 0) a = a[..dash];
        }
        return a.ToUpperInvariant();
    }

    public string Token()
    {
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            if (_cached is { } c && now < c.RefreshAt) return c.Token;
            var token = Create(now);
            _cached = (token, now + Lifetime - Margin);
            return token;
        }
    }

    internal string Create(DateTimeOffset now)
    {
        var header = new ArrayBufferWriter<byte>(64);
        using (var w = new Utf8JsonWriter(header))
        {
            w.WriteStartObject();
            w.WriteString("alg"u8, "RS256"u8);
            w.WriteString("typ"u8, "JWT"u8);
            w.WriteEndObject();
        }
        var claims = new ArrayBufferWriter<byte>(256);
        var iat = now.ToUnixTimeSeconds();
        using (var w = new Utf8JsonWriter(claims))
        {
            w.WriteStartObject();
            w.WriteString("iss"u8, Subject + "." + Fingerprint);
            w.WriteString("sub"u8, Subject);
            w.WriteNumber("iat"u8, iat);
            w.WriteNumber("exp"u8, iat + (long)Lifetime.TotalSeconds);
            w.WriteEndObject();
        }
        var signingInput = Base64Url.EncodeToString(header.WrittenSpan) + "." + Base64Url.EncodeToString(claims.WrittenSpan);
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64Url.EncodeToString(signature);
    }

    public void Dispose() => _key.Dispose();
}
