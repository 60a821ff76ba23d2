using System.Globalization;
using System.Text.Json;
using LLMux.Pipeline.Context;

namespace LLMux.Providers.Mock;

/// <summary>
/// What the mock should do for one call: from the deployment's <c>litellm_params</c> (mock_*), overridden by
/// the same fields in the request body.
/// </summary>
public sealed record MockBehavior
{
    public string? Response { get; init; }
    public int Chunks { get; init; } = 8;
    public int ChunkDelayMs { get; init; }
    public int? ErrorStatus { get; init; }
    public int? ErrorAfterChunks { get; init; }
    public string? ToolCall { get; init; }

    public static readonly HttpRequestOptionsKey<MockBehavior> OptionKey = new("llmux.mock");

    public static MockBehavior From(LlmContext context)
    {
        var d = context.Deployment;
        var b = new MockBehavior
        {
            Response = d?.Setting("mock_response"),
            Chunks = Int(d?.Setting("mock_chunks")) ?? 8,
            ChunkDelayMs = Int(d?.Setting("mock_chunk_delay_ms")) ?? 0,
            ErrorStatus = Int(d?.Setting("mock_error_status")),
            ErrorAfterChunks = Int(d?.Setting("mock_error_after_chunks")),
            ToolCall = d?.Setting("mock_tool_call"),
        };
        var extra = context.Chat?.Extra ?? context.Embedding?.Extra;
        if (extra is null) return b;
        if (extra.TryGetValue("mock_response", out var r) && r.ValueKind == JsonValueKind.String) b = b with { Response = r.GetString() };
        if (Int(extra, "mock_chunks") is { } c) b = b with { Chunks = c };
        if (Int(extra, "mock_chunk_delay_ms") is { } ms) b = b with { ChunkDelayMs = ms };
        if (Int(extra, "mock_error_status") is { } s) b = b with { ErrorStatus = s };
        if (Int(extra, "mock_error_after_chunks") is { } a) b = b with { ErrorAfterChunks = a };
        if (extra.TryGetValue("mock_tool_call", out var t) && t.ValueKind == JsonValueKind.String) b = b with { ToolCall = t.GetString() };
        return b;
    }

    private static int? Int(string? s) => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null;

    private static int? Int(Dictionary<string, JsonElement> extra, string key) =>
        extra.TryGetValue(key, out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var v) ? v : null;
}
