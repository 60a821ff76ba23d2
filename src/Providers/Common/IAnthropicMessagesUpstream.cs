using LLMux.Pipeline.Context;

namespace LLMux.Providers.Common;

/// <summary>
/// The seam for Anthropic-to-Anthropic passthrough on <c>/v1/messages</c> (issue #7): a provider whose upstream
/// speaks the Messages API natively (Anthropic, Bedrock invoke Claude, Vertex Claude) implements this, and the
/// messages endpoint then forwards the client's body with only <c>model</c> rewritten and relays the SSE frames
/// as they arrive, reading usage on the way, instead of translating through the OpenAI chat shape.
/// Until a provider implements it, every call is translated.
/// </summary>
public interface IAnthropicMessagesUpstream
{
    /// <summary>True when <paramref name="deployment"/> can take an Anthropic Messages body as it is.</summary>
    bool AcceptsMessagesPassthrough(Deployment deployment);
}
