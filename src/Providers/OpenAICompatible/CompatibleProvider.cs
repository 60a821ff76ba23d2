using System.Text;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Providers.Common;
using LLMux.Providers.OpenAI;

namespace LLMux.Providers.OpenAICompatible;

/// <summary>
/// Every OpenAI-compatible provider: the OpenAI passthrough with the row's base URL, auth header, URL layout and
/// body edits. Streams and answers pass through as they arrive (provider extras such as DeepSeek's
/// <c>reasoning_content</c> or Perplexity's <c>citations</c> reach the client untouched).
/// </summary>
public class CompatibleProvider : OpenAIProvider
{
    /// <summary>Azure's default <c>api-version</c> when neither the deployment nor <c>AZURE_API_VERSION</c> gives one (LiteLLM's).</summary>
    public const string AzureDefaultApiVersion = "2025-02-01-preview";

    private readonly CompatibleProviderRow _row;
    private readonly JsonBodyEdits _edits;
    private readonly bool _streamUsage;

    public CompatibleProvider(CompatibleProviderRow row) : base(row.ToSpec())
    {
        _row = row;
        _edits = row.Edits();
        _streamUsage = Spec.ChatParams.TryGetValue("stream_options", out var rule) && rule.Kind != ParamSupportKind.Dropped;
    }

    public CompatibleProviderRow Row => _row;

    protected override bool SupportsStreamUsage => _streamUsage;

    protected override JsonBodyEdits? BodyEdits => _edits;

    /// <summary>Azure's 2023 dall-e-2 previews generate through an operation (<see cref="Modes.AzureImageSubmit"/>).</summary>
    public override HttpRequestMessage CreateRequest(LlmContext context)
    {
        var deployment = context.Deployment!;
        if (_row.UrlStyle != CompatibleUrlStyle.AzureDeployment || !Modes.AzureImageSubmit.Applies(context, ApiVersion(deployment))) return base.CreateRequest(context);
        var request = Modes.AzureImageSubmit.CreateRequest(context, ResolveApiBase(deployment), ApiVersion(deployment)!);
        ApplyAuth(request, deployment);
        return request;
    }

    public override async ValueTask ReadResponseAsync(LlmContext context, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (context.Mode == LlmMode.Images && Modes.AzureImageSubmit.IsSubmit(response))
        {
            var deployment = context.Deployment!;
            await Modes.AzureImageSubmit.ReadAsync(context, response, r => ApplyAuth(r, deployment), Spec.Name, cancellationToken).ConfigureAwait(false);
            return;
        }
        await base.ReadResponseAsync(context, response, cancellationToken).ConfigureAwait(false);
    }

    protected override Uri RequestUri(Deployment deployment, string apiBase, string path)
    {
        switch (_row.UrlStyle)
        {
            case CompatibleUrlStyle.AzureDeployment when path == "responses":
                return AzureResponsesUri(deployment, apiBase);
            case CompatibleUrlStyle.AzureDeployment:
            {
                var version = ApiVersion(deployment) ?? AzureDefaultApiVersion;
                var root = apiBase.TrimEnd('/');
                var deploymentPath = "openai/deployments/" + Uri.EscapeDataString(deployment.UpstreamModel) + "/" + path;
                return WithQuery(ProviderUrls.Join(root, deploymentPath), "api-version", version);
            }
            case CompatibleUrlStyle.AzureFoundry:
            {
                var baseUri = new Uri(apiBase, UriKind.Absolute);
                var root = baseUri.GetLeftPart(UriPartial.Path).TrimEnd('/');
                var full = baseUri.Host.EndsWith(".services.ai.azure.com", StringComparison.OrdinalIgnoreCase) && !root.EndsWith("/models", StringComparison.Ordinal)
                    ? ProviderUrls.Join(root, "models/" + path)
                    : ProviderUrls.Join(root, path);
                var version = QueryValue(baseUri, "api-version") ?? deployment.ApiVersion;
                return version is null ? full : WithQuery(full, "api-version", version);
            }
            case CompatibleUrlStyle.OllamaV1 or CompatibleUrlStyle.HostRootV1:
            {
                var root = apiBase.TrimEnd('/');
                return ProviderUrls.Join(root.EndsWith("/v1", StringComparison.Ordinal) ? root : root + "/v1", path);
            }
            case CompatibleUrlStyle.CloudflareAccount:
            {
                var root = apiBase.TrimEnd('/');
                if (root.EndsWith("/ai/run", StringComparison.Ordinal)) root = root[..^"/run".Length] + "/v1";
                return ProviderUrls.Join(root, path);
            }
            default:
                return ProviderUrls.Join(apiBase, path);
        }
    }

