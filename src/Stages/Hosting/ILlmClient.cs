using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Wire;

namespace LLMux.Stages.Hosting;

/// <summary>
/// Calls LLMux in process: the same validation, routing, retries, providers and accounting as the HTTP host.
/// Failures throw <see cref="Pipeline.Errors.LlmException"/> with the error in LLMux's taxonomy; cancelling the
/// token cancels the upstream call (and closes a running upstream stream).
/// </summary>
public interface ILlmClient
{
    /// <summary>A chat completion (the request is sent with <c>stream: false</c>).</summary>
    Task<ChatCompletion> CompleteAsync(ChatRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// A streamed chat completion, chunk by chunk as the upstream sends them (the request is sent with
    /// <c>stream: true</c>). An upstream error before the first chunk throws from the first <c>MoveNextAsync</c>;
    /// one after content throws where it happens. Stopping the enumeration early closes the upstream stream.
    /// </summary>
    IAsyncEnumerable<ChatCompletionChunk> StreamAsync(ChatRequest request, CancellationToken cancellationToken = default);

    /// <summary>Embeddings for the request's input.</summary>
    Task<EmbeddingResponse> EmbedAsync(EmbeddingRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// The proxy path: an OpenAI request body in, the OpenAI answer bytes (JSON, or SSE frames when the body
    /// asks for <c>stream: true</c>) out, untouched by any object model. <paramref name="body"/> must stay valid
    /// until the returned response is disposed. Dispose the response to return its buffers.
    /// </summary>
    Task<LlmRawResponse> SendRawAsync(ReadOnlyMemory<byte> body, LlmMode mode = LlmMode.Chat, CancellationToken cancellationToken = default);

    /// <summary>
    /// <see cref="SendRawAsync(ReadOnlyMemory{byte}, LlmMode, CancellationToken)"/> on behalf of <paramref name="caller"/>:
    /// with governance on, that key's models, limits and budgets apply and the spend is charged to it (a batch runs
    /// as the key that created it).
    /// </summary>
    Task<LlmRawResponse> SendRawAsync(ReadOnlyMemory<byte> body, LlmMode mode, LLMux.Pipeline.Context.Caller? caller, CancellationToken cancellationToken = default);
}
