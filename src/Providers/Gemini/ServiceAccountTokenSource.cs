using System.Buffers.Text;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Errors;

namespace LLMux.Providers.Gemini;

/// <summary>
/// OAuth 2.0 access tokens for one service account (Google's server-to-server flow): an RS256-signed JWT is
/// exchanged at the account's <c>token_uri</c>; the token is cached until shortly before it expires, and
/// dropped when the upstream answers 401 with it.
/// </summary>
internal sealed class ServiceAccountTokenSource : IDisposable
{
    public const string Scope = "https://www.googleapis.com/auth/cloud-platform";
    private static readonly TimeSpan MaxRefreshMargin = TimeSpan.FromMinutes(5);

    private readonly VertexCredentials _credentials;
    private readonly HttpMessageInvoker _http;
    private readonly TimeProvider _time;
    private readonly RSA _key;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private CachedToken? _token;

    private sealed record CachedToken(string Value, DateTimeOffset RefreshAt);

    public ServiceAccountTokenSource(VertexCredentials credentials, HttpMessageInvoker http, TimeProvider time, string source)
    {
        _credentials = credentials;
        _http = http;
        _time = time;
        _key = RSA.Create();
        try
        {
            _key.ImportFromPem(credentials.PrivateKeyPem);
        }
        catch (ArgumentException)
        {
            _key.Dispose();
            throw VertexCredentials.Bad(source, "private_key is not a PEM RSA private key");
        }
        catch (CryptographicException)
        {
            _key.Dispose();
            throw VertexCredentials.Bad(source, "private_key cannot be read as an RSA key");
        }
    }

    public VertexCredentials Credentials => _credentials;

    public async ValueTask<string> GetTokenAsync(CancellationToken cancellationToken)
    {
        var cached = Volatile.Read(ref _token);
        if (cached is not null && _time.GetUtcNow() < cached.RefreshAt) return cached.Value;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            cached = _token;
            if (cached is not null && _time.GetUtcNow() < cached.RefreshAt) return cached.Value;
            var fresh = await FetchAsync(cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _token, fresh);
            return fresh.Value;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Forgets <paramref name="token"/> (the upstream refused it); a newer token is kept.</summary>
    public void Invalidate(string token)
    {
        var current = Volatile.Read(ref _token);
        if (current is not null && current.Value == token) Interlocked.CompareExchange(ref _token, null, current);
    }

    internal string CreateAssertion(DateTimeOffset now)
    {
        var header = new System.Buffers.ArrayBufferWriter<byte>(128);
        using (var w = new Utf8JsonWriter(header))
        {
            w.WriteStartObject();
            w.WriteString("alg"u8, "RS256"u8);
            w.WriteString("typ"u8, "JWT"u8);
            if (_credentials.PrivateKeyId is { } kid) w.WriteString("kid"u8, kid);
            w.WriteEndObject();
        }
        var claims = new System.Buffers.ArrayBufferWriter<byte>(256);
        var iat = now.ToUnixTimeSeconds();
        using (var w = new Utf8JsonWriter(claims))
        {
            w.WriteStartObject();
            w.WriteString("iss"u8, _credentials.ClientEmail);
            w.WriteString("scope"u8, Scope);
            w.WriteString("aud"u8, _credentials.TokenUri);
            w.WriteNumber("iat"u8, iat);
            w.WriteNumber("exp"u8, iat + 3600);
            w.WriteEndObject();
        }
        var signingInput = Base64Url.EncodeToString(header.WrittenSpan) + "." + Base64Url.EncodeToString(claims.WrittenSpan);
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64Url.EncodeToString(signature);
    }

    private async Task<CachedToken> FetchAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var assertion = CreateAssertion(now);
        using var request = new HttpRequestMessage(HttpMethod.Post, _credentials.TokenUri)
        {
            Content = new FormUrlEncodedContent([
                new("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                new("assertion", assertion),
            ]),
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new LlmError
            {
                Kind = ErrorKind.Unavailable,
                Provider = GeminiSpec.VertexName,
                Message = $"vertex_ai: could not reach the token endpoint {_credentials.TokenUri} for {_credentials} ({ex.HttpRequestError}); check the token_uri in vertex_credentials and the network",
                Code = "token_endpoint_unreachable",
            }.ToException(ex);
        }
        using (response)
        {
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                var status = (int)response.StatusCode;
                throw new LlmError
                {
                    Kind = status >= 500 ? ErrorKind.Unavailable : ErrorKind.Auth,
                    Provider = GeminiSpec.VertexName,
                    Message = $"vertex_ai: the token endpoint {_credentials.TokenUri} refused {_credentials} (HTTP {status}: {Describe(body)}); check vertex_credentials",
                    Param = "vertex_credentials",
                    Code = "invalid_credentials",
                    UpstreamStatus = status,
                }.ToException();
            }
            return Parse(body, now);
        }
    }

    private CachedToken Parse(byte[] body, DateTimeOffset issuedAt)
    {
        string? token = null;
        long expiresIn = 3600;
        try
        {
            var reader = new Utf8JsonReader(body);
            if (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("access_token"u8)) { reader.Read(); token = reader.TokenType == JsonTokenType.String ? reader.GetString() : null; }
                    else if (reader.ValueTextEquals("expires_in"u8)) { reader.Read(); if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var e)) expiresIn = e; }
                    else { reader.Read(); reader.Skip(); }
                }
            }
        }
        catch (JsonException)
        {
            token = null;
        }
        if (string.IsNullOrEmpty(token))
        {
            throw new LlmError
            {
                Kind = ErrorKind.BadGateway,
                Provider = GeminiSpec.VertexName,
                Message = $"vertex_ai: the token endpoint {_credentials.TokenUri} answered without an access_token",
            }.ToException();
        }
        var lifetime = TimeSpan.FromSeconds(Math.Max(1, expiresIn));
        var margin = lifetime / 2 < MaxRefreshMargin ? lifetime / 2 : MaxRefreshMargin;
        return new CachedToken(token, issuedAt + lifetime - margin);
    }

    /// <summary>The OAuth error and description (never the assertion).</summary>
    private static string Describe(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String)
            {
                return root.TryGetProperty("error_description", out var d) && d.ValueKind == JsonValueKind.String ? $"{e.GetString()}: {d.GetString()}" : e.GetString()!;
            }
        }
        catch (JsonException)
        {
            // Not JSON: described by length only below.
        }
        return body.Length == 0 ? "empty body" : $"{body.Length} bytes of non-OAuth error body";
    }

    public void Dispose()
    {
        _key.Dispose();
        _gate.Dispose();
    }
}
