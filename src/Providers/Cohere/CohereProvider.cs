using System.Net.Http.Headers;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;
using LLMux.Providers.Common;

namespace LLMux.Providers.Cohere;

/// <summary><c>cohere/&lt;model&gt;</c>: Cohere's v2 <c>/v2/chat</c> (SSE streams) and <c>/v2/embed</c>, Bearer auth.</summary>
internal sealed class CohereProvider : LlmProvider
{
    public override ProviderSpec Spec => CohereSpec.Spec;

    public override HttpRequestMessage CreateRequest(LlmContext context)
    {
        var deployment = context.Deployment!;
        var key = deployment.ApiKey?.Reveal() ?? Environment.GetEnvironmentVariable(Spec.ApiKeyEnv!);
        if (string.IsNullOrEmpty(key))
        {
            throw new LlmError
            {
                Kind = ErrorKind.Auth,
                Message = $"cohere: no API key for model `{deployment.ModelName}`; set litellm_params.api_key (e.g. os.environ/COHERE_API_KEY) or the COHERE_API_KEY environment variable",
                Param = "api_key",
                Code = "missing_api_key",
                Provider = Spec.Name,
            }.ToException();
        }
        var apiBase = deployment.ApiBase ?? Environment.GetEnvironmentVariable(Spec.ApiBaseEnv!) ?? CohereSpec.DefaultApiBase;
        if (context.Mode == LlmMode.Rerank)
        {
            var rerank = new HttpRequestMessage(HttpMethod.Post, ProviderUrls.Join(apiBase, Modes.RerankDialect.Cohere.Path))
            {
                Content = new PooledContent(Modes.RerankWire.WriteBody(context, (Modes.RerankRequest)context.ModeRequest!.Parsed!, Modes.RerankDialect.Cohere, deployment.UpstreamModel)),
                Version = System.Net.HttpVersion.Version11,
            };
            rerank.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
            return rerank;
        }
        var embeddings = context.Mode == LlmMode.Embeddings;
        PooledBuffer body;
        if (embeddings) body = CohereEmbeddings.Write(context);
        else
        {
            body = new PooledBuffer(Math.Max(1024, context.Body.Length + 256));
            try
            {
                CohereRequestWriter.Write(context, body);
            }
            catch
            {
                body.Dispose();
                throw;
            }
        }
        var request = new HttpRequestMessage(HttpMethod.Post, ProviderUrls.Join(apiBase, embeddings ? "v2/embed" : "v2/chat"))
        {
            Content = new PooledContent(body),
            Version = System.Net.HttpVersion.Version11,
        };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        if (context.IsStream) request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        return request;
    }

    public override async ValueTask ReadResponseAsync(LlmContext context, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        using var body = await ResponseBodyReader.ReadAsync(response, Spec.Name, cancellationToken).ConfigureAwait(false);
        var model = context.Deployment!.UpstreamModel;
        if (context.Mode == LlmMode.Rerank)
        {
            Modes.RerankWire.ReadAnswer(context, body.Span, (Modes.RerankRequest)context.ModeRequest!.Parsed!, Modes.RerankDialect.Cohere, Spec.Name);
            return;
        }
        if (context.Mode == LlmMode.Embeddings)
        {
            ChatCompletionResponse.Write(context, CohereEmbeddings.Read(body.Span, context.Embedding!, model));
            return;
        }
        ChatCompletionResponse.Write(context, CohereResponseReader.Read(body.Span, model, context.TimeProvider.GetUtcNow().ToUnixTimeSeconds()));
    }

    public override StreamTranslator CreateStreamTranslator(LlmContext context) => new CohereStreamTranslator(context);

    public override LlmError MapError(LlmContext context, int status, ReadOnlySpan<byte> body, HttpResponseHeaders headers) =>
        CohereErrorMapper.Map(status, body, headers);
}
