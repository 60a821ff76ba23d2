using System.Collections.Frozen;

namespace LLMux.Providers.Common;

/// <summary>
/// The <c>anthropic-beta</c> values a platform that hosts Claude accepts, and the name it knows each one by
/// (LiteLLM's <c>anthropic_beta_headers_config.json</c>, the <c>bedrock</c> and <c>vertex_ai</c> tables): a beta the
/// platform lacks answers 400 "invalid beta flag" there, so it is left out and named in a warning instead.
/// </summary>
internal sealed class AnthropicBetaAllowList
{
    private readonly FrozenDictionary<string, string> _accepted;

    private AnthropicBetaAllowList(string platform, Dictionary<string, string> accepted)
    {
        Platform = platform;
        _accepted = accepted.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public string Platform { get; }

    /// <summary>Bedrock InvokeModel with an Anthropic body (the body's <c>anthropic_beta</c>).</summary>
    public static AnthropicBetaAllowList BedrockInvoke { get; } = new("bedrock", new()
    {
        ["advanced-tool-use-2025-11-20"] = "tool-search-tool-2025-10-19",
        ["tool-search-tool-2025-10-19"] = "tool-search-tool-2025-10-19",
        ["tool-examples-2025-10-29"] = "tool-examples-2025-10-29",
        ["compact-2026-01-12"] = "compact-2026-01-12",
        ["computer-use-2024-10-22"] = "computer-use-2024-10-22",
        ["computer-use-2025-01-24"] = "computer-use-2025-01-24",
        ["computer-use-2025-11-24"] = "computer-use-2025-11-24",
        ["context-1m-2025-08-07"] = "context-1m-2025-08-07",
        ["context-management-2025-06-27"] = "context-management-2025-06-27",
        ["interleaved-thinking-2025-05-14"] = "interleaved-thinking-2025-05-14",
    });

    /// <summary>Claude on Vertex AI (<c>rawPredict</c>; the body's <c>anthropic_beta</c>).</summary>
    public static AnthropicBetaAllowList VertexAI { get; } = new("vertex_ai", new()
    {
        ["advanced-tool-use-2025-11-20"] = "tool-search-tool-2025-10-19",
        ["tool-search-tool-2025-10-19"] = "tool-search-tool-2025-10-19",
        ["computer-use-2024-10-22"] = "computer-use-2024-10-22",
        ["computer-use-2025-01-24"] = "computer-use-2025-01-24",
        ["computer-use-2025-11-24"] = "computer-use-2025-11-24",
        ["context-1m-2025-08-07"] = "context-1m-2025-08-07",
        ["context-management-2025-06-27"] = "context-management-2025-06-27",
        ["interleaved-thinking-2025-05-14"] = "interleaved-thinking-2025-05-14",
        ["web-search-2025-03-05"] = "web-search-2025-03-05",
    });

    public bool Accepts(string beta) => _accepted.ContainsKey(beta);

    /// <summary>Adds the platform's name for each accepted value to <paramref name="kept"/> (once each), the others to <paramref name="dropped"/>.</summary>
    public void Filter(string commaSeparated, List<string> kept, List<string> dropped)
    {
        foreach (var raw in commaSeparated.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (_accepted.TryGetValue(raw, out var name))
            {
                if (!kept.Contains(name)) kept.Add(name);
            }
            else if (!dropped.Contains(raw)) dropped.Add(raw);
        }
    }
}
