using System.Collections.Frozen;

namespace LLMux.Providers.Anthropic;

/// <summary>Model facts LiteLLM reads when it builds an Anthropic request: default max_tokens, thinking style, structured outputs.</summary>
internal static class AnthropicModels
{
    /// <summary>LiteLLM's <c>DEFAULT_ANTHROPIC_CHAT_MAX_TOKENS</c>, used when the model is not in the price table.</summary>
    public const int DefaultMaxTokens = 4096;

    /// <summary>LiteLLM's <c>DEFAULT_MAX_TOKENS</c>, added to a thinking budget when the caller set no max.</summary>
    public const int ThinkingHeadroom = 4096;

    /// <summary><c>max_output_tokens</c> of every <c>anthropic</c> chat model in model_prices_and_context_window.json (LiteLLM @ 8192819b).</summary>
    private static readonly FrozenDictionary<string, int> MaxOutputTokens = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["claude-3-5-haiku-20241022"] = 8192,
        ["claude-3-5-haiku-latest"] = 8192,
        ["claude-haiku-4-5-20251001"] = 64000,
        ["claude-haiku-4-5"] = 64000,
        ["claude-3-5-sonnet-20240620"] = 8192,
        ["claude-3-5-sonnet-20241022"] = 8192,
        ["claude-3-5-sonnet-latest"] = 8192,
        ["claude-3-7-sonnet-20250219"] = 64000,
        ["claude-3-7-sonnet-latest"] = 64000,
        ["claude-3-haiku-20240307"] = 4096,
        ["claude-3-opus-20240229"] = 4096,
        ["claude-3-opus-latest"] = 4096,
        ["claude-4-opus-20250514"] = 32000,
        ["claude-4-sonnet-20250514"] = 64000,
        ["claude-sonnet-4-5"] = 64000,
        ["claude-sonnet-4-5-20250929"] = 64000,
        ["claude-sonnet-4-6"] = 64000,
        ["claude-opus-4-1"] = 32000,
        ["claude-opus-4-1-20250805"] = 32000,
        ["claude-opus-4-20250514"] = 32000,
        ["claude-opus-4-5-20251101"] = 64000,
        ["claude-opus-4-5"] = 64000,
        ["claude-opus-4-6"] = 128000,
        ["claude-opus-4-6-20260205"] = 128000,
        ["claude-sonnet-4-20250514"] = 64000,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly string[] AdaptiveThinkingMarkers = ["opus-4-6", "opus_4_6", "opus-4.6", "opus_4.6", "sonnet-4-6", "sonnet_4_6", "sonnet-4.6", "sonnet_4.6"];

    private static readonly string[] OutputFormatMarkers = ["sonnet-4.5", "sonnet-4-5", "opus-4.1", "opus-4-1", "opus-4.5", "opus-4-5", "opus-4.6", "opus-4-6", "sonnet-4.6", "sonnet-4-6", "sonnet_4.6", "sonnet_4_6"];

    public static int DefaultMaxTokensFor(string model) =>
        MaxOutputTokens.TryGetValue(model, out var max) ? max : DefaultMaxTokens;

    /// <summary>Claude 4.6 models think adaptively: any reasoning_effort becomes <c>{"type":"adaptive"}</c>.</summary>
    public static bool IsAdaptiveThinking(string model) => ContainsAny(model.ToLowerInvariant(), AdaptiveThinkingMarkers);

    /// <summary>Models with native structured outputs (<c>output_format</c>) instead of the json_tool_call workaround.</summary>
    public static bool SupportsOutputFormat(string model) => ContainsAny(model, OutputFormatMarkers);

    private static bool ContainsAny(string text, string[] markers)
    {
        foreach (var m in markers)
        {
            if (text.Contains(m, StringComparison.Ordinal)) return true;
        }
        return false;
    }
}
