using LLMux.Pipeline.Context;

namespace LLMux.Providers.Common;

/// <summary>
/// A provider that can count a request's input tokens exactly (<c>/v1/messages/count_tokens</c>): Anthropic's count
/// endpoint, Bedrock's CountTokens, Vertex's count-tokens for Claude, Gemini's countTokens. The context carries the
/// deployment, the client's Anthropic body in <see cref="LlmContext.Body"/>, its <c>anthropic-*</c> headers in
/// <see cref="LlmContext.ForwardHeaders"/> and, when <see cref="CountsFromChatRequest"/> says so, the request
/// translated to the chat shape in <see cref="LlmContext.Chat"/>.
/// </summary>
public interface ITokenCountingProvider
{
    /// <summary>True when the provider counts from the translated chat request rather than the Anthropic body.</summary>
    bool CountsFromChatRequest(Deployment deployment);

    /// <summary>The upstream count request, or null when this deployment's model has no exact count (the caller estimates).</summary>
    HttpRequestMessage? CreateCountTokensRequest(LlmContext context);

    /// <summary>The input-token count in a successful answer.</summary>
    long ReadTokenCount(ReadOnlySpan<byte> body);
}
