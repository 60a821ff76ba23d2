using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Streaming;

namespace LLMux.Stages.Messages;

/// <summary>
/// The Anthropic Messages inbound adapter as the host (or an embedding library) calls it: read and validate
/// the request, translate it into an OpenAI chat body for the standard pipeline, decorate the stream, and
/// turn the answer back into an Anthropic message.
/// </summary>
public static class MessagesApi
{
    /// <summary>Parses and validates an Anthropic request (throws <see cref="Pipeline.Errors.LlmException"/>); the caller disposes the document.</summary>
    public static JsonDocument Read(ReadOnlyMemory<byte> body, bool countTokens = false) => AnthropicRequestReader.Parse(body, countTokens);

    /// <summary>The OpenAI chat-completions body for <paramref name="request"/>, shaped for the model that will serve it.</summary>
    public static MessagesTranslation ToChatRequest(JsonElement request, Deployment? target) =>
        MessagesRequestTranslator.Translate(request, MessagesTarget.For(target));

    /// <summary>As <see cref="ToChatRequest(JsonElement, Deployment?)"/>, with litellm_settings' drop_params for deployments that set none.</summary>
    public static MessagesTranslation ToChatRequest(JsonElement request, Deployment? target, bool settingsDropParams) =>
        MessagesRequestTranslator.Translate(request, MessagesTarget.For(target, settingsDropParams));

    /// <summary>True when <paramref name="target"/> takes Anthropic's own fields and betas as they are (a Claude model with an Anthropic body).</summary>
    public static bool TakesAnthropicFields(Deployment? target) => MessagesTarget.For(target).TakesAnthropicFields;

    /// <summary>
    /// For a body forwarded to Anthropic as it is: the body without thinking blocks another provider signed, or
    /// null when there are none; <paramref name="thinkingRemoved"/> says <c>thinking</c> had to be turned off.
    /// </summary>
    public static PooledBuffer? WithoutForeignReasoning(ReadOnlySpan<byte> body, JsonElement request, out bool thinkingRemoved) =>
        ForeignReasoningFilter.Filter(body, request, out thinkingRemoved);

    /// <summary>Put on <see cref="LlmContext.StreamTranslatorDecorator"/> to stream Anthropic events.</summary>
    public static Func<StreamTranslator, LlmContext, StreamTranslator> StreamDecorator(IReadOnlyDictionary<string, string>? toolNames) =>
        toolNames is null ? AnthropicEventTranslator.Decorator : AnthropicEventTranslator.DecoratorRestoring(toolNames);

    /// <summary>The Anthropic message for a non-stream OpenAI completion.</summary>
    public static PooledBuffer ToMessage(ReadOnlySpan<byte> completion, string requestedModel, string? provider, IReadOnlyDictionary<string, string>? toolNames = null) =>
        AnthropicMessageWriter.Write(completion, requestedModel, provider, toolNames);

    /// <summary>An o200k_base estimate of the request's input tokens.</summary>
    public static long EstimateInputTokens(JsonElement request) => MessagesTokenEstimator.Count(request);
}
