using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;
using LLMux.Pipeline.Wire;
using LLMux.Providers.Common;

namespace LLMux.Providers.Bedrock;

/// <summary>
/// Amazon Bedrock: chat through Converse / ConverseStream (AWS eventstream), embeddings through InvokeModel,
/// every request SigV4-signed (service <c>bedrock</c>) with the deployment's credentials, or the AWS environment.
/// <c>api_base</c> replaces the host root; the path is <c>/model/{url-encoded model id}/{operation}</c>.
/// </summary>
internal sealed class BedrockProvider : LlmProvider, IAnthropicMessagesUpstream, ITokenCountingProvider
{
    private const string Service = "bedrock";
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    private readonly TimeProvider _time;
    private readonly Func<string, string?> _env;
    private readonly Lazy<HttpMessageInvoker> _extraCalls;
    private readonly ConditionalWeakTable<Deployment, BedrockModel> _models = new();
    private readonly BedrockInvokeProvider _invoke;

    public BedrockProvider(TimeProvider? time = null, Func<string, string?>? environment = null)
    {
        _time = time ?? TimeProvider.System;
        _env = environment ?? Environment.GetEnvironmentVariable;
        _invoke = new BedrockInvokeProvider(this);
        _extraCalls = new Lazy<HttpMessageInvoker>(static () => new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(10),
        }));
    }

    public override ProviderSpec Spec => BedrockSpec.Spec;

    /// <summary><c>bedrock/invoke/&lt;Claude id&gt;</c> is InvokeModel with an Anthropic body; everything else is Converse.</summary>
    public override LlmProvider ForModel(string upstreamModel) =>
        upstreamModel.StartsWith("invoke/", StringComparison.Ordinal) && BedrockModel.Parse(upstreamModel, null).IsAnthropic ? _invoke : this;

    public override IReadOnlyList<LlmProvider> Variants => [_invoke];

    /// <summary>
    /// LiteLLM passes <c>/v1/messages</c> for any Bedrock Claude model through InvokeModel's native Messages body,
    /// unless the deployment asks for Converse explicitly (<c>bedrock/converse/…</c>).
    /// </summary>
    public bool AcceptsMessagesPassthrough(Deployment deployment) =>
        !deployment.UpstreamModel.StartsWith("converse/", StringComparison.Ordinal) && ModelOf(deployment).IsAnthropic;

    /// <summary>An InvokeModel call with an Anthropic body (passthrough or written from a chat request), signed.</summary>
    internal HttpRequestMessage CreateInvokeRequest(LlmContext context)
    {
        var deployment = context.Deployment!;
        var model = ModelOf(deployment);
        var credentials = BedrockCredentials.Resolve(deployment, model, _env);
        var body = BedrockInvoke.WriteBody(context);
        return BuildSigned(deployment, model, credentials, BedrockInvoke.Operation(context.IsStream), body, context.IsStream);
    }

    public bool CountsFromChatRequest(Deployment deployment) => false;

    /// <summary>
    /// CountTokens (<c>POST /model/{foundation model id}/count-tokens</c>) for Claude: the InvokeModel body Bedrock would
    /// get, base64 in <c>input.invokeModel.body</c>. Inference profiles are not accepted there, so the base model is used.
    /// Other model families answer null (estimated by the caller).
    /// </summary>
    public HttpRequestMessage? CreateCountTokensRequest(LlmContext context)
    {
        var deployment = context.Deployment!;
        var model = ModelOf(deployment);
        if (!model.IsAnthropic) return null;
        var credentials = BedrockCredentials.Resolve(deployment, model, _env);
        var betas = new List<string>(1);
        foreach (var (name, value) in context.ForwardHeaders)
            if (name == "anthropic-beta") betas.Add(value);
        var body = new PooledBuffer(context.Body.Length * 2 + 256);
        try
        {
            using var invoke = new PooledBuffer(context.Body.Length + 256);
            AnthropicPlatformBody.Write(context.Body.Span, invoke, AnthropicPlatform.BedrockInvoke, betas, null, maxTokensIfMissing: 1);
            using var w = new System.Text.Json.Utf8JsonWriter(body);
            w.WriteStartObject();
            w.WriteStartObject("input"u8);
            w.WriteStartObject("invokeModel"u8);
            w.WriteBase64String("body"u8, invoke.Span);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            w.Flush();
        }
        catch
        {
            body.Dispose();
            throw;
        }
        return BuildSigned(deployment, model with { ModelId = model.BaseModel }, credentials, "count-tokens", body, stream: false);
    }

    public long ReadTokenCount(ReadOnlySpan<byte> body) => TokenCountAnswer.Read(body, "inputTokens"u8, Spec.Name);

    /// <summary>True when this call goes through InvokeModel with an Anthropic body rather than Converse.</summary>
    private bool IsInvoke(LlmContext context)
    {
        if (context.Mode != LlmMode.Chat) return false;
        if (context.MessagesPassthrough) return true;
        var model = ModelOf(context.Deployment!);
        if (model.Route != BedrockRoute.Invoke) return false;
        if (model.IsAnthropic) return true;
        // Other families' native InvokeModel bodies (Llama, Mistral, Titan text...) are not written by LLMux.
        throw LlmError.Invalid($"bedrock/invoke/ chat is supported for Anthropic models only; route `{context.Deployment!.ModelName}` through Converse as bedrock/converse/{model.ModelId}", "model").ToException();
    }

    /// <summary>The parsed model id, once per deployment.</summary>
    private BedrockModel ModelOf(Deployment deployment) =>
        _models.GetValue(deployment, static d => BedrockModel.Parse(d.UpstreamModel, d.Setting("model_id")));

    public override HttpRequestMessage CreateRequest(LlmContext context)
    {
        if (IsInvoke(context)) return CreateInvokeRequest(context);
        var deployment = context.Deployment!;
        var model = ModelOf(deployment);
        var credentials = BedrockCredentials.Resolve(deployment, model, _env);
        if (context.Mode == LlmMode.Rerank) return CreateRerankRequest(context, model, credentials);
        if (context.Mode == LlmMode.Images) return CreateImageRequest(context, model, credentials);
        var body = new PooledBuffer(context.Body.Length + 256);
        string operation;
        try
        {
            if (context.Mode == LlmMode.Embeddings)
            {
                operation = "invoke";
                BedrockEmbeddings.WriteRequest(context, model, 0, body);
            }
            else
            {
                operation = context.IsStream ? "converse-stream" : "converse";
                ConverseRequestWriter.Write(context, model, body);
            }
        }
        catch
        {
            body.Dispose();
            throw;
        }
        return BuildSigned(deployment, model, credentials, operation, body, context.IsStream);
    }

    /// <summary>Image generation over InvokeModel (Titan, Nova Canvas, Stability bodies); edits and variations are not served on Bedrock.</summary>
    private HttpRequestMessage CreateImageRequest(LlmContext context, BedrockModel model, BedrockCredentials credentials)
    {
        if (context.ModeRequest?.Parsed is Modes.ImageUpload)
            throw LlmError.Invalid($"image edits and variations are not served for bedrock models by LLMux; `{context.Deployment!.ModelName}` takes /v1/images/generations", "model", "unsupported_mode").ToException();
        return BuildSigned(context.Deployment!, model, credentials, "invoke", BedrockImageRequestWriter.Write(context, model), stream: false);
    }

    private HttpRequestMessage CreateRerankRequest(LlmContext context, BedrockModel model, BedrockCredentials credentials)
    {
        var uri = BedrockRerank.Endpoint(context.Deployment!, credentials.Region, _env);
        var body = BedrockRerank.Write((Modes.RerankRequest)context.ModeRequest!.Parsed!, model.ModelId, credentials.Region);
        var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new PooledContent(body, Json), Version = HttpVersion.Version11 };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (credentials.BearerToken is { } token) request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        else Sign(request, uri, body.Span, credentials.Keys!, credentials.Region);
        return request;
    }

    private HttpRequestMessage BuildSigned(Deployment deployment, BedrockModel model, BedrockCredentials credentials, string operation, PooledBuffer body, bool stream)
    {
        var uri = Endpoint(deployment, credentials.Region, model.ModelId, operation);
        var request = new HttpRequestMessage(HttpMethod.Post, uri)
        {
            Content = new PooledContent(body, Json),
            Version = HttpVersion.Version11,
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(stream ? "application/vnd.amazon.eventstream" : "application/json"));
        if (credentials.BearerToken is { } token)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
            return request;
        }
        Sign(request, uri, body.Span, credentials.Keys!, credentials.Region);
        return request;
    }

    private void Sign(HttpRequestMessage request, Uri uri, ReadOnlySpan<byte> body, AwsCredentials keys, string region) =>
        AwsJsonRequestSigner.Sign(request, uri, body, keys, region, Service, _time.GetUtcNow());

    /// <summary><c>{api_base or https://bedrock-runtime.{region}.amazonaws.com}/model/{id with every reserved char escaped}/{operation}</c>.</summary>
    internal Uri Endpoint(Deployment deployment, string region, string modelId, string operation)
    {
        var root = deployment.ApiBase
            ?? deployment.Setting("aws_bedrock_runtime_endpoint")
            ?? _env("AWS_BEDROCK_RUNTIME_ENDPOINT")
            ?? $"https://bedrock-runtime.{region}.amazonaws.com";
        return ProviderUrls.Join(root, string.Concat("model/", Uri.EscapeDataString(modelId), "/", operation));
    }

    public override async ValueTask ReadResponseAsync(LlmContext context, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (IsInvoke(context))
        {
            await BedrockInvoke.ReadResponseAsync(context, response, Spec.Name, cancellationToken).ConfigureAwait(false);
            return;
        }
        var deployment = context.Deployment!;
        var model = ModelOf(deployment);
        using var body = await ResponseBodyReader.ReadAsync(response, Spec.Name, cancellationToken).ConfigureAwait(false);
        if (context.Mode == LlmMode.Rerank)
        {
            BedrockRerank.Read(context, body.Span, (Modes.RerankRequest)context.ModeRequest!.Parsed!, Spec.Name);
            return;
        }
        if (context.Mode == LlmMode.Images)
        {
            BedrockImageResponseReader.Read(context, body.Span, model, Spec.Name);
            return;
        }
        if (context.Mode == LlmMode.Embeddings)
        {
            await ReadEmbeddingsAsync(context, model, body, response.Headers, cancellationToken).ConfigureAwait(false);
            return;
        }
        var completion = ConverseResponseReader.Read(body.Span, context, model.ModelId, ConverseRequestWriter.UsesJsonTool(context));
        ChatCompletionResponse.Write(context, completion);
    }

    private async ValueTask ReadEmbeddingsAsync(LlmContext context, BedrockModel model, PooledBuffer first, HttpResponseHeaders headers, CancellationToken cancellationToken)
    {
        var base64 = context.Embedding!.EncodingFormat == "base64" && !context.IsDropped("encoding_format");
        var items = new List<EmbeddingItem>();
        var tokens = BedrockEmbeddings.ReadInto(first.Span, headers, model, base64, 0, items);

        // Titan embeds one text per call: the remaining inputs go out as further signed InvokeModel calls.
        var calls = BedrockEmbeddings.RequestCount(model, context);
        if (calls > 1)
        {
            var deployment = context.Deployment!;
            var credentials = BedrockCredentials.Resolve(deployment, model, _env);
            for (var i = 1; i < calls; i++)
            {
                var body = new PooledBuffer(256);
                try
                {
                    BedrockEmbeddings.WriteRequest(context, model, i, body);
                }
                catch
                {
                    body.Dispose();
                    throw;
                }
                using var request = BuildSigned(deployment, model, credentials, "invoke", body, stream: false);
                using var response = await _extraCalls.Value.SendAsync(request, cancellationToken).ConfigureAwait(false);
                using var answer = await ResponseBodyReader.ReadAsync(response, Spec.Name, cancellationToken).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode) throw MapError(context, (int)response.StatusCode, answer.Span, response.Headers).ToException();
                tokens += BedrockEmbeddings.ReadInto(answer.Span, response.Headers, model, base64, i, items);
            }
        }
        ChatCompletionResponse.Write(context, new EmbeddingResponse
        {
            Model = model.ModelId,
            Data = items,
            Usage = new Usage { PromptTokens = tokens, TotalTokens = tokens },
        });
    }

    public override StreamTranslator CreateStreamTranslator(LlmContext context)
    {
        if (IsInvoke(context)) return BedrockInvoke.CreateStreamTranslator(context);
        var deployment = context.Deployment!;
        var model = ModelOf(deployment);
        return new ConverseStreamTranslator(context, model.ModelId, ConverseRequestWriter.UsesJsonTool(context));
    }

    public override LlmError MapError(LlmContext context, int status, ReadOnlySpan<byte> body, HttpResponseHeaders headers) =>
        BedrockErrorMapper.FromHttp(status, body, headers);
}
