using System.Text.Json;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Modes;

/// <summary>What a JSON transcription answer costs: <c>usage</c> as tokens or as <c>{type: duration, seconds}</c>, else verbose_json's <c>duration</c>.</summary>
public static class TranscriptionAnswer
{
    public static Usage? Usage(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
            Usage? usage = null;
            decimal duration = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("duration"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Number) duration = reader.GetDecimal();
                }
                else if (reader.ValueTextEquals("usage"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                    usage = new Usage();
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        if (reader.ValueTextEquals("seconds"u8)) { reader.Read(); usage.AudioSeconds = reader.GetDecimal(); }
                        else if (reader.ValueTextEquals("input_tokens"u8)) { reader.Read(); usage.PromptTokens = reader.GetInt64(); }
                        else if (reader.ValueTextEquals("output_tokens"u8)) { reader.Read(); usage.CompletionTokens = reader.GetInt64(); }
                        else if (reader.ValueTextEquals("total_tokens"u8)) { reader.Read(); usage.TotalTokens = reader.GetInt64(); }
                        else { reader.Read(); reader.Skip(); }
                    }
                }
                else { reader.Read(); reader.Skip(); }
            }
            if (usage is null && duration > 0) usage = new Usage { AudioSeconds = duration };
            return usage;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            return null; // an unreadable usage is no reason to fail a transcription that arrived
        }
    }
}
