using System.Collections.Frozen;
using LLMux.Pipeline.Capabilities;
using LLMux.Providers.Anthropic;

namespace LLMux.Providers.Gemini;

/// <summary>
/// <c>vertex_ai/claude-…</c>: Anthropic's models on Vertex AI (publisher <c>anthropic</c>, <c>:rawPredict</c> /
/// <c>:streamRawPredict</c>), so a chat request maps as it does for Anthropic, except what Vertex's dialect lacks.
/// </summary>
internal static class VertexClaudeSpec
{
    public const string Name = "vertex_ai/claude";

    public static ProviderSpec Spec { get; } = new()
    {
        Name = Name,
        DisplayName = "Vertex AI (Claude, Anthropic publisher)",
        Auth = AuthScheme.GoogleServiceAccount,
        StreamFormat = StreamFormat.Sse,
        Modes = new[] { LlmMode.Chat }.ToFrozenSet(),
        ChatParams = ProviderSpec.Table(Rules()),
        Notes =
        [
            "`model: vertex_ai/claude-…`; the body carries `anthropic_version: vertex-2023-10-16` and no `model` (the URL names it); regions include `global`.",
            "`anthropic-beta` values go into the body's `anthropic_beta`, filtered to those Vertex accepts; the others are named in `x-llmux-warnings`.",
            "`/v1/messages` to a Vertex Claude deployment is a near-passthrough: only what Vertex refuses changes.",
        ],
    };

    private static ParamRule[] Rules()
    {
        var rules = new List<ParamRule>(AnthropicSpec.ChatParams.Length);
        foreach (var rule in AnthropicSpec.ChatParams)
        {
            rules.Add(rule.Param switch
            {
                "stream" => ParamRule.Mapped("stream", "streamRawPredict + stream"),
                "extra_headers" => ParamRule.Mapped("extra_headers", "anthropic-beta → body anthropic_beta (Vertex's allow-list); other headers are sent as they are"),
                "speed" => ParamRule.Dropped("speed", "Vertex has no fast mode; left out with a warning"),
                "output_config" => ParamRule.Dropped("output_config", "Vertex refuses the effort beta; left out with a warning"),
                "response_format" => ParamRule.Mapped("response_format", "json_tool_call tool", "Vertex has no output_format: it is left out with a warning on Claude 4.5+ (LiteLLM drops it too)"),
                _ => rule,
            });
        }
        return [.. rules];
    }
}
