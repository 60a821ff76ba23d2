using System.Text.Json;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Bedrock;

/// <summary>
/// Converse <c>usage</c> → OpenAI usage, LiteLLM's formula: prompt tokens include cache reads and writes,
/// <c>cached_tokens</c> = cache reads, <c>cache_creation_tokens</c> = cache writes, total as reported.
/// </summary>
internal static class ConverseUsage
{
    /// <summary>Reads a usage object; the reader is on its StartObject and ends on its EndObject.</summary>
    public static Usage Read(ref Utf8JsonReader reader)
    {
        long input = 0, output = 0, total = 0, cacheRead = 0, cacheWrite = 0;
        if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); return new Usage(); }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("inputTokens"u8)) input = Long(ref reader);
            else if (reader.ValueTextEquals("outputTokens"u8)) output = Long(ref reader);
            else if (reader.ValueTextEquals("totalTokens"u8)) total = Long(ref reader);
            else if (reader.ValueTextEquals("cacheReadInputTokens"u8)) cacheRead = Long(ref reader);
            else if (reader.ValueTextEquals("cacheWriteInputTokens"u8)) cacheWrite = Long(ref reader);
            else { reader.Read(); reader.Skip(); }
        }
        return Build(input, output, total, cacheRead, cacheWrite);
    }

    public static Usage Build(long input, long output, long total, long cacheRead, long cacheWrite)
    {
        var prompt = input + cacheRead + cacheWrite;
        var usage = new Usage
        {
            PromptTokens = prompt,
            CompletionTokens = output,
            TotalTokens = total > 0 ? total : prompt + output,
        };
        if (cacheRead > 0 || cacheWrite > 0)
        {
            usage.PromptTokensDetails = new PromptTokensDetails { CachedTokens = cacheRead, CacheCreationTokens = cacheWrite > 0 ? cacheWrite : null };
            usage.Extra = new Dictionary<string, JsonElement>(2)
            {
                ["cache_read_input_tokens"] = JsonValues.Number(cacheRead),
                ["cache_creation_input_tokens"] = JsonValues.Number(cacheWrite),
            };
        }
        return usage;
    }

    private static long Long(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var v) ? v : 0;
    }
}