    /// <summary>Cloudflare's base names the account: built from <c>CLOUDFLARE_ACCOUNT_ID</c> when none is configured.</summary>
    protected override string ResolveApiBase(Deployment deployment)
    {
        if (_row.UrlStyle == CompatibleUrlStyle.CloudflareAccount && deployment.ApiBase is null
            && (Spec.ApiBaseEnv is not { } env || Environment.GetEnvironmentVariable(env) is not { Length: > 0 }))
        {
            var account = deployment.Setting("cloudflare_account_id") ?? Environment.GetEnvironmentVariable("CLOUDFLARE_ACCOUNT_ID");
            if (string.IsNullOrEmpty(account))
                throw new LlmError
                {
                    Kind = ErrorKind.InvalidRequest,
                    Message = $"deployment `{deployment.ModelName}` ({deployment.Model}) has no Cloudflare account; set CLOUDFLARE_ACCOUNT_ID or litellm_params.api_base (https://api.cloudflare.com/client/v4/accounts/<account>/ai/v1)",
                    Provider = Spec.Name,
                }.ToException();
            return "https://api.cloudflare.com/client/v4/accounts/" + Uri.EscapeDataString(account) + "/ai/v1";
        }
        return base.ResolveApiBase(deployment);
    }

    /// <summary>
    /// Azure's Responses API: the v1 path <c>{api_base}/openai/v1/responses</c> (api_version unset, <c>v1</c>,
    /// <c>latest</c>, or <c>preview</c> with <c>?api-version=preview</c>), or the dated one
    /// <c>{api_base}/openai/responses?api-version=2025-03-01-preview</c>. <c>model</c> is the deployment name.
    /// </summary>
    private static Uri AzureResponsesUri(Deployment deployment, string apiBase)
    {
        var root = apiBase.TrimEnd('/');
        var version = ApiVersion(deployment);
        if (root.EndsWith("/openai/v1", StringComparison.Ordinal)) root = root[..^"/openai/v1".Length];
        else if (root.EndsWith("/openai", StringComparison.Ordinal)) root = root[..^"/openai".Length];
        if (version is null or "v1" or "latest") return ProviderUrls.Join(root, "openai/v1/responses");
        if (version == "preview") return WithQuery(ProviderUrls.Join(root, "openai/v1/responses"), "api-version", "preview");
        return WithQuery(ProviderUrls.Join(root, "openai/responses"), "api-version", version);
    }

    /// <summary>Azure OpenAI resources all speak the Responses API, whatever their host; other rows by the base rule.</summary>
    public override bool AcceptsResponsesPassthrough(Deployment deployment) =>
        _row.UrlStyle == CompatibleUrlStyle.AzureDeployment && _row.NativeResponses && deployment.Setting("responses_api") != "bridge"
        || base.AcceptsResponsesPassthrough(deployment);

    private static string? ApiVersion(Deployment deployment) =>
        deployment.ApiVersion is { Length: > 0 } v ? v : Environment.GetEnvironmentVariable("AZURE_API_VERSION") is { Length: > 0 } e ? e : null;

    private static Uri WithQuery(Uri uri, string name, string value)
    {
        var sb = new StringBuilder(uri.GetLeftPart(UriPartial.Path));
        sb.Append('?').Append(name).Append('=').Append(Uri.EscapeDataString(value));
        return new Uri(sb.ToString(), UriKind.Absolute);
    }

    private static string? QueryValue(Uri uri, string name)
    {
        var query = uri.Query.TrimStart('?');
        foreach (var part in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=');
            if (eq > 0 && part.AsSpan(0, eq).SequenceEqual(name)) return Uri.UnescapeDataString(part[(eq + 1)..]);
        }
        return null;
    }

    protected override void ApplyAuth(HttpRequestMessage request, Deployment deployment)
    {
        var key = deployment.ApiKey?.Reveal()
            ?? (Spec.ApiKeyEnv is { } env ? Environment.GetEnvironmentVariable(env) : null)
            ?? _row.DefaultApiKey;
        if (string.IsNullOrEmpty(key)) return;
        if (UsesApiKeyHeader(request.RequestUri)) request.Headers.TryAddWithoutValidation("api-key", key);
        else request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
    }

    /// <summary>Azure OpenAI always takes <c>api-key</c>; Azure AI Foundry only on Azure's own hosts (LiteLLM's rule).</summary>
    private bool UsesApiKeyHeader(Uri? uri) => _row.Auth == AuthScheme.ApiKeyHeader
        && (_row.UrlStyle != CompatibleUrlStyle.AzureFoundry
            || (uri is not null && (uri.Host.EndsWith(".services.ai.azure.com", StringComparison.OrdinalIgnoreCase) || uri.Host.EndsWith(".openai.azure.com", StringComparison.OrdinalIgnoreCase))));
}
