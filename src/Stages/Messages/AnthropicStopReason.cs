namespace LLMux.Stages.Messages;

/// <summary>OpenAI <c>finish_reason</c> → Anthropic <c>stop_reason</c>.</summary>
internal static class AnthropicStopReason
{
    /// <summary>A tool call wins over "stop" (some providers say stop after a tool call); content_filter is a refusal.</summary>
    public static string From(string? finishReason, bool sawToolCall) => finishReason switch
    {
        "length" => "max_tokens",
        "tool_calls" or "function_call" => "tool_use",
        "content_filter" => "refusal",
        _ when sawToolCall => "tool_use",
        _ => "end_turn",
    };

    public static string From(ReadOnlySpan<byte> finishReason, bool sawToolCall)
    {
        if (finishReason.SequenceEqual("length"u8)) return "max_tokens";
        if (finishReason.SequenceEqual("tool_calls"u8) || finishReason.SequenceEqual("function_call"u8)) return "tool_use";
        if (finishReason.SequenceEqual("content_filter"u8)) return "refusal";
        return sawToolCall ? "tool_use" : "end_turn";
    }
}
