using System.Net;

namespace LLMux.Stages;

/// <summary>The one shared <see cref="HttpMessageInvoker"/> every upstream call goes through (no HttpClient per request).</summary>
public static class UpstreamTransport
{
    public static HttpMessageInvoker Create(TimeSpan? connectTimeout = null) => new(new SocketsHttpHandler
    {
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(90),
        ConnectTimeout = connectTimeout ?? TimeSpan.FromSeconds(10),
        MaxConnectionsPerServer = int.MaxValue,
        EnableMultipleHttp2Connections = true,
        ActivityHeadersPropagator = null,
        // An answer left unread (the client went away) closes its connection instead of being drained for reuse:
        // draining would let the model generate (and bill) the rest of an answer nobody reads.
        MaxResponseDrainSize = 0,
    }, disposeHandler: true);
}
