using System.Net;
using System.Net.Http.Headers;

namespace LLMux.Providers.Common;

/// <summary>
/// Puts a <see cref="CachedAccessToken"/>'s bearer token on each request that names one (fetching it is async, which
/// request building cannot be) and, when the upstream answers 401, drops that token and retries once with a fresh one.
/// </summary>
public sealed class AccessTokenHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    public static readonly HttpRequestOptionsKey<CachedAccessToken> Source = new("llmux.access_token");

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!request.Options.TryGetValue(Source, out var source)) return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var token = await source.GetTokenAsync(cancellationToken).ConfigureAwait(false);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Unauthorized) return response;

        response.Dispose();
        source.Invalidate(token);
        token = await source.GetTokenAsync(cancellationToken).ConfigureAwait(false);
        // A message cannot be sent twice; the body (a pooled buffer) is shared and written again.
        var retry = new HttpRequestMessage(request.Method, request.RequestUri) { Content = request.Content, Version = request.Version, VersionPolicy = request.VersionPolicy };
        foreach (var (name, values) in request.Headers) retry.Headers.TryAddWithoutValidation(name, values);
        retry.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await base.SendAsync(retry, cancellationToken).ConfigureAwait(false);
    }
}
