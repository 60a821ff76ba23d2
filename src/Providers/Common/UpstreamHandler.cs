using System.Net;

namespace LLMux.Providers.Common;

/// <summary>The socket handler settings of every upstream connection pool (the shared transport, Vertex's own).</summary>
public static class UpstreamHandler
{
    public static SocketsHttpHandler Create(TimeSpan? connectTimeout = null) => new()
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
    };
}
