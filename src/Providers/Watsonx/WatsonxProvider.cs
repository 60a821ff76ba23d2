using System.Collections.Concurrent;
using System.Net.Http.Headers;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;
using LLMux.Providers.Common;

namespace LLMux.Providers.Watsonx;

/// <summary>
/// <c>watsonx/&lt;model_id&gt;</c> and <c>watsonx/deployment/&lt;id&gt;</c>: IBM watsonx.ai's chat and embeddings APIs.
/// The IAM token is fetched asynchronously by the transport's <see cref="AccessTokenHandler"/>, one cached token per
/// API key and IAM URL.
/// </summary>
internal sealed class WatsonxProvider : LlmProvider, IDisposable
{
    private readonly TimeProvider _time;
    private readonly Func<string, string?> _env;
    private readonly SocketsHttpHandler _socket;
    private readonly HttpMessageInvoker _tokenHttp;
    private readonly HttpMessageInvoker _transport;
    private readonly ConcurrentDictionary<(string Key, string Iam), WatsonxIamToken> _tokens = new();

    public WatsonxProvider(TimeProvider? time = null, Func<string, string?>? environment = null)
    {
        _time = time ?? TimeProvider.System;
        _env = environment ?? Environment.GetEnvironmentVariable;
        _socket = UpstreamHandler.Create();
        _tokenHttp = new HttpMessageInvoker(_socket, disposeHandler: false);
        _transport = new HttpMessageInvoker(new AccessTokenHandler(_socket), disposeHandler: false);
    }

    public override ProviderSpec Spec => WatsonxSpec.Spec;

    public override HttpMessageInvoker? Transport => _transport;

    /// <summary>The IAM token cache of one API key (tests read its fetch count).</summary>
    internal WatsonxIamToken? TokenFor(string apiKey, string iamUrl) => _tokens.TryGetValue((apiKey, iamUrl), out var t) ? t : null;

    public override HttpRequestMessage CreateRequest(LlmContext context)
    {
        var deployment = context.Deployment!;
        var upstream = deployment.UpstreamModel;
        var isDeployment = upstream.StartsWith(WatsonxSettings.DeploymentPrefix, StringComparison.Ordinal);
        var deploymentId = isDeployment ? upstream[WatsonxSettings.DeploymentPrefix.Length..] : null;
        if (isDeployment && deploymentId!.Length == 0) throw LlmError.Invalid($"{WatsonxSpec.Name}: `{deployment.Model}` names no deployment id (write watsonx/deployment/<id>)", "model").ToException();
        var settings = WatsonxSettings.Resolve(deployment, _env, isDeployment);
        PooledBuffer body;
        Uri uri;
        switch (context.Mode)
        {
            case LlmMode.Chat:
                if (context.IsStream && context.Chat!.N is > 1)
                    throw LlmError.Invalid($"{WatsonxSpec.Name} streams one choice; set n to 1 or ask without stream", "n").ToException();
                uri = settings.Endpoint(isDeployment
                    ? $"/ml/v1/deployments/{Uri.EscapeDataString(deploymentId!)}/text/{(context.IsStream ? "chat_stream" : "chat")}"
                    : context.IsStream ? "/ml/v1/text/chat_stream" : "/ml/v1/text/chat");
                body = new PooledBuffer(Math.Max(1024, context.Body.Length + 256));
                try
                {
                    WatsonxRequestWriter.Write(context, settings, isDeployment ? null : upstream, body);
                }
                catch
                {
                    body.Dispose();
                    throw;
                }
                break;
            case LlmMode.Embeddings:
                // LiteLLM sends a deployment's embeddings to the shared route with no model; a deployment has no such route.
                if (isDeployment) throw LlmError.Invalid($"{WatsonxSpec.Name}: embeddings need a model id (`watsonx/<model_id>`); deployments serve chat only", "model").ToException();
                uri = settings.Endpoint("/ml/v1/text/embeddings");
                body = WatsonxEmbeddings.Write(context, settings, upstream);
                break;
            default:
                throw LlmError.Invalid($"{WatsonxSpec.Name} serves chat and embeddings; `{deployment.ModelName}` cannot answer {context.Mode}", "model").ToException();
        }
        var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new PooledContent(body), Version = System.Net.HttpVersion.Version11 };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(context.IsStream ? "text/event-stream" : "application/json"));
        switch (settings.Auth)
        {
            case WatsonxAuthKind.Token:
                request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + settings.Secret);
                break;
            case WatsonxAuthKind.ZenApiKey:
                request.Headers.TryAddWithoutValidation("Authorization", "ZenApiKey " + settings.Secret);
                break;
            default:
                request.Options.Set(AccessTokenHandler.Source, Token(settings, deployment));
                break;
        }
        return request;
    }

    private WatsonxIamToken Token(WatsonxSettings settings, Deployment deployment)
    {
        if (!Uri.TryCreate(settings.IamUrl, UriKind.Absolute, out var iam))
            throw LlmError.Invalid($"{WatsonxSpec.Name}: deployment `{deployment.ModelName}` has an IAM URL that is not absolute; fix WATSONX_IAM_URL", "watsonx_iam_url").ToException();
        return _tokens.GetOrAdd((settings.Secret, settings.IamUrl), static (k, state) => new WatsonxIamToken(k.Key, state.iam, state.self._tokenHttp, state.self._time), (self: this, iam));
    }

    public override async ValueTask ReadResponseAsync(LlmContext context, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        using var body = await ResponseBodyReader.ReadAsync(response, Spec.Name, cancellationToken).ConfigureAwait(false);
        var model = context.Deployment!.UpstreamModel;
        if (context.Mode == LlmMode.Embeddings)
        {
            ChatCompletionResponse.Write(context, WatsonxEmbeddings.Read(body.Span, context.Embedding!, model));
            return;
        }
        ChatCompletionResponse.Write(context, WatsonxResponseReader.Read(body.Span, model, context.TimeProvider.GetUtcNow().ToUnixTimeSeconds()));
    }

    public override StreamTranslator CreateStreamTranslator(LlmContext context) => new WatsonxStreamTranslator(context);

    public override LlmError MapError(LlmContext context, int status, ReadOnlySpan<byte> body, HttpResponseHeaders headers) =>
        WatsonxErrorMapper.FromHttp(status, body, headers);

    public void Dispose()
    {
        foreach (var token in _tokens.Values) token.Dispose();
        _transport.Dispose();
        _tokenHttp.Dispose();
        _socket.Dispose();
    }
}
