using System.Text.Json;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.OpenAI;

/// <summary>
/// Reads a Responses <c>usage</c> (<c>input_tokens</c>, <c>output_tokens</c>, <c>total_tokens</c>, cached and
/// reasoning details) into the gateway's <see cref="Usage"/>, for cost and telemetry of native passthroughs.
/// </summary>
internal static class ResponsesUsageReader
{
    /// <summary>The top-level <c>usage</c> of a Response object; throws a 502 when the body is not a JSON object.</summary>
    public static Usage? Scan(ReadOnlySpan<byte> json, string provider)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("not a JSON object");
            return FindUsage(ref reader);
        }
        catch (JsonException ex)
        {
            throw new LlmError { Kind = ErrorKind.BadGateway, Provider = provider, Message = $"{provider} answered with a body that is not valid JSON ({ex.Message})" }.ToException(ex);
        }
    }

    /// <summary>With the reader inside a Response object: its <c>usage</c>, or null.</summary>
    public static Usage? FindUsage(ref Utf8JsonReader reader)
    {
        Usage? usage = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject) usage = Read(ref reader);
                else reader.Skip();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return usage;
    }

    public static Usage Read(ref Utf8JsonReader reader)
    {
        var usage = new Usage();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("input_tokens"u8)) usage.PromptTokens = Long(ref reader);
            else if (reader.ValueTextEquals("output_tokens"u8)) usage.CompletionTokens = Long(ref reader);
            else if (reader.ValueTextEquals("total_tokens"u8)) usage.TotalTokens = Long(ref reader);
            else if (reader.ValueTextEquals("input_tokens_details"u8)) usage.PromptTokensDetails = new PromptTokensDetails { CachedTokens = Detail(ref reader, "cached_tokens"u8) };
            else if (reader.ValueTextEquals("output_tokens_details"u8)) usage.CompletionTokensDetails = new CompletionTokensDetails { ReasoningTokens = Detail(ref reader, "reasoning_tokens"u8) };
            else { reader.Read(); reader.Skip(); }
        }
        if (usage.TotalTokens == 0) usage.TotalTokens = usage.PromptTokens + usage.CompletionTokens;
        return usage;
    }

    private static long? Detail(ref Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); return null; }
        long? value = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(name)) value = Long(ref reader);
            else { reader.Read(); reader.Skip(); }
        }
        return value;
    }

    private static long Long(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var v) ? v : 0;
    }
}
