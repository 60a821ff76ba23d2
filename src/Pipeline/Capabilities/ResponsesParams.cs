using System.Collections.Frozen;

namespace LLMux.Pipeline.Capabilities;

/// <summary>
/// The Responses API's request fields and how a provider serves each. A provider that speaks the API gets
/// <see cref="Native"/> (body forwarded); every chat provider gets <see cref="Bridged"/>: LLMux's bridge maps
/// the field onto the chat request, whose own parameter table then applies.
/// </summary>
public static class ResponsesParams
{
    public static IReadOnlyList<string> Names { get; } =
    [
        "input", "instructions", "tools", "tool_choice", "parallel_tool_calls", "max_output_tokens", "temperature", "top_p",
        "top_logprobs", "text", "reasoning", "stream", "stream_options", "store", "previous_response_id", "include", "metadata",
        "user", "service_tier", "truncation", "background", "conversation", "prompt", "prompt_cache_key", "prompt_cache_retention",
        "max_tool_calls", "safety_identifier", "context_management",
    ];

    public static FrozenDictionary<string, ParamRule> Native { get; } = ProviderSpec.Table(Names.Select(ParamRule.Native).ToArray());

    public static FrozenDictionary<string, ParamRule> Bridged { get; } = ProviderSpec.Table(
        ParamRule.Mapped("input", "messages", "items: message (input_text/input_image/input_file parts), function_call, function_call_output, custom_tool_call(_output), reasoning (given back only to the provider that made it), item_reference within the chain"),
        ParamRule.Mapped("instructions", "leading system message", "not inherited through previous_response_id"),
        ParamRule.Mapped("tools", "tools (nested functions)", "custom → a function taking one string `input`; namespace → its functions as `{namespace}__{name}`; tools OpenAI hosts (web_search, file_search, ...) are dropped with a warning, a 400 under an explicit drop_params: false"),
        ParamRule.Mapped("tool_choice", "tool_choice", "flat `{type:function,name}` nested with the name kept; allowed_tools filters the tools; forcing a hosted tool is a 400"),
        ParamRule.Mapped("parallel_tool_calls", "parallel_tool_calls"),
        ParamRule.Mapped("max_output_tokens", "max_tokens"),
        ParamRule.Mapped("temperature", "temperature"),
        ParamRule.Mapped("top_p", "top_p"),
        ParamRule.Mapped("top_logprobs", "logprobs + top_logprobs"),
        ParamRule.Mapped("text", "response_format", "json_schema and json_object formats; verbosity dropped with a warning"),
        ParamRule.Mapped("reasoning", "reasoning_effort", "summary: the provider's reasoning is returned as the summary"),
        ParamRule.Native("stream"),
        ParamRule.Dropped("stream_options", "no obfuscation padding is added"),
        ParamRule.Native("store"),
        ParamRule.Native("previous_response_id"),
        ParamRule.Mapped("include", "reasoning.encrypted_content", "LLMux's provider-tagged envelope of the provider's signed reasoning"),
        ParamRule.Native("metadata"),
        ParamRule.Mapped("user", "user"),
        ParamRule.Mapped("service_tier", "service_tier"),
        ParamRule.Dropped("truncation", "`auto` is dropped with a warning; `disabled` is what a chat provider does"),
        ParamRule.Rejected("background", "background responses are not run yet"),
        ParamRule.Rejected("conversation", "conversations are state kept by OpenAI"),
        ParamRule.Rejected("prompt", "stored prompts are state kept by OpenAI"),
        ParamRule.Dropped("prompt_cache_key", "dropped with a warning"),
        ParamRule.Dropped("prompt_cache_retention", "dropped with a warning"),
        ParamRule.Dropped("max_tool_calls", "dropped with a warning"),
        ParamRule.Dropped("safety_identifier", "dropped with a warning"),
        ParamRule.Dropped("context_management", "dropped with a warning"));
}
