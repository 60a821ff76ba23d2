using LLMux.Pipeline.Context;

namespace LLMux.Stages.Responses;

/// <summary>
/// What the bridge needs to know about the deployment likeliest to serve the call: its provider (reasoning
/// envelopes are only given back to the provider that made them) and whether the caller said
/// <c>drop_params: false</c> explicitly (then a hosted tool the provider lacks is a 400, not a warning).
/// </summary>
internal readonly record struct ResponsesTarget(string? ProviderName, bool? DeploymentDropParams)
{
    public static ResponsesTarget For(Deployment? deployment) => new(deployment?.ProviderName, deployment?.DropParams);
}
