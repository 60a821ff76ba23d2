using System.Text.Json;
using LLMux.Pipeline.Wire;

namespace LLMux.Pipeline.Json;

/// <summary>Reads an OpenAI <c>usage</c> object with a <see cref="Utf8JsonReader"/> positioned on its StartObject.</summary>
public static class UsageReader
{
    public static Usage Read(ref Utf8JsonReader reader)
    {
        var usage = new Usage();
        if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); return usage; }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("prompt_tokens"u8)) usage.PromptTokens = ReadLong(ref reader);
            else if (reader.ValueTextEquals("completion_tokens"u8)) usage.CompletionTokens = ReadLong(ref reader);
            else if (reader.ValueTextEquals("total_tokens"u8)) usage.TotalTokens = ReadLong(ref reader);
            else if (reader.ValueTextEquals("prompt_tokens_details"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                var d = new PromptTokensDetails();
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("cached_tokens"u8)) d.CachedTokens = ReadLong(ref reader);
                    else if (reader.ValueTextEquals("audio_tokens"u8)) d.AudioTokens = ReadLong(ref reader);
                    else if (reader.ValueTextEquals("cache_creation_tokens"u8)) d.CacheCreationTokens = ReadLong(ref reader);
                    else { reader.Read(); reader.Skip(); }
                }
                usage.PromptTokensDetails = d;
            }
            else if (reader.ValueTextEquals("completion_tokens_details"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                var d = new CompletionTokensDetails();
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("reasoning_tokens"u8)) d.ReasoningTokens = ReadLong(ref reader);
                    else if (reader.ValueTextEquals("audio_tokens"u8)) d.AudioTokens = ReadLong(ref reader);
                    else if (reader.ValueTextEquals("accepted_prediction_tokens"u8)) d.AcceptedPredictionTokens = ReadLong(ref reader);
                    else if (reader.ValueTextEquals("rejected_prediction_tokens"u8)) d.RejectedPredictionTokens = ReadLong(ref reader);
                    else { reader.Read(); reader.Skip(); }
                }
                usage.CompletionTokensDetails = d;
            }
            else { reader.Read(); reader.Skip(); }
        }
        if (usage.TotalTokens == 0) usage.TotalTokens = usage.PromptTokens + usage.CompletionTokens;
        return usage;
    }

    private static long ReadLong(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var v) ? v : 0;
    }
}
