using System.Text.Json;

namespace LLMux.Emulators;

/// <summary>
/// What Bedrock InvokeModel and Vertex AI refuse in an Anthropic Messages body, as their documentation and error
/// messages describe it (kept apart from LLMux's own rules): <c>model</c> in the body, a wrong or missing
/// <c>anthropic_version</c>, fields the platform does not know, beta flags it does not have, and features used
/// without the beta that enables them.
/// </summary>
public sealed class ClaudePlatformRules
{
    private readonly HashSet<string> _fields;
    private readonly HashSet<string> _betas;

    private ClaudePlatformRules(string version, IEnumerable<string> fields, IEnumerable<string> betas)
    {
        AnthropicVersion = version;
        _fields = [.. fields];
        _betas = [.. betas];
    }

    public string AnthropicVersion { get; }

    private static readonly string[] CommonFields =
    [
        "anthropic_version", "anthropic_beta", "messages", "system", "max_tokens", "metadata", "stop_sequences", "temperature",
        "top_p", "top_k", "tools", "tool_choice", "thinking", "context_management",
    ];

    /// <summary>Bedrock: the stream is chosen by the operation, so <c>stream</c> is an extraneous key.</summary>
    public static ClaudePlatformRules Bedrock { get; } = new("bedrock-2023-05-31", CommonFields,
    [
        "computer-use-2024-10-22", "computer-use-2025-01-24", "computer-use-2025-11-24", "token-efficient-tools-2025-02-19",
        "interleaved-thinking-2025-05-14", "output-128k-2025-02-19", "dev-full-thinking-2025-05-14", "context-1m-2025-08-07",
        "context-management-2025-06-27", "tool-search-tool-2025-10-19", "tool-examples-2025-10-29", "compact-2026-01-12",
    ]);

    /// <summary>Vertex: <c>stream: true</c> goes with <c>:streamRawPredict</c>.</summary>
    public static ClaudePlatformRules Vertex { get; } = new("vertex-2023-10-16", [.. CommonFields, "stream"],
    [
        "computer-use-2024-10-22", "computer-use-2025-01-24", "computer-use-2025-11-24", "interleaved-thinking-2025-05-14",
        "context-1m-2025-08-07", "context-management-2025-06-27", "tool-search-tool-2025-10-19", "web-search-2025-03-05",
    ]);

    /// <summary>Null when the body is acceptable, else the platform's error message.</summary>
    public string? Check(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object) return "Malformed input request: expected a JSON object";
        foreach (var p in body.EnumerateObject())
            if (!_fields.Contains(p.Name)) return $"Malformed input request: #: extraneous key [{p.Name}] is not permitted, please reformat your input and try again.";
        if (!body.TryGetProperty("anthropic_version", out var v) || v.ValueKind != JsonValueKind.String)
            return "Malformed input request: #: required key [anthropic_version] not found, please reformat your input and try again.";
        if (v.GetString() != AnthropicVersion) return $"Invalid API version: anthropic_version must be {AnthropicVersion}";
        if (!body.TryGetProperty("max_tokens", out var mt) || mt.ValueKind != JsonValueKind.Number)
            return "Malformed input request: #: required key [max_tokens] not found, please reformat your input and try again.";
        if (!body.TryGetProperty("messages", out var m) || m.ValueKind != JsonValueKind.Array)
            return "Malformed input request: #: required key [messages] not found, please reformat your input and try again.";
        var betas = new HashSet<string>();
        if (body.TryGetProperty("anthropic_beta", out var b))
        {
            if (b.ValueKind != JsonValueKind.Array) return "Malformed input request: #/anthropic_beta: expected type: JSONArray";
            foreach (var e in b.EnumerateArray())
            {
                if (e.ValueKind != JsonValueKind.String || !_betas.Contains(e.GetString()!)) return "invalid beta flag";
                betas.Add(e.GetString()!);
            }
        }
        if (body.TryGetProperty("context_management", out _) && !betas.Contains("context-management-2025-06-27"))
            return "context_management: Extra inputs are not permitted";
        if (body.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array)
        {
            foreach (var t in tools.EnumerateArray())
                if (t.ValueKind == JsonValueKind.Object && t.TryGetProperty("defer_loading", out _) && !betas.Contains("tool-search-tool-2025-10-19"))
                    return "tools.0.custom.defer_loading: Extra inputs are not permitted";
        }
        return null;
    }

    /// <summary>A deterministic token count for a body (what the emulators' count endpoints answer): 3 per message plus one per 4 bytes of text.</summary>
    public static long CountTokens(JsonElement body)
    {
        long text = 0;
        long messages = 0;
        if (body.TryGetProperty("system", out var system)) text += TextLength(system);
        if (body.TryGetProperty("messages", out var m) && m.ValueKind == JsonValueKind.Array)
            foreach (var message in m.EnumerateArray())
            {
                messages++;
                if (message.TryGetProperty("content", out var c)) text += TextLength(c);
            }
        if (body.TryGetProperty("tools", out var tools)) text += tools.GetRawText().Length;
        return messages * 3 + (text + 3) / 4;
    }

    private static long TextLength(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => System.Text.Encoding.UTF8.GetByteCount(e.GetString()!),
        JsonValueKind.Array => e.EnumerateArray().Sum(TextLength),
        JsonValueKind.Object => e.TryGetProperty("text", out var t) ? TextLength(t) : e.TryGetProperty("content", out var c) ? TextLength(c) : 0,
        _ => 0,
    };
}
