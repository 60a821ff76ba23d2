namespace LLMux.Providers.Common;

/// <summary>
/// A cloud platform that hosts Claude behind the Messages API with its own body rules: the model is in the URL
/// (so no <c>model</c> in the body), <c>anthropic_version</c> names the platform's API version, betas travel in the
/// body's <c>anthropic_beta</c> filtered to what the platform accepts, and a few fields it does not know are left out.
/// </summary>
internal sealed record AnthropicPlatform
{
    public required string Name { get; init; }
    /// <summary>The body's <c>anthropic_version</c> (<c>bedrock-2023-05-31</c>, <c>vertex-2023-10-16</c>).</summary>
    public required string AnthropicVersion { get; init; }
    /// <summary>False where the stream is chosen by the URL and a <c>stream</c> field is refused (Bedrock).</summary>
    public required bool KeepsStreamField { get; init; }
    public required AnthropicBetaAllowList Betas { get; init; }
    /// <summary>Top-level fields the platform refuses that only tune the answer: left out, named in <c>x-llmux-warnings</c>.</summary>
    public required IReadOnlyList<string> DroppedFields { get; init; }

    public static AnthropicPlatform BedrockInvoke { get; } = new()
    {
        Name = "bedrock",
        AnthropicVersion = "bedrock-2023-05-31",
        KeepsStreamField = false,
        Betas = AnthropicBetaAllowList.BedrockInvoke,
        DroppedFields = ["output_config", "speed"],
    };

    public static AnthropicPlatform VertexAI { get; } = new()
    {
        Name = "vertex_ai",
        AnthropicVersion = "vertex-2023-10-16",
        KeepsStreamField = true,
        Betas = AnthropicBetaAllowList.VertexAI,
        DroppedFields = ["output_config", "output_format", "speed"],
    };
}
