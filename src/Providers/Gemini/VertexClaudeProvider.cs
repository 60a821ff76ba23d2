using System.Net.Http.Headers;
using System.Text.Json;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;
using LLMux.Providers.Anthropic;
using LLMux.Providers.Common;

namespace LLMux.Providers.Gemini;

/// <summary>
/// Claude on Vertex AI (LiteLLM's VertexAIAnthropicConfig and VertexAIPartnerModelsAnthropicMessagesConfig):
/// <c>…/publishers/anthropic/models/{model}:rawPredict</c> (<c>:streamRawPredict</c> with <c>stream: true</c>), the
/// same service-account auth and URL rules as Gemini on Vertex, Anthropic bodies and SSE answers inside.
/// </summary>
internal sealed class VertexClaudeProvider(VertexProvider vertex) : LlmProvider, IAnthropicMessagesUpstream, ITokenCountingProvider
{
    public bool CountsFromChatRequest(Deployment deployment) => false;

    /// <summary>
    /// <c>…/publishers/anthropic/models/count-tokens:rawPredict</c> with Anthropic's count body, <c>model</c> included
    /// (the URL names no model). With an <c>api_base</c> (a model resource URL) its <c>/models/{model}</c> becomes <c>/models/count-tokens</c>.
    /// </summary>
    public HttpRequestMessage? CreateCountTokensRequest(LlmContext context)
    {
        var deployment = context.Deployment!;
        string url;
        if (deployment.ApiBase is { } apiBase)
        {
            var trimmed = apiBase.TrimEnd('/');
            var models = trimmed.LastIndexOf("/models/", StringComparison.Ordinal);
            url = (models >= 0 ? trimmed[..models] : trimmed) + "/models/count-tokens:rawPredict";
        }
        else url = vertex.PublisherUrl(deployment, Publisher, "count-tokens", "rawPredict");
        var body = new PooledBuffer(Math.Max(256, context.Body.Length + 128));
        try
        {
            Pipeline.Json.JsonBodyRewriter.Rewrite(context.Body.Span, body, deployment.UpstreamModel, null, forceIncludeUsage: false);
        }
        catch
        {
            body.Dispose();
            throw;
        }
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(url, UriKind.Absolute)) { Content = new PooledContent(body), Version = System.Net.HttpVersion.Version11 };
        try
        {
            vertex.Authorize(request, deployment);
            return request;
        }
        catch
        {
            request.Dispose();
            throw;
        }
    }

    public long ReadTokenCount(ReadOnlySpan<byte> body) => TokenCountAnswer.Read(body, "input_tokens"u8, GeminiSpec.VertexName);

    public const string Publisher = "anthropic";

    public override ProviderSpec Spec => VertexClaudeSpec.Spec;

    public override HttpMessageInvoker? Transport => vertex.AuthorizingTransport;

    public static bool IsClaude(string model) => model.StartsWith("claude", StringComparison.Ordinal);

    public bool AcceptsMessagesPassthrough(Deployment deployment) => true;

    public override HttpRequestMessage CreateRequest(LlmContext context)
    {
        var deployment = context.Deployment!;
        var url = vertex.PublisherUrl(deployment, Publisher, deployment.UpstreamModel, context.IsStream ? "streamRawPredict" : "rawPredict");
        var body = AnthropicPlatformAnswer.WriteBody(context, AnthropicPlatform.VertexAI);
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(url, UriKind.Absolute))
        {
            Content = new PooledContent(body),
            Version = System.Net.HttpVersion.Version11,
        };
        try
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(context.IsStream ? "text/event-stream" : "application/json"));
            vertex.Authorize(request, deployment);
            return request;
        }
        catch
        {
            request.Dispose();
            throw;
        }
    }

    public override ValueTask ReadResponseAsync(LlmContext context, HttpResponseMessage response, CancellationToken cancellationToken) =>
        AnthropicPlatformAnswer.ReadAsync(context, response, GeminiSpec.VertexName, cancellationToken);

    public override StreamTranslator CreateStreamTranslator(LlmContext context) =>
        context.MessagesPassthrough
            ? new AnthropicMessagesPassthrough(context, GeminiSpec.VertexName)
            : new AnthropicStreamTranslator(context, AnthropicPlatformAnswer.UsesJsonTool(context), GeminiSpec.VertexName);

    /// <summary>Vertex answers its own errors (auth, quota, unknown model) in Google's shape and the model's in Anthropic's.</summary>
    public override LlmError MapError(LlmContext context, int status, ReadOnlySpan<byte> body, HttpResponseHeaders headers) =>
        IsAnthropicError(body) ? AnthropicErrorMapper.Map(status, body, headers) with { Provider = GeminiSpec.VertexName } : GeminiErrorMapper.Map(GeminiSpec.VertexName, status, body, headers);

    private static bool IsAnthropicError(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isType = reader.ValueTextEquals("type"u8);
                reader.Read();
                if (isType) return reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("error"u8);
                reader.Skip();
            }
        }
        catch (JsonException) { }
        return false;
    }
}
