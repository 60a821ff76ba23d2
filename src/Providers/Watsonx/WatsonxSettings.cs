using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;

namespace LLMux.Providers.Watsonx;

/// <summary>How a watsonx deployment authenticates.</summary>
internal enum WatsonxAuthKind
{
    /// <summary>A bearer token given as it is (<c>token</c>, WATSONX_TOKEN).</summary>
    Token,
    /// <summary>Cloud Pak for Data's <c>ZenApiKey</c> header.</summary>
    ZenApiKey,
    /// <summary>An IBM Cloud API key exchanged at IAM for a bearer token.</summary>
    IamApiKey,
}

/// <summary>
/// One deployment's watsonx settings, resolved as LiteLLM resolves them: its <c>litellm_params</c> first, then the
/// environment names LiteLLM reads, in LiteLLM's order.
/// </summary>
internal sealed record WatsonxSettings(string Url, string? ProjectId, string? SpaceId, WatsonxAuthKind Auth, string Secret, string IamUrl, string ApiVersion)
{
    public const string DeploymentPrefix = "deployment/";

    public static WatsonxSettings Resolve(Deployment deployment, Func<string, string?> env, bool isDeploymentModel)
    {
        string? First(params string?[] values)
        {
            foreach (var v in values) if (!string.IsNullOrEmpty(v)) return v;
            return null;
        }
        var url = First(deployment.ApiBase, deployment.Setting("url"), deployment.Setting("base_url"), env("WATSONX_API_BASE"), env("WATSONX_URL"), env("WX_URL"), env("WML_URL"))
            ?? throw Missing(deployment, "api_base", "has no watsonx.ai URL; set litellm_params.api_base (e.g. https://us-south.ml.cloud.ibm.com) or WATSONX_URL");
        var project = First(deployment.Setting("project_id"), deployment.Setting("watsonx_project"), env("WATSONX_PROJECT_ID"), env("WX_PROJECT_ID"), env("PROJECT_ID"));
        var space = First(deployment.Setting("space_id"), env("WATSONX_DEPLOYMENT_SPACE_ID"), env("WATSONX_SPACE_ID"), env("WX_SPACE_ID"), env("SPACE_ID"));
        if (project is null && space is null && !isDeploymentModel)
            throw Missing(deployment, "project_id", "has neither a project_id nor a space_id; set litellm_params.project_id (or space_id), or WATSONX_PROJECT_ID / WATSONX_SPACE_ID");
        var version = First(deployment.ApiVersion, deployment.Setting("api_version")) ?? WatsonxSpec.DefaultApiVersion;
        var iam = First(deployment.Setting("watsonx_iam_url"), env("WATSONX_IAM_URL")) ?? WatsonxSpec.DefaultIamUrl;

        if (First(deployment.Setting("token"), deployment.Setting("watsonx_token"), env("WATSONX_TOKEN")) is { } token)
            return new WatsonxSettings(url, project, space, WatsonxAuthKind.Token, token, iam, version);
        if (First(deployment.Setting("zen_api_key"), env("WATSONX_ZENAPIKEY")) is { } zen)
            return new WatsonxSettings(url, project, space, WatsonxAuthKind.ZenApiKey, zen, iam, version);
        var key = First(deployment.ApiKey?.Reveal(), deployment.Setting("apikey"), env("WATSONX_APIKEY"), env("WATSONX_API_KEY"), env("WX_API_KEY"))
            ?? throw Missing(deployment, "api_key", "has no credentials; set litellm_params.api_key (an IBM Cloud API key, e.g. os.environ/WATSONX_APIKEY), or `token` with a bearer token");
        return new WatsonxSettings(url, project, space, WatsonxAuthKind.IamApiKey, key, iam, version);
    }

    /// <summary>The URL of <paramref name="path"/> (<c>/ml/v1/text/chat</c>) with the <c>version</c> query.</summary>
    public Uri Endpoint(string path) =>
        new(string.Concat(Url.AsSpan().TrimEnd('/'), path, "?version=", Uri.EscapeDataString(ApiVersion)), UriKind.Absolute);

    private static LlmException Missing(Deployment deployment, string param, string what) => new LlmError
    {
        Kind = ErrorKind.Auth,
        Message = $"{WatsonxSpec.Name}: deployment `{deployment.ModelName}` {what}",
        Param = param,
        Code = "missing_credentials",
        Provider = WatsonxSpec.Name,
    }.ToException();

    /// <summary>Never print the secret (records print their members).</summary>
    public override string ToString() => $"watsonx {Url} ({Auth})";
}
