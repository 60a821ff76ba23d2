using LLMux.Providers.Common;

namespace LLMux.Stages;

/// <summary>The one shared <see cref="HttpMessageInvoker"/> every upstream call goes through (no HttpClient per request).</summary>
public static class UpstreamTransport
{
    public static HttpMessageInvoker Create(TimeSpan? connectTimeout = null) => new(UpstreamHandler.Create(connectTimeout), disposeHandler: true);
}
