using System.Runtime.CompilerServices;
using System.Text.Json;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Pipeline.Wire;

namespace LLMux.Stages.Hosting;

/// <summary>Drives one pooled <see cref="LlmContext"/> through the pipeline per call, as the HTTP endpoints do.</summary>
internal sealed class LlmClient(LLMuxRuntime runtime) : ILlmClient
{
    public async Task<ChatCompletion> CompleteAsync(ChatRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var body = Serialize(request, stream: false);
        await using var response = await SendAsync(body.Memory, LlmMode.Chat, body, cancellationToken).ConfigureAwait(false);
        return Deserialize(response.Body, WireJson.Default.ChatCompletion);
    }

    public async IAsyncEnumerable<ChatCompletionChunk> StreamAsync(ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var body = Serialize(request, stream: true);
        await using var response = await SendAsync(body.Memory, LlmMode.Chat, body, cancellationToken).ConfigureAwait(false);
        if (!response.IsStream)
        {
            // An upstream that answered a stream request with one JSON body: nothing to split.
            throw new LlmError { Kind = ErrorKind.BadGateway, Message = "the upstream answered a stream request without a stream", Provider = response.ProviderName }.ToException();
        }
        using var reader = new ChatChunkReader();
        var chunks = new List<ChatCompletionChunk>();
        await foreach (var bytes in response.ReadCoreAsync(throwOnError: true, cancellationToken).ConfigureAwait(false))
        {
            chunks.Clear();
            var done = reader.Feed(bytes.Span, chunks);
            foreach (var chunk in chunks) yield return chunk;
            if (done) yield break;
        }
    }

    public async Task<EmbeddingResponse> EmbedAsync(EmbeddingRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var body = new PooledBuffer(1024);
        using (var w = new Utf8JsonWriter(body, JsonOut.Options)) JsonSerializer.Serialize(w, request, WireJson.Default.EmbeddingRequest);
        await using var response = await SendAsync(body.Memory, LlmMode.Embeddings, body, cancellationToken).ConfigureAwait(false);
        return Deserialize(response.Body, WireJson.Default.EmbeddingResponse);
    }

    public Task<LlmRawResponse> SendRawAsync(ReadOnlyMemory<byte> body, LlmMode mode = LlmMode.Chat, CancellationToken cancellationToken = default) =>
        SendAsync(body, mode, null, cancellationToken);

    public Task<LlmRawResponse> SendRawAsync(ReadOnlyMemory<byte> body, LlmMode mode, Caller? caller, CancellationToken cancellationToken = default) =>
        SendAsync(body, mode, null, cancellationToken, caller);

    private async Task<LlmRawResponse> SendAsync(ReadOnlyMemory<byte> body, LlmMode mode, PooledBuffer? owned, CancellationToken cancellationToken, Caller? caller = null)
    {
        var context = runtime.ContextPool.Rent();
        context.Mode = mode;
        context.Caller = caller;
        context.ClientProtocol = ClientProtocol.OpenAI;
        context.RequestAborted = cancellationToken;
        context.Body = body;
        var response = new LlmRawResponse(runtime.ContextPool, context, owned);
        try
        {
            await runtime.Pipeline(context).ConfigureAwait(false);
            if (context.Stream is not null) await response.StartStreamAsync(cancellationToken).ConfigureAwait(false);
            else if (context.ResponseBody is null)
                throw new LlmError { Kind = ErrorKind.BadGateway, Message = "the upstream call ended without an answer", Provider = context.ProviderName }.ToException();
            return response;
        }
        catch
        {
            await response.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Writes the request with the stream flag this method needs; the caller's object is left as it was.</summary>
    private static PooledBuffer Serialize(ChatRequest request, bool stream)
    {
        var body = new PooledBuffer(4096);
        var saved = request.Stream;
        try
        {
            request.Stream = stream;
            using var w = new Utf8JsonWriter(body, JsonOut.Options);
            JsonSerializer.Serialize(w, request, WireJson.Default.ChatRequest);
        }
        catch
        {
            body.Dispose();
            throw;
        }
        finally
        {
            request.Stream = saved;
        }
        return body;
    }

    private static T Deserialize<T>(ReadOnlyMemory<byte> json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info) =>
        JsonSerializer.Deserialize(json.Span, info) ?? throw new LlmError { Kind = ErrorKind.BadGateway, Message = "the answer was JSON null" }.ToException();
}
