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
    public static ResponsesTranslation ToChatRequest(JsonElement request, IReadOnlyList<JsonElement> history, Deployment? target, IReadOnlyDictionary<string, JsonElement>? referenced = null) =>
        ResponsesRequestTranslator.Translate(request, history, ResponsesTarget.For(target), referenced);

    /// <summary>The ids of the <c>item_reference</c> items of the request's input (to be looked up in the store when the chain does not hold them).</summary>
    public static List<string>? ItemReferences(JsonElement request)
    {
        if (!request.TryGetProperty("input", out var input) || input.ValueKind != JsonValueKind.Array) return null;
        List<string>? ids = null;
        foreach (var item in input.EnumerateArray())
            if (ResponsesRequestReader.Str(item, "type") == "item_reference" && ResponsesRequestReader.Str(item, "id") is { } id) (ids ??= []).Add(id);
        return ids;
    }

    /// <summary>The shape of a response whose id and creation time are already known (a background response run later).</summary>
    public static ResponseShape Shape(JsonElement request, string id, long createdAt) => new(request, id, createdAt);

    /// <summary>A Response object with no output yet or any more: <c>queued</c>, <c>in_progress</c>, <c>cancelled</c>, or <c>failed</c> with its error.</summary>
    public static byte[] StatusResponse(ResponseShape shape, string status, (string Code, string Message)? error = null)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer, Pipeline.Json.JsonOut.Options))
        {
            w.WriteStartObject();
            shape.WriteHead(w, status, null, null, error);
            w.WriteStartArray("output"u8);
            w.WriteEndArray();
            shape.WriteTail(w, null);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The <c>response.error.code</c> OpenAI would give for <paramref name="error"/>.</summary>
    public static string FailureCode(Pipeline.Errors.LlmError error) => ResponsesStreamState.FailureCode(error);

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
