namespace LLMux.Providers.Watsonx;

/// <summary>watsonx's finish reasons in OpenAI's words (the OpenAI SDKs refuse values they do not know).</summary>
internal static class WatsonxFinishReasons
{
    public static string ToOpenAI(string? reason) => reason switch
    {
        "length" or "max_tokens" or "time_limit" => "length",
        "tool_calls" => "tool_calls",
        "content_filter" => "content_filter",
        _ => "stop",
    };
}
