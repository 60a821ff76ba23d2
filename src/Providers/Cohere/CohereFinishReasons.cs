namespace LLMux.Providers.Cohere;

/// <summary>Cohere's finish_reason values → OpenAI's.</summary>
internal static class CohereFinishReasons
{
    public static string ToOpenAI(string? reason) => reason switch
    {
        "MAX_TOKENS" => "length",
        "TOOL_CALL" => "tool_calls",
        "ERROR_TOXIC" => "content_filter",
        _ => "stop", // COMPLETE, STOP_SEQUENCE
    };
}
