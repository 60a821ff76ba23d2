using System.Collections.Frozen;
using LLMux.Pipeline.Capabilities;
using LLMux.Providers.Anthropic;

namespace LLMux.Providers.Bedrock;

/// <summary>
/// <c>bedrock/invoke/&lt;model id&gt;</c>: Claude through InvokeModel with an Anthropic body, so a chat request maps
/// as it does for Anthropic itself, except what Bedrock's Messages dialect lacks.
/// </summary>
internal static class BedrockInvokeSpec
{
    public const string Name = "bedrock/invoke";

    public static ProviderSpec Spec { get; } = new()
    {
        Name = Name,
        DisplayName = "Amazon Bedrock InvokeModel (Anthropic body)",
        DefaultApiBase = "https://bedrock-runtime.{region}.amazonaws.com",
        ApiBaseEnv = "AWS_BEDROCK_RUNTIME_ENDPOINT",
        Auth = AuthScheme.SigV4,
        StreamFormat = StreamFormat.EventStream,
        Modes = new[] { LlmMode.Chat }.ToFrozenSet(),
        ChatParams = ProviderSpec.Table(Rules()),
        Notes =
        [
            "The body carries `anthropic_version: bedrock-2023-05-31` and no `model` or `stream` (the URL names both).",
            "`anthropic-beta` values go into the body's `anthropic_beta`, filtered to those Bedrock accepts; the others are named in `x-llmux-warnings`.",
            "On `/v1/messages` every `bedrock/` Claude deployment except `bedrock/converse/…` is passed through InvokeModel, as LiteLLM does.",
        ],
    };

    private static ParamRule[] Rules()
    {
        var rules = new List<ParamRule>(AnthropicSpec.ChatParams.Length);
        foreach (var rule in AnthropicSpec.ChatParams)
        {
            rules.Add(rule.Param switch
            {
                "stream" => ParamRule.Mapped("stream", "invoke-with-response-stream route"),
                "extra_headers" => ParamRule.Mapped("extra_headers", "anthropic-beta → body anthropic_beta (Bedrock's allow-list); other headers are not sent"),
                "speed" => ParamRule.Dropped("speed", "Bedrock has no fast mode; left out with a warning"),
                "output_config" => ParamRule.Dropped("output_config", "Bedrock refuses the effort beta; left out with a warning"),
                "response_format" => ParamRule.Mapped("response_format", "json_tool_call tool, or output_format on Claude 4.5+", "Bedrock InvokeModel may refuse output_format"),
                _ => rule,
            });
        }
        return [.. rules];
    }
}
