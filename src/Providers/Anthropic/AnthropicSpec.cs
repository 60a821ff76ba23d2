using System.Collections.Frozen;
using LLMux.Pipeline.Capabilities;

namespace LLMux.Providers.Anthropic;

/// <summary>Anthropic's Messages API: chat only, and how each OpenAI chat parameter reaches it (LiteLLM's AnthropicConfig).</summary>
public static class AnthropicSpec
{
    public const string DefaultApiBase = "https://api.anthropic.com";
    public const string ApiVersion = "2023-06-01";

    /// <summary>Every OpenAI chat parameter, plus the Anthropic-only fields LiteLLM copies into the body.</summary>
    public static readonly ParamRule[] ChatParams =
    [
        ParamRule.Native("temperature"),
        ParamRule.Native("top_p"),
        ParamRule.Native("stream"),
        ParamRule.Mapped("stream_options", "usage chunk written by LLMux", "Anthropic always streams usage; LLMux writes the include_usage chunk"),
        ParamRule.Mapped("max_tokens", "max_tokens", "default when absent: the model's max_output_tokens, else 4096"),
        ParamRule.Mapped("max_completion_tokens", "max_tokens"),
        ParamRule.Mapped("stop", "stop_sequences"),
        ParamRule.Mapped("tools", "tools[].input_schema"),
        ParamRule.Mapped("tool_choice", "tool_choice", "auto/required→any/none/named→tool"),
        ParamRule.Mapped("parallel_tool_calls", "tool_choice.disable_parallel_tool_use"),
        ParamRule.Mapped("response_format", "output_format or json_tool_call tool", "json_schema on Claude 4.5+/4.1 → output_format; older models → forced json_tool_call tool"),
        ParamRule.Mapped("user", "metadata.user_id", "skipped when it looks like an e-mail or phone number"),
        ParamRule.Mapped("metadata", "metadata.user_id", "LiteLLM request metadata; only a valid user_id reaches Anthropic"),
        ParamRule.Mapped("reasoning_effort", "thinking", "minimal 128, low 1024, medium 2048, high 4096 budget_tokens; adaptive on 4.6 models"),
        ParamRule.Mapped("web_search_options", "web_search_20250305 tool"),
        ParamRule.Mapped("extra_headers", "request headers"),
        ParamRule.Mapped("context_management", "context_management", "OpenAI compaction list → compact_20260112 edit"),
        ParamRule.Native("thinking"),
        ParamRule.Native("top_k"),
        ParamRule.Native("speed"),
        ParamRule.Native("output_config"),
        ParamRule.Native("container"),
        ParamRule.Native("mcp_servers"),
        ParamRule.Dropped("n", "Anthropic returns one choice (n=1 is accepted)"),
        ParamRule.Dropped("seed"),
        ParamRule.Dropped("logit_bias"),
        ParamRule.Dropped("logprobs"),
        ParamRule.Dropped("top_logprobs"),
        ParamRule.Dropped("presence_penalty"),
        ParamRule.Dropped("frequency_penalty"),
        ParamRule.Dropped("modalities"),
        ParamRule.Dropped("prediction"),
        ParamRule.Dropped("service_tier"),
        ParamRule.Dropped("safety_identifier"),
        ParamRule.Dropped("prompt_cache_key", "use cache_control on messages instead"),
        ParamRule.Dropped("prompt_cache_retention", "use cache_control ttl instead"),
        ParamRule.Dropped("store"),
        ParamRule.Dropped("verbosity"),
        ParamRule.Dropped("functions", "use tools"),
        ParamRule.Dropped("function_call", "use tool_choice"),
        ParamRule.Dropped("max_retries", "LLMux retries through router settings"),
        ParamRule.Rejected("audio", "Anthropic cannot produce audio output"),
    ];

    public static ProviderSpec Spec { get; } = new()
    {
        Name = "anthropic",
        DisplayName = "Anthropic",
        DefaultApiBase = DefaultApiBase,
        ApiKeyEnv = "ANTHROPIC_API_KEY",
        ApiBaseEnv = "ANTHROPIC_API_BASE",
        Auth = AuthScheme.XApiKey,
        StreamFormat = StreamFormat.Sse,
        Modes = new[] { LlmMode.Chat }.ToFrozenSet(),
        ChatParams = ProviderSpec.Table(ChatParams),
        ForwardsUnknownFields = false,
    };
}
