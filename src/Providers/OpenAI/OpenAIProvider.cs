using System.Net.Http.Headers;
using System.Text.Json;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Pipeline.Streaming;
using LLMux.Pipeline.Wire;
using LLMux.Providers.Common;

namespace LLMux.Providers.OpenAI;

/// <summary>
/// OpenAI and every OpenAI-compatible upstream: the body is forwarded with only <c>model</c> rewritten (and
/// dropped fields removed), answers and stream frames pass through as they arrive; usage is read on the way.
/// </summary>
public class OpenAIProvider(ProviderSpec spec) : LlmProvider, IResponsesUpstream, ICompletionsUpstream
{
    /// <summary>Request fields that belong to LLMux/LiteLLM and never reach an upstream.</summary>
    private static readonly string[] GatewayFields = GatewayRequestFields.Names;

    public OpenAIProvider() : this(OpenAISpec.Spec) { }

    public override ProviderSpec Spec { get; } = spec;

    /// <summary>Whether the upstream understands <c>stream_options.include_usage</c>.</summary>
    protected virtual bool SupportsStreamUsage => true;

    public override HttpRequestMessage CreateRequest(LlmContext context)
    {
        var deployment = context.Deployment!;
        var apiBase = ResolveApiBase(deployment);
        if (context.Mode == LlmMode.Rerank) return CreateRerankRequest(context, deployment, apiBase);
        if (context.Mode == LlmMode.AudioTranscription) return CreateTranscriptionRequest(context, deployment, apiBase);
        if (context.Mode == LlmMode.Images && context.ModeRequest?.Parsed is Modes.ImageUpload upload) return CreateImageUploadRequest(context, deployment, apiBase, upload);
        var responses = context.Mode == LlmMode.Responses;
        var path = ModePath(context);

        var forceUsage = !responses && context.IsStream && SupportsStreamUsage && context.Chat is { IncludeUsage: false };
        context.InjectedIncludeUsage = forceUsage;

        var body = new PooledBuffer(context.Body.Length + 128);
        try
        {
            // A Responses body is forwarded with every field kept (store, include, reasoning, ...); chat-only renames do not apply.
            JsonBodyRewriter.Rewrite(context.Body.Span, body, BodyModel(deployment), RemovedFields(context), forceUsage, responses ? null : BodyEdits);
        }
        catch
        {
            body.Dispose();
            throw;
        }
        var request = new HttpRequestMessage(HttpMethod.Post, RequestUri(deployment, apiBase, path))
        {
            Content = new PooledContent(body),
            Version = System.Net.HttpVersion.Version11,
        };
        ApplyAuth(request, deployment);
        if (context.IsStream && context.Mode != LlmMode.AudioSpeech) request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        return request;
    }

    /// <summary>How this provider's rerank API is laid out (Cohere's shape at <c>{api_base}/rerank</c> by default).</summary>
    protected virtual Modes.RerankDialect RerankDialect => Modes.RerankDialect.ForProvider(Spec.Name);

    private HttpRequestMessage CreateRerankRequest(LlmContext context, Deployment deployment, string apiBase)
    {
        var rerank = (Modes.RerankRequest)context.ModeRequest!.Parsed!;
        var dialect = RerankDialect;
        var uri = dialect.Url is { } url ? url(deployment, apiBase) : RequestUri(deployment, apiBase, dialect.Path);
        var request = new HttpRequestMessage(HttpMethod.Post, uri)
        {
            Content = new PooledContent(Modes.RerankWire.WriteBody(context, rerank, dialect, deployment.UpstreamModel)),
            Version = System.Net.HttpVersion.Version11,
        };
        ApplyAuth(request, deployment);
        return request;
    }

    /// <summary>The client's upload forwarded byte for byte (only <c>model</c> rewritten, dropped fields removed), streamed from the spool.</summary>
    private HttpRequestMessage CreateTranscriptionRequest(LlmContext context, Deployment deployment, string apiBase)
    {
        var upload = (Modes.TranscriptionRequest)context.ModeRequest!.Parsed!;
        // Fireworks serves audio on its own host (LiteLLM's default for fireworks_ai transcriptions).
        if (deployment.ApiBase is null && Spec.Name == "fireworks_ai") apiBase = Modes.ModeSupport.FireworksAudioBase;
        var request = new HttpRequestMessage(HttpMethod.Post, RequestUri(deployment, apiBase, upload.Translation ? "audio/translations" : "audio/transcriptions"))
        {
            Content = new Modes.MultipartUpstreamContent(upload.Body, deployment.UpstreamModel, context.DroppedParams),
            Version = System.Net.HttpVersion.Version11,
        };
        ApplyAuth(request, deployment);
        if (context.IsStream) request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        return request;
    }

