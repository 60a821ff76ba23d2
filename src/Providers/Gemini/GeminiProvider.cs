using System.Net.Http.Headers;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;
using LLMux.Providers.Common;

namespace LLMux.Providers.Gemini;

/// <summary>
/// Google AI Studio (<c>gemini/&lt;model&gt;</c>): <c>{base}/models/{model}:{method}</c> with the API key in
/// <c>x-goog-api-key</c>. Vertex AI shares the wire format and differs in URL and auth (<see cref="VertexProvider"/>).
/// </summary>
internal class GeminiProvider : LlmProvider, ITokenCountingProvider
{
    public GeminiProvider() : this(GeminiSpec.Gemini) { }

    protected GeminiProvider(ProviderSpec spec) => Spec = spec;

    public override ProviderSpec Spec { get; }

    protected virtual bool IsVertex => false;

    public override HttpRequestMessage CreateRequest(LlmContext context)
    {
        var deployment = context.Deployment!;
        var model = deployment.UpstreamModel;
        if (context.Mode == LlmMode.AudioTranscription) return CreateTranscriptionRequest(context, deployment, model);
        if (context.Mode == LlmMode.Images && context.ModeRequest?.Parsed is Modes.ImageUpload upload) return CreateImageEditRequest(context, deployment, model, upload);
        string method;
        PooledBuffer body;
        if (context.Mode == LlmMode.AudioSpeech)
        {
            method = "generateContent";
            body = GeminiSpeech.Write(context, model);
        }
        else if (context.Mode == LlmMode.Embeddings)
        {
            method = IsVertex ? "predict" : "batchEmbedContents";
            body = GeminiEmbeddings.Write(context, model, IsVertex);
        }
        else if (context.Mode == LlmMode.Images)
        {
            (method, body) = ImagenWriter.Write(context, model, IsVertex);
        }
        else
        {
            method = context.IsStream ? "streamGenerateContent" : "generateContent";
            body = GeminiRequestWriter.Write(context, model, IsVertex);
        }
        HttpRequestMessage? request = null;
        try
        {
            var url = BuildUrl(deployment, model, method) + (context.IsStream && context.Mode == LlmMode.Chat ? "?alt=sse" : "");
            request = new HttpRequestMessage(HttpMethod.Post, new Uri(url, UriKind.Absolute))
            {
                Content = new PooledContent(body),
                Version = System.Net.HttpVersion.Version11,
            };
            if (context.IsStream && context.Mode != LlmMode.AudioSpeech) request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
            ApplyAuth(request, context);
            return request;
        }
        catch
        {
            if (request is null) body.Dispose();
            else request.Dispose();
            throw;
        }
    }

    /// <summary>An image edit (or a refused variation): the upload's images inlined as base64 from the spool as the body is sent.</summary>
    private HttpRequestMessage CreateImageEditRequest(LlmContext context, Deployment deployment, string model, Modes.ImageUpload upload)
    {
        var (method, content) = GoogleImageEditWriter.Write(context, upload, model, IsVertex);
        HttpRequestMessage? request = null;
        try
        {
            request = new HttpRequestMessage(HttpMethod.Post, new Uri(BuildUrl(deployment, model, method), UriKind.Absolute))
            {
                Content = content,
                Version = System.Net.HttpVersion.Version11,
            };
            ApplyAuth(request, context);
            return request;
        }
        catch
        {
            if (request is null) content.Dispose();
            else request.Dispose();
            throw;
        }
    }

