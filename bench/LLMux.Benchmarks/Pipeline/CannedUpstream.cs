using System.Net;
using System.Net.Http.Headers;
using LLMux.Pipeline.Capabilities;
using LLMux.Providers.OpenAI;

namespace LLMux.Benchmarks.Pipeline;

/// <summary>An in-memory upstream that answers every request with the same bytes: no sockets, so only our own work is measured.</summary>
internal sealed class CannedHandler(byte[] body) : HttpMessageHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = content, RequestMessage = request });
    }
}

/// <summary>The real OpenAI provider over the canned transport.</summary>
internal sealed class CannedOpenAIProvider(HttpMessageInvoker transport, ProviderSpec spec) : OpenAIProvider(spec)
{
    public override HttpMessageInvoker? Transport => transport;
}
