using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Streaming;

namespace LLMux.Stages.Responses;

/// <summary>
/// The OpenAI Responses inbound adapter as the host (or an embedding library) calls it: read and validate the
/// request, translate it into an OpenAI chat body for the standard pipeline (the bridge), decorate the stream,
/// and turn the answer back into a Response object.
/// </summary>
public static class ResponsesApi
{
    /// <summary>Parses and validates a Responses request (throws <see cref="Pipeline.Errors.LlmException"/>); the caller disposes the document.</summary>
    public static JsonDocument Read(ReadOnlyMemory<byte> body, bool tokenCount = false) => ResponsesRequestReader.Parse(body, tokenCount);

    /// <summary>The id, time and request echo every Response object of this call is written with.</summary>
    public static ResponseShape Shape(JsonElement request, long createdAt) => new(request, ResponseIds.Response(), createdAt);

    /// <summary>The chat-completions body for <paramref name="request"/>, after the stored <paramref name="history"/> items (oldest first).</summary>
    public static ResponsesTranslation ToChatRequest(JsonElement request, IReadOnlyList<JsonElement> history, Deployment? target) =>
        ResponsesRequestTranslator.Translate(request, history, ResponsesTarget.For(target));

    /// <summary>The per-request stream state; <see cref="StreamDecorator"/> writes into it. <paramref name="onFinished"/> gets the
    /// Response object and output items before the terminal event is written (store them there).</summary>
    public static ResponsesStreamState StreamState(ResponseShape shape, Action<PooledBuffer, byte[]>? onFinished = null) => new(shape, onFinished);

    /// <summary>Put on <see cref="LlmContext.StreamTranslatorDecorator"/> to stream Responses events.</summary>
    public static Func<StreamTranslator, LlmContext, StreamTranslator> StreamDecorator(ResponsesStreamState state, BridgeTools tools) =>
        (inner, context) => new ResponsesEventTranslator(inner, state, context.ProviderName, tools);

    /// <summary>The streamed response once its terminal event was written: the Response object (the caller disposes it) and the output items to store.</summary>
    public static (PooledBuffer Body, byte[] OutputItems)? Finished(ResponsesStreamState state) =>
        state.Finished is { } f ? (f.Body, f.OutputItems) : null;

    /// <summary>The Response object for a non-stream chat completion, and its output items for the store.</summary>
    public static (PooledBuffer Body, byte[] OutputItems) ToResponse(ReadOnlySpan<byte> completion, ResponseShape shape, string? provider, BridgeTools tools)
    {
        var r = ResponseObjectWriter.Write(completion, shape, provider, tools);
        return (r.Body, r.OutputItems);
    }

    /// <summary>An o200k_base estimate of the input tokens of a translated request.</summary>
    public static long EstimateInputTokens(ReadOnlySpan<byte> chatBody) => ResponsesTokenEstimator.Count(chatBody);
}
