using System.Text.Json;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Anthropic;

/// <summary>
/// Anthropic's usage across one stream: message_start carries the input and cache counts, message_delta's
/// counts are cumulative, so each value read replaces the last.
/// </summary>
internal struct AnthropicUsageCounter
{
    private long _input, _output, _cacheCreation, _cacheRead;

    /// <summary>Reads a usage object; the reader is on its StartObject.</summary>
    public void Read(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); return; }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("input_tokens"u8)) _input = ReadLong(ref reader, _input);
            else if (reader.ValueTextEquals("output_tokens"u8)) _output = ReadLong(ref reader, _output);
            else if (reader.ValueTextEquals("cache_creation_input_tokens"u8)) _cacheCreation = ReadLong(ref reader, _cacheCreation);
            else if (reader.ValueTextEquals("cache_read_input_tokens"u8)) _cacheRead = ReadLong(ref reader, _cacheRead);
            else { reader.Read(); reader.Skip(); }
        }
    }

    /// <summary>In OpenAI's shape: prompt tokens include cache writes and reads.</summary>
    public readonly Usage ToUsage() => AnthropicResponseReader.Build(_input, _output, _cacheCreation, _cacheRead);

    private static long ReadLong(ref Utf8JsonReader reader, long current)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var v) ? v : current;
    }
}