    /// <summary>An image edit or variation: the client's upload forwarded byte for byte (only <c>model</c> rewritten).</summary>
    private HttpRequestMessage CreateImageUploadRequest(LlmContext context, Deployment deployment, string apiBase, Modes.ImageUpload upload)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, RequestUri(deployment, apiBase, upload.Variation ? "images/variations" : "images/edits"))
        {
            Content = new Modes.MultipartUpstreamContent(upload.Body, deployment.UpstreamModel, context.DroppedParams),
            Version = System.Net.HttpVersion.Version11,
        };
        ApplyAuth(request, deployment);
        if (context.IsStream) request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        return request;
    }

    /// <summary>The path under api_base for the context's mode.</summary>
    protected virtual string ModePath(LlmContext context) => context.Mode switch
    {
        LlmMode.Embeddings => "embeddings",
        LlmMode.Responses => "responses",
        LlmMode.Completion => CompletionRouteFor(context.Deployment!) == CompletionRoute.Fim ? "fim/completions" : "completions",
        LlmMode.Moderation => "moderations",
        LlmMode.Rerank => "rerank",
        LlmMode.Images => "images/generations",
        LlmMode.AudioSpeech => "audio/speech",
        _ => "chat/completions",
    };

    public virtual CompletionRoute CompletionRouteFor(Deployment deployment) => Modes.ModeSupport.CompletionRouteFor(Spec, deployment);

    /// <summary>
    /// Whether <c>/v1/responses</c> goes to this deployment natively: <c>litellm_params.responses_api</c>
    /// (<c>native</c> or <c>bridge</c>) decides when set; otherwise a provider that speaks the API does when it is
    /// reached at its own host (a custom api_base of the <c>openai</c> provider is often a chat-only server, so it is bridged).
    /// </summary>
    public virtual bool AcceptsResponsesPassthrough(Deployment deployment)
    {
        switch (deployment.Setting("responses_api"))
        {
            case "native": return true;
            case "bridge": return false;
        }
        if (!Spec.NativeResponses) return false;
        return deployment.ApiBase is null || IsOwnHost(deployment.ApiBase);
    }

    public HttpRequestMessage CreateStoredResponseRequest(Deployment deployment, HttpMethod method, string id, string? action, string query)
    {
        var uri = new UriBuilder(RequestUri(deployment, ResolveApiBase(deployment), "responses"));
        uri.Path = uri.Path.TrimEnd('/') + "/" + Uri.EscapeDataString(id) + (action is null ? "" : "/" + action);
        var own = uri.Query.TrimStart('?');
        var extra = query.TrimStart('?');
        uri.Query = own.Length == 0 ? extra : extra.Length == 0 ? own : own + "&" + extra;
        var request = new HttpRequestMessage(method, uri.Uri) { Version = System.Net.HttpVersion.Version11 };
        if (method == HttpMethod.Post) request.Content = new ByteArrayContent([]);
        ApplyAuth(request, deployment);
        return request;
    }

    /// <summary>True when <paramref name="apiBase"/> is the provider's own service (its default base's host).</summary>
    protected virtual bool IsOwnHost(string apiBase) =>
        Spec.DefaultApiBase is { } d && Uri.TryCreate(apiBase, UriKind.Absolute, out var a) && Uri.TryCreate(d, UriKind.Absolute, out var b)
        && string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase);

    /// <summary>The <c>model</c> the body carries (the deployment's upstream model; Mistral on Vertex drops its <c>@version</c>).</summary>
    protected virtual string BodyModel(Deployment deployment) => deployment.UpstreamModel;

    /// <summary>Renames and value rewrites a compatible upstream needs; null for OpenAI itself.</summary>
    protected virtual JsonBodyEdits? BodyEdits => null;

    /// <summary>The upstream URL for <paramref name="path"/> (<c>chat/completions</c> or <c>embeddings</c>).</summary>
    protected virtual Uri RequestUri(Deployment deployment, string apiBase, string path) => ProviderUrls.Join(apiBase, path);

    protected virtual string ResolveApiBase(Deployment deployment) =>
        deployment.ApiBase
        ?? (Spec.ApiBaseEnv is { } env ? Environment.GetEnvironmentVariable(env) : null)
        ?? Spec.DefaultApiBase
        ?? throw new LlmError
        {
            Kind = ErrorKind.InvalidRequest,
            Message = $"deployment `{deployment.ModelName}` ({deployment.Model}) has no api_base; set litellm_params.api_base",
            Provider = Spec.Name,
        }.ToException();

    protected virtual void ApplyAuth(HttpRequestMessage request, Deployment deployment)
    {
        var key = deployment.ApiKey?.Reveal() ?? (Spec.ApiKeyEnv is { } env ? Environment.GetEnvironmentVariable(env) : null);
        if (string.IsNullOrEmpty(key)) return;
        // The header value is built once per key, not once per request.
        var bearer = _bearer;
        if (bearer is null || !string.Equals(bearer.Key, key, StringComparison.Ordinal)) _bearer = bearer = new BearerValue(key, "Bearer " + key);
        request.Headers.TryAddWithoutValidation("Authorization", bearer.Value);
    }

    private sealed record BearerValue(string Key, string Value);
    private BearerValue? _bearer;

    private static IReadOnlyCollection<string> RemovedFields(LlmContext context)
    {
        if (context.DroppedParams.Count == 0) return GatewayFields;
        var list = new List<string>(GatewayFields.Length + context.DroppedParams.Count);
        list.AddRange(GatewayFields);
        foreach (var p in context.DroppedParams) list.Add(p);
        return list;
    }

    public override async ValueTask ReadResponseAsync(LlmContext context, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await ResponseBodyReader.ReadAsync(response, Spec.Name, cancellationToken).ConfigureAwait(false);
        if (context.Mode == LlmMode.AudioTranscription)
        {
            // json / verbose_json answers carry the usage (or the duration); text, srt and vtt are plain text, passed on as they are.
            context.Usage = response.Content.Headers.ContentType?.MediaType == "application/json" ? Modes.TranscriptionAnswer.Usage(body.Span) : null;
            context.ResponseBody = body;
            return;
        }
        if (context.Mode == LlmMode.Rerank)
        {
            using (body) Modes.RerankWire.ReadAnswer(context, body.Span, (Modes.RerankRequest)context.ModeRequest!.Parsed!, RerankDialect, Spec.Name);
            return;
        }
        try
        {
            context.Usage = context.Mode == LlmMode.Responses ? ResponsesUsageReader.Scan(body.Span, Spec.Name) : ScanUsage(body.Span, Spec.Name);
            // A moderation answer has no usage; an empty one still prices the call (moderation models cost 0 in the table).
            if (context.Mode == LlmMode.Moderation) context.Usage ??= new Pipeline.Wire.Usage();
            // Images are priced per image (dall-e, xAI) or by gpt-image's token usage.
            if (context.Mode == LlmMode.Images)
            {
                var (size, quality) = context.ModeRequest?.Parsed switch
                {
                    Modes.ImageRequest g => (g.Size, g.Quality),
                    Modes.ImageUpload u => (u.Size, u.Quality),
                    _ => (null, null),
                };
                context.Usage = Modes.ImageAnswer.Read(body.Span, size, quality, Spec.Name);
            }
        }
        catch
        {
            body.Dispose();
            throw;
        }
        context.ResponseBody = body;
    }

    /// <summary>Checks that the answer is a JSON object and reads its top-level <c>usage</c>.</summary>
    internal static Pipeline.Wire.Usage? ScanUsage(ReadOnlySpan<byte> json, string provider)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("not a JSON object");
            Pipeline.Wire.Usage? usage = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("usage"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject) usage = UsageReader.Read(ref reader);
                    else reader.Skip();
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
            return usage;
        }
        catch (JsonException ex)
        {
            throw new LlmError { Kind = ErrorKind.BadGateway, Provider = provider, Message = $"{provider} answered with a body that is not valid JSON ({ex.Message})" }.ToException(ex);
        }
    }

    public override StreamTranslator CreateStreamTranslator(LlmContext context)
    {
        if (context.Mode == LlmMode.AudioTranscription) return new RawBytesTranslator(); // transcript.text.delta / .done frames pass as they are
        if (context.Mode == LlmMode.Images) return new Modes.ImageStreamPassthrough(context, Spec.Name); // gpt-image partial images, then completed with usage
        if (context.Mode == LlmMode.AudioSpeech)
        {
            // Speech is priced by the characters asked for: known before the first byte.
            if (context.ModeRequest?.Parsed is Modes.SpeechRequest speech) context.Usage = new Pipeline.Wire.Usage { Characters = speech.Input.Length };
            return new RawBytesTranslator();
        }
        return context.Mode == LlmMode.Responses ? new OpenAIResponsesPassthrough(context, Spec.Name) : new OpenAIStreamPassthrough(context, Spec.Name);
    }

    public override LlmError MapError(LlmContext context, int status, ReadOnlySpan<byte> body, HttpResponseHeaders headers) =>
        OpenAIErrorMapper.Map(Spec.Name, status, body, headers);
}
