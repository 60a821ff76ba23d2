namespace LLMux.Providers.Bedrock;

/// <summary>Converse <c>stopReason</c> → OpenAI <c>finish_reason</c>.</summary>
internal static class ConverseStopReasons
{
    public static string ToFinishReason(string? stopReason) => stopReason switch
    {
        null or "" or "end_turn" or "stop_sequence" => "stop",
        "max_tokens" or "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "guardrail_intervened" or "content_filtered" => "content_filter",
        _ => stopReason,
    };

    public static string ToFinishReason(ReadOnlySpan<byte> stopReason) => stopReason switch
    {
        _ when stopReason.IsEmpty || stopReason.SequenceEqual("end_turn"u8) || stopReason.SequenceEqual("stop_sequence"u8) => "stop",
        _ when stopReason.SequenceEqual("max_tokens"u8) || stopReason.SequenceEqual("model_context_window_exceeded"u8) => "length",
        _ when stopReason.SequenceEqual("tool_use"u8) => "tool_calls",
        _ when stopReason.SequenceEqual("guardrail_intervened"u8) || stopReason.SequenceEqual("content_filtered"u8) => "content_filter",
        _ => System.Text.Encoding.UTF8.GetString(stopReason),
    };
}
