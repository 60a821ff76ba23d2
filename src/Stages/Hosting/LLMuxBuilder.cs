using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;
using Microsoft.Extensions.DependencyInjection;

namespace LLMux.Stages.Hosting;

/// <summary>Configures LLMux inside <c>services.AddLLMux(builder => ...)</c>.</summary>
public sealed class LLMuxBuilder
{
    internal LLMuxBuilder(IServiceCollection services) => Services = services;

    public IServiceCollection Services { get; }

    /// <summary>Adds a deployment: <paramref name="modelName"/> is what callers ask for, <paramref name="model"/> is LiteLLM's <c>provider/model</c>.</summary>
    public LLMuxBuilder AddDeployment(string modelName, string model, string? apiBase = null, string? apiKey = null, Func<DeploymentDefinition, DeploymentDefinition>? configure = null)
    {
        var d = new DeploymentDefinition { ModelName = modelName, Model = model, ApiBase = apiBase, ApiKey = apiKey };
        if (configure is not null) d = configure(d);
        return AddDeployment(d);
    }

    public LLMuxBuilder AddDeployment(DeploymentDefinition deployment)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        Services.Configure<LLMuxOptions>(o => o.Deployments.Add(deployment));
        return this;
    }

    /// <summary>Adds deployments resolved elsewhere (the <c>llmux</c> host's YAML loader).</summary>
    public LLMuxBuilder AddDeployments(IEnumerable<Deployment> deployments)
    {
        var list = deployments.ToArray();
        Services.Configure<LLMuxOptions>(o => o.ResolvedDeployments.AddRange(list));
        return this;
    }

    /// <summary>Changes <c>litellm_settings</c>/<c>router_settings</c>: <c>b.ConfigureSettings(s => s with { DropParams = true })</c>.</summary>
    public LLMuxBuilder ConfigureSettings(Func<GatewaySettings, GatewaySettings> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        Services.Configure<LLMuxOptions>(o => o.Settings = change(o.Settings));
        return this;
    }

    public LLMuxBuilder Configure(Action<LLMuxOptions> configure)
    {
        Services.Configure(configure);
        return this;
    }

    /// <summary>Adds a stage that sees every call once, after validation and before routing (auth, quotas, logging).</summary>
    public LLMuxBuilder AddStageBeforeRouting(ILlmStage stage)
    {
        ArgumentNullException.ThrowIfNull(stage);
        Services.Configure<LLMuxOptions>(o => o.StagesBeforeRouting.Add(stage));
        return this;
    }

    /// <summary>Adds a stage that runs for every upstream attempt, once the deployment is chosen and before its request is written.</summary>
    public LLMuxBuilder AddStageBeforeSend(ILlmStage stage)
    {
        ArgumentNullException.ThrowIfNull(stage);
        Services.Configure<LLMuxOptions>(o => o.StagesBeforeSend.Add(stage));
        return this;
    }

    /// <summary>Adds a provider to the catalog under its spec's name (replacing a built-in one of the same name).</summary>
    public LLMuxBuilder AddProvider(LlmProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        Services.Configure<LLMuxOptions>(o => o.Providers.Add(provider));
        return this;
    }
}
