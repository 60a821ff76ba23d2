using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Stages.Routing;

namespace LLMux.Stages;

/// <summary>Resolves the public model name (an alias, a <c>model_name</c>, or a wildcard group) to its model group.</summary>
public sealed class RouteStage(ModelRegistry registry, RouterSettings? router = null) : ILlmStage
{
    public ValueTask InvokeAsync(LlmContext context, StageDelegate next)
    {
        var model = context.RequestedModel!;
        var groupName = router is not null && router.ModelGroupAlias.TryGetValue(model, out var aliased) ? aliased : model;
        var group = registry.Group(groupName);
        if (group is null || group.Count == 0)
        {
            var names = registry.Names.Count <= 20 ? string.Join(", ", registry.Names) : string.Join(", ", registry.Names.Take(20)) + ", ...";
            throw new LlmError
            {
                Kind = ErrorKind.InvalidRequest,
                Message = $"unknown model `{model}`; this gateway serves: {names} (GET /v1/models lists them)",
                Param = "model",
                Code = "model_not_found",
            }.ToException();
        }
        if (context.AllowedModelRegion is { } region && (group = DeploymentRegion.InRegion(group, region)).Count == 0)
        {
            // The end user's default_model, when it has a deployment in the region, serves the call instead (LiteLLM's
            // documented meaning of the field).
            if (RegionDefault(context, model, region) is { } standIn) (groupName, group) = standIn;
            else throw new LlmError
            {
                Kind = ErrorKind.InvalidRequest,
                // LiteLLM's words (its router finds no deployment left after the region check).
                Message = $"No deployments available for selected model. Passed model={model}: the end user's allowed_model_region is `{region}`, and no deployment of this model is there (litellm_params.region_name, vertex_location or aws_region_name)",
                Param = "model",
                Code = "no_deployments_in_region",
            }.ToException();
        }
        context.ModelGroup = groupName;
        context.Candidates = group;
        context.Deployment = Resolve(group[0], groupName);
        return next(context);
    }

    /// <summary>The end user's <c>default_model</c> group (alias applied) and its deployments in <paramref name="region"/>; null when it has none there.</summary>
    private (string Name, IReadOnlyList<Deployment> Group)? RegionDefault(LlmContext context, string model, string region)
    {
        if (context.RegionDefaultModel is not { } fallback || fallback == model) return null;
        var name = router is not null && router.ModelGroupAlias.TryGetValue(fallback, out var aliased) ? aliased : fallback;
        return registry.Group(name) is { Count: > 0 } all && DeploymentRegion.InRegion(all, region) is { Count: > 0 } inRegion ? (name, inRegion) : null;
    }

    /// <summary>A wildcard deployment serves the requested name: <c>openai/*</c> serves <c>openai/gpt-4o</c> as <c>gpt-4o</c>.</summary>
    public static Deployment Resolve(Deployment d, string requested)
    {
        if (!d.UpstreamModel.EndsWith('*')) return d;
        var prefix = d.ModelName.EndsWith('*') ? d.ModelName[..^1] : "";
        var rest = requested.StartsWith(prefix, StringComparison.Ordinal) ? requested[prefix.Length..] : requested;
        var upstream = d.UpstreamModel[..^1] + rest;
        return d with { UpstreamModel = upstream, Model = d.ProviderName + "/" + upstream };
    }
}
