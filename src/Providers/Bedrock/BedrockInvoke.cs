using LLMux.Pipeline.Context;
using LLMux.Pipeline.Streaming;
using LLMux.Providers.Anthropic;
using LLMux.Providers.Common;

namespace LLMux.Providers.Bedrock;

/// <summary>
/// InvokeModel / InvokeModelWithResponseStream with an Anthropic Messages body (LiteLLM's
/// AmazonAnthropicClaudeMessagesConfig and its chat twin): a <c>/v1/messages</c> body goes through nearly as it came,
/// a chat request is written by the Anthropic writer; either way the body then follows Bedrock's rules
/// (<see cref="AnthropicPlatform.BedrockInvoke"/>). Answers are Anthropic's, streamed inside eventstream <c>chunk</c>s.
/// </summary>
internal static class BedrockInvoke
{
    public static string Operation(bool stream) => stream ? "invoke-with-response-stream" : "invoke";

    /// <summary>The upstream body for this call, in a pooled buffer the caller owns.</summary>
    public static PooledBuffer WriteBody(LlmContext context) => AnthropicPlatformAnswer.WriteBody(context, AnthropicPlatform.BedrockInvoke);

    public static ValueTask ReadResponseAsync(LlmContext context, HttpResponseMessage response, string provider, CancellationToken cancellationToken) =>
        AnthropicPlatformAnswer.ReadAsync(context, response, provider, cancellationToken);

    public static StreamTranslator CreateStreamTranslator(LlmContext context) => new InvokeStreamTranslator(context, AnthropicPlatformAnswer.UsesJsonTool(context));
}
