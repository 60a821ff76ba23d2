using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Providers.Common;

namespace LLMux.Providers.Gemini;

/// <summary>
/// Vertex AI (<c>vertex_ai/&lt;model&gt;</c>): the Gemini wire format at
/// <c>https://{location}-aiplatform.googleapis.com/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:{method}</c>
/// (or <c>{api_base}:{method}</c>), authenticated with a service-account access token.
/// </summary>
internal sealed class VertexProvider : GeminiProvider, IDisposable
{
    private readonly TimeProvider _time;
    private readonly SocketsHttpHandler _socket;
    private readonly HttpMessageInvoker _tokenHttp;
    private readonly HttpMessageInvoker _transport;
    private readonly ConcurrentDictionary<string, Lazy<ServiceAccountTokenSource>> _sources = new(StringComparer.Ordinal);

    private readonly VertexClaudeProvider _claude;
    private readonly VertexPartnerProvider _mistral;
    private readonly VertexPartnerProvider _ai21;
    private readonly VertexPartnerProvider _maas;

    public VertexProvider(TimeProvider? time = null) : base(GeminiSpec.Vertex)
    {
        _time = time ?? TimeProvider.System;
        _socket = UpstreamHandler.Create();
        _tokenHttp = new HttpMessageInvoker(_socket, disposeHandler: false);
        _transport = new HttpMessageInvoker(new VertexAuthHandler(_socket), disposeHandler: false);
        _claude = new VertexClaudeProvider(this);
        _mistral = new VertexPartnerProvider(this, VertexPartnerFamily.Mistral);
        _ai21 = new VertexPartnerProvider(this, VertexPartnerFamily.Ai21);
        _maas = new VertexPartnerProvider(this, VertexPartnerFamily.OpenApi);
    }

    /// <summary>The transport that adds the access token (shared with the Claude variant).</summary>
    internal HttpMessageInvoker AuthorizingTransport => _transport;

    /// <summary><c>vertex_ai/claude-…</c> is Anthropic's publisher on Vertex (rawPredict), the partner families their own endpoints; the rest is Gemini.</summary>
    public override LlmProvider ForModel(string upstreamModel)
    {
        if (VertexClaudeProvider.IsClaude(upstreamModel)) return _claude;
        return VertexPartnerModels.FamilyOf(upstreamModel) switch
        {
            VertexPartnerFamily.Mistral => _mistral,
            VertexPartnerFamily.Ai21 => _ai21,
            VertexPartnerFamily.OpenApi => _maas,
            _ => this,
        };
    }

    public override IReadOnlyList<LlmProvider> Variants => [_claude, _mistral, _ai21, _maas];

    protected override bool IsVertex => true;

    /// <summary>Vertex requests go through the handler that adds (and once refreshes) the access token.</summary>
    public override HttpMessageInvoker? Transport => _transport;

    internal override string BuildUrl(Deployment deployment, string model, string method) => PublisherUrl(deployment, "google", model, method);

    /// <summary>
    /// <c>{api_base}:{method}</c>, or <c>https://{location}-aiplatform.googleapis.com/v1/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}:{method}</c>
    /// (<c>aiplatform.googleapis.com</c> for the <c>global</c> location).
    /// </summary>
    internal string PublisherUrl(Deployment deployment, string publisher, string model, string method, string version = "v1")
    {
        if (deployment.ApiBase is { } apiBase) return string.Concat(apiBase.AsSpan().TrimEnd('/'), ":", method);
        var resource = IsEndpointId(model) ? "/endpoints/" + model : "/publishers/" + publisher + "/models/" + model;
        return string.Concat(LocationUrl(deployment, version), resource, ":", method);
    }

    /// <summary>
    /// <c>https://{location}-aiplatform.googleapis.com/{version}/projects/{project}/locations/{location}</c>
    /// (<c>aiplatform.googleapis.com</c> for <c>global</c>): the root every Vertex resource URL of the deployment starts with.
    /// </summary>
    internal string LocationUrl(Deployment deployment, string version = "v1")
    {
        var location = deployment.Setting("vertex_location") ?? deployment.Setting("vertex_ai_location")
            ?? Environment.GetEnvironmentVariable("VERTEXAI_LOCATION") ?? Environment.GetEnvironmentVariable("VERTEX_LOCATION") ?? "us-central1";
        var project = ProjectOf(deployment);
        var host = location == "global" ? "https://aiplatform.googleapis.com" : $"https://{location}-aiplatform.googleapis.com";
        return string.Concat(host, "/", version, "/projects/", project, "/locations/", location);
    }

    /// <summary>The deployment's Google Cloud project: its setting, the environment, or the service account's.</summary>
    private string ProjectOf(Deployment deployment) =>
        deployment.Setting("vertex_project") ?? deployment.Setting("vertex_ai_project")
            ?? Environment.GetEnvironmentVariable("VERTEXAI_PROJECT") ?? Environment.GetEnvironmentVariable("GOOGLE_CLOUD_PROJECT")
            ?? CredentialsFor(deployment)?.Credentials.ProjectId
            ?? throw new LlmError
            {
                Kind = ErrorKind.InvalidRequest,
                Message = $"vertex_ai: model `{deployment.ModelName}` has no project; set litellm_params.vertex_project (or VERTEXAI_PROJECT, or a project_id in vertex_credentials)",
                Param = "vertex_project",
                Code = "missing_vertex_project",
                Provider = Spec.Name,
            }.ToException();

