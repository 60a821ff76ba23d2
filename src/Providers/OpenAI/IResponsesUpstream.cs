using LLMux.Pipeline.Context;

namespace LLMux.Providers.OpenAI;

/// <summary>
/// A provider that speaks OpenAI's Responses API itself (OpenAI, Azure OpenAI, xAI): <c>/v1/responses</c> to it
/// is a passthrough (body forwarded with <c>model</c> rewritten, frames as they arrive, usage read on the way)
/// instead of the chat bridge.
/// </summary>
public interface IResponsesUpstream
{
    bool AcceptsResponsesPassthrough(Deployment deployment);

    /// <summary>
    /// A request about a response this deployment made: <c>GET</c>/<c>DELETE</c> <c>{responses}/{id}</c>, or
    /// <c>{responses}/{id}/{action}</c> (<c>cancel</c>, <c>input_items</c>), with the client's query string after the
    /// deployment's own (Azure's <c>api-version</c> stays in the query, after the path), and the deployment's auth.
    /// </summary>
    HttpRequestMessage CreateStoredResponseRequest(Deployment deployment, HttpMethod method, string id, string? action, string query);
}
