using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;
using LLMux.Providers;
using LLMux.Stages.Accounting;
using LLMux.Stages.Routing;
using Microsoft.Extensions.Options;

namespace LLMux.Stages.Hosting;

/// <summary>
/// The composed gateway inside a .NET host: the resolved deployments, the stage pipeline (built once) and the
/// context pool. <see cref="ILlmClient"/> and the M.E.AI adapters drive calls through it.
/// </summary>
public sealed class LLMuxRuntime
{
    public LLMuxRuntime(IOptions<LLMuxOptions> options, ProviderCatalog catalog, RouterState routerState, CostCalculator costs, UsageSink sink, HttpMessageInvoker transport)
    {
        var o = options.Value;
        foreach (var p in o.Providers)
        {
            if (catalog.Find(p.Spec.Name) != p) catalog.Add(p);
        }
        var errors = new List<string>();
        var deployments = new List<Deployment>(o.ResolvedDeployments);
        var env = o.EffectiveEnvironment();
        for (var i = 0; i < o.Deployments.Count; i++)
        {
            // A section's environment_variables are its deployments' ambient environment, as for the host's config.yaml.
            if (DeploymentFactory.Create(catalog, o.Deployments[i], $"model_list[{i}]", env, errors, null, o.ConfigurationEnvironment) is { } d) deployments.Add(d);
        }
        if (errors.Count > 0) throw new OptionsValidationException(nameof(LLMuxOptions), typeof(LLMuxOptions), errors);

        Catalog = catalog;
        Settings = o.Settings;
        Registry = new ModelRegistry(deployments);
        Pipeline = Compose(LlmPipelines.CreateBuilder(Registry, Settings, transport, routerState, costs, sink), o).Build();
        DefaultChatModel = o.DefaultChatModel ?? FirstName(deployments, embeddings: false);
        DefaultEmbeddingModel = o.DefaultEmbeddingModel ?? FirstName(deployments, embeddings: true);
    }

    public ProviderCatalog Catalog { get; }
    public ModelRegistry Registry { get; }
    public GatewaySettings Settings { get; }
    /// <summary>The request phase: validate → route → router ⊃ [capability check → transform → send → stream-parse].</summary>
    public StageDelegate Pipeline { get; }
    public LlmContextPool ContextPool { get; } = new();
    public string? DefaultChatModel { get; }
    public string? DefaultEmbeddingModel { get; }

    /// <summary>The standard stages with the host's own stages put in place.</summary>
    private static LlmPipelineBuilder Compose(LlmPipelineBuilder standard, LLMuxOptions o)
    {
        if (o.StagesBeforeRouting.Count == 0 && o.StagesBeforeSend.Count == 0) return standard;
        var composed = new LlmPipelineBuilder();
        foreach (var stage in standard.Stages)
        {
            if (stage is TransformStage) foreach (var s in o.StagesBeforeSend) composed.Use(s);
            if (stage is RouteStage) foreach (var s in o.StagesBeforeRouting) composed.Use(s);
            composed.Use(stage);
        }
        return composed;
    }

    private static string? FirstName(List<Deployment> deployments, bool embeddings)
    {
        foreach (var d in deployments)
        {
            var looksEmbedding = d.UpstreamModel.Contains("embed", StringComparison.OrdinalIgnoreCase);
            if (looksEmbedding == embeddings && !d.ModelName.Contains('*')) return d.ModelName;
        }
        return deployments.Count > 0 && !deployments[0].ModelName.Contains('*') ? deployments[0].ModelName : null;
    }
}
