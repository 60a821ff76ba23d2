using LLMux.Pipeline.Context;
using LLMux.Stages.Routing;

namespace LLMux.Host.Endpoints;

/// <summary>How an endpoint turns the <c>model</c> a client sent into a model group before the pipeline runs.</summary>
internal static class ModelNames
{
    /// <summary>
    /// The caller's model alias first (a key's <c>aliases</c>, its team's <c>model_aliases</c>), then
    /// <c>router_settings.model_group_alias</c>: the same order the pipeline routes by.
    /// </summary>
    public static string GroupOf(RouterSettings router, Caller? caller, string model)
    {
        if (caller?.ModelAliases is { } aliases && aliases.TryGetValue(model, out var target)) model = target;
        return router.ModelGroupAlias.TryGetValue(model, out var group) ? group : model;
    }
}