    /// <summary>generateContent with the upload as inline audio, base64-encoded from the spool as the body is sent.</summary>
    private HttpRequestMessage CreateTranscriptionRequest(LlmContext context, Deployment deployment, string model)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(BuildUrl(deployment, model, "generateContent"), UriKind.Absolute))
        {
            Content = GeminiTranscription.Content(context, model),
            Version = System.Net.HttpVersion.Version11,
        };
        try
        {
            ApplyAuth(request, context);
            return request;
        }
        catch
        {
            request.Dispose();
            throw;
        }
    }

    public bool CountsFromChatRequest(Deployment deployment) => true;

    /// <summary>
    /// <c>:countTokens</c> for the generateContent body this chat request would send: Vertex takes its contents,
    /// system instruction and tools at the top level; AI Studio takes the whole request as <c>generateContentRequest</c>.
    /// </summary>
    public HttpRequestMessage? CreateCountTokensRequest(LlmContext context)
    {
        var deployment = context.Deployment!;
        var model = deployment.UpstreamModel;
        var body = new PooledBuffer(Math.Max(1024, context.Body.Length + 256));
        try
        {
            using var generate = GeminiRequestWriter.Write(context, model, IsVertex);
            using var doc = System.Text.Json.JsonDocument.Parse(generate.Memory);
            using var w = new System.Text.Json.Utf8JsonWriter(body);
            w.WriteStartObject();
            if (!IsVertex)
            {
                w.WriteStartObject("generateContentRequest"u8);
                w.WriteString("model"u8, "models/" + model);
            }
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (IsVertex && p.Name is not ("contents" or "system_instruction" or "systemInstruction" or "tools")) continue;
                p.WriteTo(w);
            }
            if (!IsVertex) w.WriteEndObject();
            w.WriteEndObject();
            w.Flush();
        }
        catch
        {
            body.Dispose();
            throw;
        }
        HttpRequestMessage? request = null;
        try
        {
            request = new HttpRequestMessage(HttpMethod.Post, new Uri(BuildUrl(deployment, model, "countTokens"), UriKind.Absolute)) { Content = new PooledContent(body), Version = System.Net.HttpVersion.Version11 };
            ApplyAuth(request, context);
            return request;
        }
        catch
        {
            if (request is null) body.Dispose();
            else request.Dispose();
            throw;
        }
    }

    public long ReadTokenCount(ReadOnlySpan<byte> body) => TokenCountAnswer.Read(body, "totalTokens"u8, Spec.Name);

    /// <summary>AI Studio: <c>api_base</c> stands in for <c>https://generativelanguage.googleapis.com/v1beta</c>.</summary>
    internal virtual string BuildUrl(Deployment deployment, string model, string method)
    {
        var apiBase = deployment.ApiBase ?? Environment.GetEnvironmentVariable("GEMINI_API_BASE")
            ?? GeminiSpec.DefaultGeminiBase + (GeminiModels.IsGemini3(model) ? "/v1alpha" : "/v1beta");
        return apiBase.TrimEnd('/') + "/models/" + model + ":" + method;
    }

    protected virtual void ApplyAuth(HttpRequestMessage request, LlmContext context)
    {
        var deployment = context.Deployment!;
        var key = deployment.ApiKey?.Reveal() ?? Environment.GetEnvironmentVariable("GEMINI_API_KEY");
        if (string.IsNullOrEmpty(key))
        {
            throw new LlmError
            {
                Kind = ErrorKind.Auth,
                Message = $"gemini: no API key for model `{deployment.ModelName}`; set litellm_params.api_key (e.g. os.environ/GEMINI_API_KEY) or the GEMINI_API_KEY environment variable",
                Param = "api_key",
                Code = "missing_api_key",
                Provider = Spec.Name,
            }.ToException();
        }
        request.Headers.TryAddWithoutValidation("x-goog-api-key", key);
    }

    public override async ValueTask ReadResponseAsync(LlmContext context, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        using var body = await ResponseBodyReader.ReadAsync(response, Spec.Name, cancellationToken).ConfigureAwait(false);
        var model = context.Deployment!.UpstreamModel;
        if (context.Mode == LlmMode.AudioTranscription)
        {
            context.ResponseBody = GeminiTranscription.Read(context, body.Span, Spec.Name);
            return;
        }
        if (context.Mode == LlmMode.Images)
        {
            ImagenWriter.Read(context, body.Span, Spec.Name, context.TimeProvider.GetUtcNow().ToUnixTimeSeconds());
            return;
        }
        if (context.Mode == LlmMode.Embeddings)
        {
            ChatCompletionResponse.Write(context, GeminiEmbeddings.Read(body.Span, context.Embedding!, Spec.Name, model, IsVertex));
            return;
        }
        var completion = GeminiResponseReader.Read(body.Span, Spec.Name, model, context.TimeProvider.GetUtcNow().ToUnixTimeSeconds());
        ChatCompletionResponse.Write(context, completion);
    }

    /// <summary>SSE when the upstream says so (we ask for <c>alt=sse</c>); otherwise Gemini's JSON-array stream.</summary>
    public override StreamTranslator CreateStreamTranslator(LlmContext context)
    {
        var model = context.Deployment!.UpstreamModel;
        if (context.Mode == LlmMode.AudioSpeech)
            return new GeminiSpeechTranslator(context, Spec.Name, wav: (context.ModeRequest?.Parsed as Modes.SpeechRequest)?.AnswerContentType != "audio/pcm");
        var mediaType = context.UpstreamResponse?.Content.Headers.ContentType?.MediaType;
        if (mediaType is not null && !mediaType.Equals("text/event-stream", StringComparison.OrdinalIgnoreCase))
            return new GeminiJsonArrayStreamTranslator(context, Spec.Name, model);
        return new GeminiStreamTranslator(context, Spec.Name, model);
    }

    public override LlmError MapError(LlmContext context, int status, ReadOnlySpan<byte> body, HttpResponseHeaders headers) =>
        GeminiErrorMapper.Map(Spec.Name, status, body, headers);
}
