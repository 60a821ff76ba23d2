using LLMux.Pipeline.Context;
using LLMux.Stages.Accounting;

namespace LLMux.Stages.Messages;

/// <summary>
/// What the request translator needs to know about the model the call will reach. A Claude model understands
/// <c>thinking</c>, <c>cache_control</c> and thinking blocks in the history; reached with an Anthropic body
/// (Anthropic, Bedrock InvokeModel, Vertex) it also takes Anthropic's top-level fields, while through Bedrock
/// Converse (<see cref="Converse"/>) those map to Converse fields or are dropped. Any other model gets
/// <c>reasoning_effort</c> and loses the Anthropic-only markers.
/// </summary>
/// <param name="IsClaude">A Claude model (LiteLLM decides by the name: contains "claude" or "anthropic").</param>
/// <param name="ProviderName">The provider's config prefix; it also tags reasoning signatures (<see cref="ReasoningSignature"/>).</param>
/// <param name="Converse">A Claude model reached through Bedrock Converse rather than with an Anthropic body.</param>
/// <param name="MaxOutputTokens">The model's output limit from the price table, when known.</param>
/// <param name="DropParams">drop_params as the deployment or litellm_settings set it (the body's own is read by the translator).</param>
internal readonly record struct MessagesTarget(bool IsClaude, string? ProviderName, bool Converse = false, long? MaxOutputTokens = null, bool DropParams = false)
{
    /// <summary>True when Anthropic's own top-level fields (context_management, container, output_config...) reach the model as they are.</summary>
    public bool TakesAnthropicFields => IsClaude && !Converse;

    public static MessagesTarget For(Deployment? deployment, bool settingsDropParams = false, PriceTable? prices = null)
    {
        if (deployment is null) return new(false, null, DropParams: settingsDropParams);
        var claude = deployment.Model.Contains("claude", StringComparison.OrdinalIgnoreCase)
            || deployment.Model.Contains("anthropic", StringComparison.OrdinalIgnoreCase);
        // Bedrock's default route and `bedrock/converse/` speak Converse; only `bedrock/invoke/` takes an Anthropic body.
        var converse = claude && deployment.ProviderName == "bedrock" && !deployment.UpstreamModel.StartsWith("invoke/", StringComparison.Ordinal);
        var limit = (prices ?? PriceTable.Default).Find(deployment.ProviderName, deployment.UpstreamModel)?.MaxOutputTokens;
        return new(claude, deployment.ProviderName, converse, limit is > 0 ? limit : null, deployment.DropParams ?? settingsDropParams);
    }
}
