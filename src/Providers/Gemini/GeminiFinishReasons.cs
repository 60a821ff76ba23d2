namespace LLMux.Providers.Gemini;

/// <summary>Gemini <c>finishReason</c> → OpenAI <c>finish_reason</c> (LiteLLM's table).</summary>
internal static class GeminiFinishReasons
{
    public static string Map(string? reason) => reason switch
    {
        "STOP" => "stop",
        "MAX_TOKENS" => "length",
        "SAFETY" or "RECITATION" or "LANGUAGE" or "OTHER" or "BLOCKLIST" or "PROHIBITED_CONTENT" or "SPII" or "IMAGE_SAFETY" or "IMAGE_PROHIBITED_CONTENT" => "content_filter",
        "MALFORMED_FUNCTION_CALL" => "malformed_function_call",
        "FINISH_REASON_UNSPECIFIED" => "finish_reason_unspecified",
        _ => "stop",
    };

    /// <summary>Reasons for which LiteLLM replaces the whole answer by an empty content_filter choice.</summary>
    public static bool Blocks(string? reason) =>
        reason is "SAFETY" or "RECITATION" or "BLOCKLIST" or "PROHIBITED_CONTENT" or "SPII" or "IMAGE_SAFETY" or "IMAGE_PROHIBITED_CONTENT";
}
