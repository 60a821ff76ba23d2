using System.Net.Http.Headers;
using System.Text.Json;
using LLMux.Pipeline.Errors;

namespace LLMux.Providers.Common;

/// <summary>
/// A bearer token obtained from a token endpoint (IBM IAM, Databricks OIDC, ...) and kept until shortly before it
/// expires, on the <see cref="TimeProvider"/>: one fetch at a time, concurrent callers wait for it; a token the
/// upstream refused is dropped so that the next call fetches a fresh one.
/// </summary>
public abstract class CachedAccessToken : IDisposable
{
    /// <summary>The token is renewed this long before it expires (at most half its lifetime).</summary>
    public static readonly TimeSpan RefreshMargin = TimeSpan.FromSeconds(60);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private Cached? _token;

    private sealed record Cached(string Value, DateTimeOffset RefreshAt);

    protected CachedAccessToken(TimeProvider time) => Time = time;

    protected TimeProvider Time { get; }

    /// <summary>How many times the token endpoint was called (tests assert the cache with it).</summary>
    public int Fetches => Volatile.Read(ref _fetches);
    private int _fetches;

    public async ValueTask<string> GetTokenAsync(CancellationToken cancellationToken)
    {
        var cached = Volatile.Read(ref _token);
        if (cached is not null && Time.GetUtcNow() < cached.RefreshAt) return cached.Value;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            cached = _token;
            if (cached is not null && Time.GetUtcNow() < cached.RefreshAt) return cached.Value;
            var issuedAt = Time.GetUtcNow();
            Interlocked.Increment(ref _fetches);
            var (token, lifetime) = await FetchAsync(cancellationToken).ConfigureAwait(false);
            if (lifetime <= TimeSpan.Zero) lifetime = TimeSpan.FromSeconds(1);
            var margin = lifetime / 2 < RefreshMargin ? lifetime / 2 : RefreshMargin;
            Volatile.Write(ref _token, new Cached(token, issuedAt + lifetime - margin));
            return token;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Forgets <paramref name="token"/> (the upstream answered 401 with it); a newer token is kept.</summary>
    public void Invalidate(string token)
    {
        var current = Volatile.Read(ref _token);
        if (current is not null && current.Value == token) Interlocked.CompareExchange(ref _token, null, current);
    }

    /// <summary>Calls the token endpoint: the token and how long it lives.</summary>
    protected abstract Task<(string Token, TimeSpan Lifetime)> FetchAsync(CancellationToken cancellationToken);

    /// <summary>
    /// POSTs an OAuth-style form and reads <c>{"access_token", "expires_in"}</c>. Failures are auth errors naming
    /// <paramref name="what"/> and the setting to check, never the secret that was sent.
    /// </summary>
    protected static async Task<(string Token, TimeSpan Lifetime)> PostFormAsync(
        HttpMessageInvoker http, Uri url, IEnumerable<KeyValuePair<string, string>> form, AuthenticationHeaderValue? authorization,
        string provider, string what, string hint, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.Authorization = authorization;
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new LlmError
            {
                Kind = ErrorKind.Unavailable,
                Provider = provider,
                Message = $"{provider}: could not reach {what} at {url.GetLeftPart(UriPartial.Path)} ({ex.HttpRequestError}); {hint}",
                Code = "token_endpoint_unreachable",
            }.ToException(ex);
        }
        using (response)
        {
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (!response.IsSuccessStatusCode)
            {
                throw new LlmError
                {
                    Kind = status >= 500 ? ErrorKind.Unavailable : ErrorKind.Auth,
                    Provider = provider,
                    Message = $"{provider}: {what} refused the credentials (HTTP {status}: {Describe(body)}); {hint}",
                    Code = "invalid_credentials",
                    UpstreamStatus = status,
                }.ToException();
            }
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
                throw new LlmError { Kind = ErrorKind.BadGateway, Provider = provider, Message = $"{provider}: {what} answered without an access_token" }.ToException();
            return (token, TimeSpan.FromSeconds(Math.Max(1, expiresIn)));
        }
    }

    /// <summary>The endpoint's error text (OAuth's <c>error</c>/<c>error_description</c>, IAM's <c>errorMessage</c>), never more than a line.</summary>
    private static string Describe(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                string? Text(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
                var error = Text("errorMessage") ?? Text("error_description") ?? Text("message");
                var code = Text("errorCode") ?? Text("error");
                if (error is not null || code is not null) return code is null ? error! : error is null ? code : $"{code}: {error}";
            }
        }
        catch (JsonException)
        {
            // Not JSON: described by length only below.
        }
        return body.Length == 0 ? "empty body" : $"{body.Length} bytes of error body";
    }

    public virtual void Dispose()
    {
        _gate.Dispose();
        GC.SuppressFinalize(this);
    }
}
