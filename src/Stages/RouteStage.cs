using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;

namespace LLMux.Stages;

/// <summary>Resolves the public model name (a <c>model_name</c>, possibly a wildcard group) to a deployment.</summary>
public sealed class RouteStage(ModelRegistry registry) : ILlmStage
{
    public ValueTask InvokeAsync(LlmContext context, StageDelegate next)
    {
        var model = context.RequestedModel!;
        var group = registry.Group(model);
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
        var deployment = group[0];
        context.Deployment = deployment.UpstreamModel.EndsWith('*') ? ForWildcard(deployment, model) : deployment;
        return next(context);
    }

    /// <summary><c>openai/*</c> serves <c>openai/gpt-4o</c> as <c>gpt-4o</c>; <c>*</c> with <c>openai/*</c> serves <c>gpt-4o</c> as it is.</summary>
    private static Deployment ForWildcard(Deployment d, string requested)
    {
        var prefix = d.ModelName.EndsWith('*') ? d.ModelName[..^1] : "";
        var rest = requested.StartsWith(prefix, StringComparison.Ordinal) ? requested[prefix.Length..] : requested;
        var upstream = d.UpstreamModel[..^1] + rest;
        return d with { UpstreamModel = upstream, Model = d.ProviderName + "/" + upstream };
    }
}
