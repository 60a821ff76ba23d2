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
}