    /// <summary>Rerank goes to the Discovery Engine ranking API, not the model's publisher URL.</summary>
    public override HttpRequestMessage CreateRequest(LlmContext context)
    {
        if (context.Mode != LlmMode.Rerank) return base.CreateRequest(context);
        var deployment = context.Deployment!;
        var project = ProjectOf(deployment);
        var request = new HttpRequestMessage(HttpMethod.Post, VertexRanking.Url(deployment, project))
        {
            Content = new PooledContent(VertexRanking.Write(context, (Modes.RerankRequest)context.ModeRequest!.Parsed!, deployment.UpstreamModel)),
            Version = HttpVersion.Version11,
        };
        request.Headers.TryAddWithoutValidation("X-Goog-User-Project", project);
        Authorize(request, deployment);
        return request;
    }

    public override async ValueTask ReadResponseAsync(LlmContext context, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (context.Mode != LlmMode.Rerank)
        {
            await base.ReadResponseAsync(context, response, cancellationToken).ConfigureAwait(false);
            return;
        }
        using var body = await ResponseBodyReader.ReadAsync(response, Spec.Name, cancellationToken).ConfigureAwait(false);
        VertexRanking.Read(context, body.Span, (Modes.RerankRequest)context.ModeRequest!.Parsed!, Spec.Name);
    }

    /// <summary>An all-digit model id is a deployed (fine-tuned) endpoint.</summary>
    private static bool IsEndpointId(string model)
    {
        if (model.Length == 0) return false;
        foreach (var c in model) if (!char.IsAsciiDigit(c)) return false;
        return true;
    }

    protected override void ApplyAuth(HttpRequestMessage request, LlmContext context)
    {
        var deployment = context.Deployment!;
        if (context.Chat?.Extra is { } extra && extra.TryGetValue("extra_headers", out var headers) && headers.ValueKind == JsonValueKind.Object && !context.IsDropped("extra_headers"))
        {
            foreach (var h in headers.EnumerateObject())
                if (h.Value.ValueKind == JsonValueKind.String) request.Headers.TryAddWithoutValidation(h.Name, h.Value.GetString());
        }
        Authorize(request, deployment);
    }

    /// <summary>The deployment's service account (the auth handler adds its token) or Vertex express-mode API key.</summary>
    internal void Authorize(HttpRequestMessage request, Deployment deployment)
    {
        var source = CredentialsFor(deployment);
        if (source is not null)
        {
            request.Options.Set(VertexAuthHandler.TokenSource, source);
            return;
        }
        // Vertex AI express mode: an API key instead of a service account.
        if (deployment.ApiKey?.Reveal() is { Length: > 0 } key)
        {
            request.Headers.TryAddWithoutValidation("x-goog-api-key", key);
            return;
        }
        throw new LlmError
        {
            Kind = ErrorKind.Auth,
            Message = $"vertex_ai: no credentials for model `{deployment.ModelName}`; set litellm_params.vertex_credentials to a service-account JSON file path or the JSON itself (or VERTEXAI_CREDENTIALS / GOOGLE_APPLICATION_CREDENTIALS)",
            Param = "vertex_credentials",
            Code = "missing_credentials",
            Provider = Spec.Name,
        }.ToException();
    }

    private ServiceAccountTokenSource? CredentialsFor(Deployment deployment)
    {
        string source;
        var value = deployment.Setting("vertex_credentials");
        if (value is not null) source = "litellm_params.vertex_credentials";
        else if ((value = Environment.GetEnvironmentVariable("VERTEXAI_CREDENTIALS")) is not null) source = "VERTEXAI_CREDENTIALS";
        else if ((value = Environment.GetEnvironmentVariable("GOOGLE_APPLICATION_CREDENTIALS")) is not null) source = "GOOGLE_APPLICATION_CREDENTIALS";
        else return null;
        if (string.IsNullOrWhiteSpace(value)) throw VertexCredentials.Bad(source, "it is empty");

        var lazy = _sources.GetOrAdd(value, static (v, state) => new Lazy<ServiceAccountTokenSource>(
            () => new ServiceAccountTokenSource(VertexCredentials.Load(v, state.source), state.self._tokenHttp, state.self._time, state.source)), (self: this, source));
        try
        {
            return lazy.Value;
        }
        catch (LlmException)
        {
            _sources.TryRemove(new KeyValuePair<string, Lazy<ServiceAccountTokenSource>>(value, lazy)); // a fixed file is read again next time
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var (_, lazy) in _sources) if (lazy.IsValueCreated) lazy.Value.Dispose();
        _transport.Dispose();
        _tokenHttp.Dispose();
        _socket.Dispose();
    }
}
