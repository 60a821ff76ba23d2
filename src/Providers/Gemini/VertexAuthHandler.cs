using System.Net;
using System.Net.Http.Headers;

namespace LLMux.Providers.Gemini;

/// <summary>
/// Puts a service-account access token on each Vertex request (fetched asynchronously, which request building
/// cannot do) and, when Vertex answers 401, drops that token and retries once with a fresh one.
/// </summary>
internal sealed class VertexAuthHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    public static readonly HttpRequestOptionsKey<ServiceAccountTokenSource> TokenSource = new("llmux.vertex.token_source");

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!request.Options.TryGetValue(TokenSource, out var source)) return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var token = await source.GetTokenAsync(cancellationToken).ConfigureAwait(false);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Unauthorized) return response;

        response.Dispose();
        source.Invalidate(token);
        token = await source.GetTokenAsync(cancellationToken).ConfigureAwait(false);
        var retry = Clone(request);
        retry.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await base.SendAsync(retry, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A message cannot be sent twice; the body (a pooled buffer) is shared and written again.</summary>
    private static HttpRequestMessage Clone(HttpRequestMessage request)
    {
        var copy = new HttpRequestMessage(request.Method, request.RequestUri)
        {
            Content = request.Content,
            Version = request.Version,
            VersionPolicy = request.VersionPolicy,
        };
        foreach (var (name, values) in request.Headers) copy.Headers.TryAddWithoutValidation(name, values);
        return copy;
    }
}
