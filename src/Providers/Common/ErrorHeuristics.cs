using System.Text.RegularExpressions;

namespace LLMux.Providers.Common;

/// <summary>LiteLLM's string heuristics that refine a provider error into the taxonomy (context window, rate limit, content policy).</summary>
internal static partial class ErrorHeuristics
{
    private static readonly string[] ContextWindowMarkers =
    [
        "exceed context limit",
        "this model's maximum context length is",
        "string too long. expected a string with maximum length",
        "model's maximum context limit",
        "is longer than the model's context length",
        "input tokens exceed the configured limit",
        "`inputs` tokens + `max_new_tokens` must be",
        "exceeds the maximum number of tokens allowed",
        "prompt is too long",
        "context_length_exceeded",
    ];

    private static readonly string[] ContentPolicyMarkers =
    [
        "content_policy_violation",
        "responsibleaipolicyviolation",
        "your request was rejected as a result of our safety system",
        "request was rejected as a result of the safety system",
        "content filtering policy",
        "the response was filtered due to the prompt triggering",
    ];

    public static bool IsContextWindowExceeded(string text)
    {
        if (text.Contains("string_above_max_length", StringComparison.OrdinalIgnoreCase)) return false;
        foreach (var m in ContextWindowMarkers)
        {
            if (text.Contains(m, StringComparison.OrdinalIgnoreCase)) return true;
        }
        return text.Contains("current length is", StringComparison.OrdinalIgnoreCase) && text.Contains("while limit is", StringComparison.OrdinalIgnoreCase);
    }

    public static bool IsRateLimit(string text) => RateLimitRegex().IsMatch(text) || text.Contains("service tier capacity exceeded", StringComparison.OrdinalIgnoreCase);

    public static bool IsContentPolicy(string text)
    {
        foreach (var m in ContentPolicyMarkers)
        {
            if (text.Contains(m, StringComparison.OrdinalIgnoreCase)) return true;
        }
        return false;
    }

    [GeneratedRegex(@"\b429\b|rate[\s_\-]*limit", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex RateLimitRegex();
}
