using System.Text.Json;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Modes;

/// <summary>Reads what an OpenAI-shaped images answer costs: the images in <c>data</c>, and gpt-image's token usage.</summary>
public static class ImageAnswer
{
    public static Usage Read(ReadOnlySpan<byte> body, string? size, string? quality, string provider)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("not a JSON object");
            var usage = new Usage { ImageSize = size, ImageQuality = quality };
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("data"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray) { reader.Skip(); continue; }
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray) { usage.Images++; reader.Skip(); }
                }
                else if (reader.ValueTextEquals("size"u8) || reader.ValueTextEquals("quality"u8))
                {
                    var isSize = reader.ValueTextEquals("size"u8);
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String)
                    {
                        if (isSize) usage.ImageSize = reader.GetString();
                        else usage.ImageQuality = reader.GetString();
                    }
                }
                else if (reader.ValueTextEquals("usage"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                    usage.ImageTokens = true;
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        if (reader.ValueTextEquals("input_tokens"u8)) { reader.Read(); usage.PromptTokens = reader.GetInt64(); }
                        else if (reader.ValueTextEquals("output_tokens"u8)) { reader.Read(); usage.CompletionTokens = reader.GetInt64(); }
                        else if (reader.ValueTextEquals("total_tokens"u8)) { reader.Read(); usage.TotalTokens = reader.GetInt64(); }
                        else if (reader.ValueTextEquals("input_tokens_details"u8))
                        {
                            reader.Read();
                            if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                            {
                                var image = reader.ValueTextEquals("image_tokens"u8);
                                reader.Read();
                                if (image && reader.TokenType == JsonTokenType.Number) usage.InputImageTokens = reader.GetInt64();
                                else reader.Skip();
                            }
                        }
                        else { reader.Read(); reader.Skip(); }
                    }
                }
                else { reader.Read(); reader.Skip(); }
            }
            return usage;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            throw new LlmError { Kind = ErrorKind.BadGateway, Provider = provider, Message = $"{provider} answered the images call with a body that is not valid JSON ({ex.Message})" }.ToException(ex);
        }
    }
}
