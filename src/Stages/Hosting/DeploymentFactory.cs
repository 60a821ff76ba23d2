using System.Collections.Frozen;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using LLMux.Pipeline.Context;
using LLMux.Providers;

namespace LLMux.Stages.Hosting;

/// <summary>Turns a <see cref="DeploymentDefinition"/> into a <see cref="Deployment"/>, naming the path of every problem.</summary>
internal static class DeploymentFactory
{
    /// <param name="configEnvironment">
    /// The config's own <c>environment_variables</c>: LiteLLM puts them in the process environment, so a provider's
    /// ambient fallbacks (<c>OPENAI_API_KEY</c>, <c>AWS_REGION_NAME</c>, ...) see them; LLMux applies them to the
    /// deployment instead (below its litellm_params, above the process environment) and leaves the process alone.
    /// </param>
    public static Deployment? Create(ProviderCatalog catalog, DeploymentDefinition d, string path, Func<string, string?> environment, List<string> errors, List<string>? warnings = null, IReadOnlyDictionary<string, string>? configEnvironment = null)
    {
        if (string.IsNullOrWhiteSpace(d.ModelName)) errors.Add($"{path}.model_name: is required (the name callers ask for)");
        if (string.IsNullOrWhiteSpace(d.Model)) { errors.Add($"{path}.litellm_params.model: is required, as provider/model (e.g. openai/gpt-4o-mini)"); return null; }
        var resolved = ModelProviderResolver.Resolve(catalog, d.Model);
        if (resolved.Provider is not { } provider)
        {
            errors.Add($"{path}.litellm_params.model: {resolved.Problem}");
            return null;
        }
        if (resolved.Note is { } note) warnings?.Add($"{path}.litellm_params.model: {note}");
        var upstream = resolved.Upstream;
        if (upstream.Length == 0) { errors.Add($"{path}.litellm_params.model: `{d.Model}` has no model id after the provider"); return null; }
        if (d.Timeout is { } t && t <= TimeSpan.Zero) errors.Add($"{path}.litellm_params.timeout: must be a positive number of seconds");

        var p = $"{path}.litellm_params";
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in d.Params) settings[k] = Resolve(v, environment, $"{p}.{k}", warnings) ?? "";
        var apiBase = Resolve(d.ApiBase, environment, $"{p}.api_base", warnings) ?? Ambient(configEnvironment, provider.Spec.ApiBaseEnv);
        if (apiBase is { Length: > 0 } b && !Uri.TryCreate(b, UriKind.Absolute, out _)) errors.Add($"{path}.litellm_params.api_base: `{b}` is not an absolute URL");
        if (apiBase is not null) settings["api_base"] = apiBase;
        var apiKey = Resolve(d.ApiKey, environment, $"{p}.api_key", warnings) ?? Ambient(configEnvironment, provider.Spec.ApiKeyEnv);
        if (configEnvironment is not null) ApplyAmbientSettings(configEnvironment, settings);
        var id = d.Id ?? ShortHash(d.ModelName + "|" + d.Model + "|" + apiBase);
        return new Deployment
        {
            ModelName = d.ModelName,
            Model = d.Model,
            ProviderName = provider.Spec.Name,
            UpstreamModel = upstream,
            Provider = provider.ForModel(upstream),
            Id = id,
            ApiBase = apiBase,
            ApiKey = Secret.From(apiKey),
            ApiVersion = Resolve(d.ApiVersion, environment, $"{p}.api_version", warnings) ?? (provider.Spec.Name is "azure" or "azure_ai" ? Ambient(configEnvironment, "AZURE_API_VERSION") : null),
            Timeout = d.Timeout,
            StreamTimeout = d.StreamTimeout,
            DropParams = d.DropParams,
            AdditionalDropParams = [.. d.AdditionalDropParams],
            AllowedOpenAIParams = [.. d.AllowedOpenAIParams],
            InputCostPerToken = d.InputCostPerToken,
            OutputCostPerToken = d.OutputCostPerToken,
            Rpm = d.Rpm,
            Tpm = d.Tpm,
            MaxRetries = Number(settings, "max_retries") is { } mr ? (int)mr : null,
            Weight = double.TryParse(settings.GetValueOrDefault("weight"), NumberStyles.Float, CultureInfo.InvariantCulture, out var w) ? w : null,
            Order = Number(settings, "order") is { } o ? (int)o : null,
            Settings = settings.ToFrozenDictionary(StringComparer.Ordinal),
        };
    }

    private static string? Ambient(IReadOnlyDictionary<string, string>? configEnvironment, string? name) =>
        configEnvironment is not null && name is not null && configEnvironment.TryGetValue(name, out var v) && v.Length > 0 ? v : null;

    /// <summary>The environment names providers fall back to for settings, as litellm_params keys.</summary>
    private static readonly (string Env, string Setting)[] AmbientSettings =
    [
        ("AWS_ACCESS_KEY_ID", "aws_access_key_id"), ("AWS_SECRET_ACCESS_KEY", "aws_secret_access_key"), ("AWS_SESSION_TOKEN", "aws_session_token"),
        ("AWS_REGION_NAME", "aws_region_name"), ("AWS_REGION", "aws_region_name"), ("AWS_DEFAULT_REGION", "aws_region_name"),
        ("VERTEXAI_PROJECT", "vertex_project"), ("VERTEX_PROJECT", "vertex_project"), ("VERTEXAI_LOCATION", "vertex_location"), ("VERTEX_LOCATION", "vertex_location"),
        ("VERTEXAI_CREDENTIALS", "vertex_credentials"), ("GOOGLE_APPLICATION_CREDENTIALS", "vertex_credentials"),
        ("WATSONX_IAM_URL", "watsonx_iam_url"), ("WATSONX_PROJECT_ID", "project_id"), ("WATSONX_SPACE_ID", "space_id"), ("WATSONX_TOKEN", "token"),
        ("DATABRICKS_CLIENT_ID", "databricks_client_id"), ("DATABRICKS_CLIENT_SECRET", "databricks_client_secret"),
        ("SNOWFLAKE_ACCOUNT_ID", "account_id"), ("SNOWFLAKE_USER", "snowflake_user"), ("SNOWFLAKE_PRIVATE_KEY", "snowflake_private_key"),
    ];

    private static void ApplyAmbientSettings(IReadOnlyDictionary<string, string> configEnvironment, Dictionary<string, string> settings)
    {
        foreach (var (env, setting) in AmbientSettings)
            if (!settings.ContainsKey(setting) && configEnvironment.TryGetValue(env, out var v) && v.Length > 0) settings[setting] = v;
    }

    /// <summary>Resolves <c>os.environ/NAME</c> as LiteLLM does.</summary>
    public static string? Resolve(string? value, Func<string, string?> environment) =>
        value is not null && value.StartsWith("os.environ/", StringComparison.Ordinal) ? environment(value["os.environ/".Length..]) : value;

    /// <summary>Resolves <c>os.environ/NAME</c>; an unset variable leaves the value empty, with a warning naming the path.</summary>
    private static string? Resolve(string? value, Func<string, string?> environment, string path, List<string>? warnings)
    {
        var resolved = Resolve(value, environment);
        if (resolved is null && value is not null && warnings is not null)
            warnings.Add($"{path}: environment variable `{value["os.environ/".Length..]}` is not set; the value is left empty");
        return resolved;
    }

    private static double? Number(Dictionary<string, string> s, string key) =>
        double.TryParse(s.GetValueOrDefault(key), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;

    private static string ShortHash(string s) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(s)).AsSpan(0, 8));
}
