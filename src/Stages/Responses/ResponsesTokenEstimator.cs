using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace LLMux.Stages.Responses;

/// <summary>
/// <c>POST /v1/responses/input_tokens</c> for bridged providers, which cannot count: an o200k_base estimate
/// over the chat request the bridge would send (instructions, history, tool definitions), with a flat
/// per-image figure. The endpoint marks the answer as an estimate.
/// </summary>
internal static class ResponsesTokenEstimator
{
    private const int PerMessage = 3;
    private const int PerRequest = 3;

    public static long Count(ReadOnlySpan<byte> chatBody)
    {
        var tok = Tokenization.O200k.Value;
        using var doc = JsonDocument.Parse(chatBody.ToArray());
        var root = doc.RootElement;
        long total = PerRequest;
        foreach (var m in root.GetProperty("messages").EnumerateArray())
        {
            total += PerMessage;
            if (m.TryGetProperty("content", out var content))
            {
                if (content.ValueKind == JsonValueKind.String) total += tok.CountTokens(content.GetString()!);
                else if (content.ValueKind == JsonValueKind.Array)
                    foreach (var part in content.EnumerateArray())
                    {
                        if (part.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String) total += tok.CountTokens(t.GetString()!);
                        else total += Messages.MessagesTokenEstimator.ImageTokens;
                    }
            }
            if (m.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
                foreach (var call in calls.EnumerateArray()) total += tok.CountTokens(call.GetRawText());
        }
        if (root.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array) total += tok.CountTokens(tools.GetRawText());
        return total;
    }
}
