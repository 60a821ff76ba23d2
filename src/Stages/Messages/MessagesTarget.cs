using LLMux.Pipeline.Context;

namespace LLMux.Stages.Messages;

/// <summary>
/// What the request translator needs to know about the model the call will reach: a Claude model (through
/// Anthropic, Bedrock or Vertex) understands <c>thinking</c>, <c>cache_control</c> and thinking blocks in the
/// history; any other model gets <c>reasoning_effort</c> and loses the Anthropic-only markers.
/// </summary>
internal readonly record struct MessagesTarget(bool IsClaude, string? ProviderName)
{
    public static MessagesTarget For(Deployment? deployment)
    {
        if (deployment is null) return new(false, null);
        // LiteLLM's adapter decides by the model name (contains "anthropic" or "claude").
        var claude = deployment.Model.Contains("claude", StringComparison.OrdinalIgnoreCase)
            || deployment.Model.Contains("anthropic", StringComparison.OrdinalIgnoreCase);
        return new(claude, deployment.ProviderName);
    }
}
