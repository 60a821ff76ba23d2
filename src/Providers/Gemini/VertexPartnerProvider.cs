using System.Net.Http.Headers;
using System.Text.Json;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Providers.Common;
using LLMux.Providers.OpenAI;

namespace LLMux.Providers.Gemini;

/// <summary>
/// Vertex AI Model Garden partner models that answer in OpenAI's chat shape (LiteLLM's VertexAIPartnerModels):
/// Mistral and Codestral at <c>publishers/mistralai/models/{model}:rawPredict</c>, AI21 Jamba at
/// <c>v1beta1/…/publishers/ai21/models/{model}:rawPredict</c>, and the MaaS families at the OpenAI-compatible
/// <c>endpoints/openapi/chat/completions</c>. The body and SSE frames are OpenAI's, so the OpenAI passthrough writes and
/// reads them; the URL, project, location and the service-account token are the Vertex provider's.
/// </summary>
internal sealed class VertexPartnerProvider : OpenAIProvider
{
    private readonly VertexProvider _vertex;
    private readonly VertexPartnerFamily _family;
    private readonly JsonBodyEdits _edits;
    private readonly bool _streamUsage;

    public VertexPartnerProvider(VertexProvider vertex, VertexPartnerFamily family) : base(VertexPartnerSpecs.SpecOf(family))
    {
        _vertex = vertex;
        _family = family;
        _edits = VertexPartnerSpecs.RowOf(family).Edits();
        _streamUsage = Spec.ChatParams.TryGetValue("stream_options", out var rule) && rule.Kind != ParamSupportKind.Dropped;
    }

    public VertexPartnerFamily Family => _family;

    public override HttpMessageInvoker? Transport => _vertex.AuthorizingTransport;

    protected override bool SupportsStreamUsage => _streamUsage;

    protected override JsonBodyEdits? BodyEdits => _edits;

    public override bool AcceptsResponsesPassthrough(Deployment deployment) => false;

    /// <summary>Mistral on Vertex names the model without its version (<c>mistral-large@2407</c> → <c>mistral-large</c>); the URL keeps it.</summary>
    protected override string BodyModel(Deployment deployment)
    {
        var model = deployment.UpstreamModel;
        if (_family != VertexPartnerFamily.Mistral) return model;
        var at = model.IndexOf('@');
        return at < 0 ? model : model[..at];
    }

    public override HttpRequestMessage CreateRequest(LlmContext context)
    {
        if (context.Mode != LlmMode.Chat)
            throw LlmError.Invalid($"{Spec.Name} serves chat only; `{context.Deployment!.ModelName}` cannot answer {context.Mode}", "model").ToException();
        var deployment = context.Deployment!;
        var url = Url(deployment, context.IsStream);
        var request = base.CreateRequest(context);
        try
        {
            request.RequestUri = new Uri(url, UriKind.Absolute);
            _vertex.Authorize(request, deployment);
            return request;
        }
        catch
        {
            request.Dispose();
            throw;
        }
    }

    /// <summary>The family's endpoint (LiteLLM's VertexBase.create_vertex_url), from the api_base when one is set.</summary>
    internal string Url(Deployment deployment, bool stream)
    {
        var method = stream ? "streamRawPredict" : "rawPredict";
        return _family switch
        {
            VertexPartnerFamily.Mistral => _vertex.PublisherUrl(deployment, "mistralai", deployment.UpstreamModel, method),
            VertexPartnerFamily.Ai21 => _vertex.PublisherUrl(deployment, "ai21", deployment.UpstreamModel, method, "v1beta1"),
            _ => deployment.ApiBase is { } apiBase
                ? ProviderUrls.Join(apiBase, "chat/completions").ToString()
                : _vertex.LocationUrl(deployment) + "/endpoints/openapi/chat/completions",
        };
    }

    /// <summary>The token is added by the Vertex transport in <see cref="CreateRequest"/>; no bearer key of the row.</summary>
    protected override void ApplyAuth(HttpRequestMessage request, Deployment deployment) { }

    /// <summary>The base passthrough needs some base; the real URL is <see cref="Url"/>.</summary>
    protected override string ResolveApiBase(Deployment deployment) => "http://vertex.invalid/";

    /// <summary>Vertex answers its own errors (auth, quota, unknown model) in Google's shape; the model server answers OpenAI's or Mistral's.</summary>
    public override LlmError MapError(LlmContext context, int status, ReadOnlySpan<byte> body, HttpResponseHeaders headers) =>
        IsGoogleError(body) ? GeminiErrorMapper.Map(GeminiSpec.VertexName, status, body, headers) : OpenAIErrorMapper.Map(GeminiSpec.VertexName, status, body, headers);

    /// <summary><c>{"error":{"status":"…"}}</c> or an array of those.</summary>
    private static bool IsGoogleError(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read()) return false;
            if (reader.TokenType == JsonTokenType.StartArray) return true;
            if (reader.TokenType != JsonTokenType.StartObject) return false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isError = reader.ValueTextEquals("error"u8);
                reader.Read();
                if (!isError || reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isStatus = reader.ValueTextEquals("status"u8);
                    reader.Read();
                    if (isStatus) return reader.TokenType == JsonTokenType.String;
                    reader.Skip();
                }
                return false;
            }
        }
        catch (JsonException) { }
        return false;
    }
}
