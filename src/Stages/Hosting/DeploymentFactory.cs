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
    public static Deployment? Create(ProviderCatalog catalog, DeploymentDefinition d, string path, Func<string, string?> environment, List<string> errors, List<string>? warnings = null)
    {
        if (string.IsNullOrWhiteSpace(d.ModelName)) errors.Add($"{path}.model_name: is required (the name callers ask for)");
        if (string.IsNullOrWhiteSpace(d.Model)) { errors.Add($"{path}.litellm_params.model: is required, as provider/model (e.g. openai/gpt-4o-mini)"); return null; }
        if (!ProviderModelName.TryParse(d.Model, out var providerName, out var upstream))
        {
            errors.Add($"{path}.litellm_params.model: `{d.Model}` names no provider; write it as provider/model (e.g. openai/{d.Model})");
            return null;
        }
        var provider = catalog.Find(providerName);
        if (provider is null)
        {
            errors.Add($"{path}.litellm_params.model: unknown provider `{providerName}` in `{d.Model}`; known providers: {string.Join(", ", catalog.Names)}");
            return null;
        }
        if (upstream.Length == 0) { errors.Add($"{path}.litellm_params.model: `{d.Model}` has no model id after the provider"); return null; }
        if (d.Timeout is { } t && t <= TimeSpan.Zero) errors.Add($"{path}.litellm_params.timeout: must be a positive number of seconds");

        var p = $"{path}.litellm_params";
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in d.Params) settings[k] = Resolve(v, environment, $"{p}.{k}", warnings) ?? "";
        var apiBase = Resolve(d.ApiBase, environment, $"{p}.api_base", warnings);
        if (apiBase is { Length: > 0 } b && !Uri.TryCreate(b, UriKind.Absolute, out _)) errors.Add($"{path}.litellm_params.api_base: `{b}` is not an absolute URL");
        if (apiBase is not null) settings["api_base"] = apiBase;
        var apiKey = Resolve(d.ApiKey, environment, $"{p}.api_key", warnings);
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
            ApiVersion = Resolve(d.ApiVersion, environment, $"{p}.api_version", warnings),
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
