using LLMux.Providers;
using Microsoft.Extensions.Options;

namespace LLMux.Stages.Hosting;

/// <summary>Checks the options once at start (<c>ValidateOnStart</c>): every deployment resolves, settings are in range.</summary>
internal sealed class LLMuxOptionsValidator(ProviderCatalog catalog) : IValidateOptions<LLMuxOptions>
{
    public ValidateOptionsResult Validate(string? name, LLMuxOptions options)
    {
        var errors = new List<string>(options.ConfigurationErrors);
        foreach (var p in options.Providers)
        {
            if (catalog.Find(p.Spec.Name) != p) catalog.Add(p);
        }
        var env = options.EffectiveEnvironment();
        for (var i = 0; i < options.Deployments.Count; i++) DeploymentFactory.Create(catalog, options.Deployments[i], $"model_list[{i}]", env, errors);
        if (options.Deployments.Count + options.ResolvedDeployments.Count == 0)
            errors.Add("model_list: no deployments; add one with builder.AddDeployment(\"name\", \"provider/model\", ...) or a model_list section");
        var s = options.Settings;
        if (s.DefaultTimeout <= TimeSpan.Zero) errors.Add("router_settings.timeout: must be a positive number of seconds");
        if (s.Router.NumRetries < 0) errors.Add("router_settings.num_retries: must be 0 or more");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
