using System.Net.Http.Headers;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;
using LLMux.Providers.Common;
using LLMux.Providers.OpenAI;

namespace LLMux.Providers.Ollama;

/// <summary><c>ollama_chat/&lt;model&gt;</c>: Ollama's native <c>/api/chat</c>, streamed as newline-delimited JSON.</summary>
internal sealed class OllamaChatProvider : LlmProvider
{
    public override ProviderSpec Spec => OllamaChatSpec.Spec;

    public override HttpRequestMessage CreateRequest(LlmContext context)
    {
        var deployment = context.Deployment!;
        var apiBase = deployment.ApiBase ?? Environment.GetEnvironmentVariable(Spec.ApiBaseEnv!) ?? OllamaChatSpec.DefaultApiBase;
        var body = new PooledBuffer(Math.Max(1024, context.Body.Length + 256));
        try
        {
            OllamaChatRequestWriter.Write(context, body);
        }
        catch
        {
            body.Dispose();
            throw;
        }
        var request = new HttpRequestMessage(HttpMethod.Post, ProviderUrls.Join(apiBase, "api/chat"))
        {
            Content = new PooledContent(body),
            Version = System.Net.HttpVersion.Version11,
        };
        var key = deployment.ApiKey?.Reveal() ?? Environment.GetEnvironmentVariable(Spec.ApiKeyEnv!);
        if (!string.IsNullOrEmpty(key)) request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        return request;
    }

    public override async ValueTask ReadResponseAsync(LlmContext context, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        using var body = await ResponseBodyReader.ReadAsync(response, Spec.Name, cancellationToken).ConfigureAwait(false);
        var completion = OllamaResponseReader.Read(body.Span, context.Deployment!.UpstreamModel, context.TimeProvider.GetUtcNow().ToUnixTimeSeconds());
        ChatCompletionResponse.Write(context, completion);
    }

    public override StreamTranslator CreateStreamTranslator(LlmContext context) => new OllamaStreamTranslator(context);

    /// <summary>Ollama errors are <c>{"error":"..."}</c>; the OpenAI mapper reads that shape and LiteLLM's status rules apply.</summary>
    public override LlmError MapError(LlmContext context, int status, ReadOnlySpan<byte> body, HttpResponseHeaders headers) =>
        OpenAIErrorMapper.Map(Spec.Name, status, body, headers);
}
