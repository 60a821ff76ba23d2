using System.Text.Json;
using LLMux.Pipeline.Capabilities;

namespace LLMux.Host.Batch;

/// <summary>One line of an OpenAI Batch input file: <c>{"custom_id", "method", "url", "body"}</c>, or why it is not one.</summary>
internal sealed record BatchRequestLine(long LineNumber, string? CustomId, LlmMode Mode, ReadOnlyMemory<byte> Body, string? Problem)
{
    /// <summary>Reads the line with one <see cref="Utf8JsonReader"/> pass; <see cref="Body"/> is a slice of <paramref name="line"/>.</summary>
    public static BatchRequestLine Parse(long lineNumber, ReadOnlyMemory<byte> line)
    {
        string? customId = null, method = null, url = null;
        ReadOnlyMemory<byte> body = default;
        try
        {
            var reader = new Utf8JsonReader(line.Span);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return Invalid(lineNumber, null, "is not a JSON object");
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("custom_id"u8)) { reader.Read(); customId = reader.TokenType == JsonTokenType.String ? reader.GetString() : null; }
                else if (reader.ValueTextEquals("method"u8)) { reader.Read(); method = reader.TokenType == JsonTokenType.String ? reader.GetString() : null; }
                else if (reader.ValueTextEquals("url"u8)) { reader.Read(); url = reader.TokenType == JsonTokenType.String ? reader.GetString() : null; }
                else if (reader.ValueTextEquals("body"u8))
                {
                    reader.Read();
                    var start = (int)reader.TokenStartIndex;
                    var isObject = reader.TokenType == JsonTokenType.StartObject;
                    reader.Skip();
                    if (isObject) body = line[start..(int)reader.BytesConsumed];
                }
                else { reader.Read(); reader.Skip(); }
            }
        }
        catch (JsonException ex)
        {
            return Invalid(lineNumber, customId, $"is not valid JSON ({ex.Message})");
        }
        if (string.IsNullOrEmpty(customId)) return Invalid(lineNumber, null, "has no `custom_id` string");
        if (method is not null && !string.Equals(method, "POST", StringComparison.OrdinalIgnoreCase)) return Invalid(lineNumber, customId, $"method `{method}` is not POST");
        LlmMode? mode = url switch
        {
            "/v1/chat/completions" or "/chat/completions" => LlmMode.Chat,
            "/v1/embeddings" or "/embeddings" => LlmMode.Embeddings,
            "/v1/responses" or "/responses" => LlmMode.Responses,
            "/v1/completions" or "/completions" => LlmMode.Completion,
            _ => null,
        };
        if (mode is null) return Invalid(lineNumber, customId, $"url `{url}` is not /v1/chat/completions, /v1/embeddings, /v1/responses or /v1/completions");
        if (body.IsEmpty) return Invalid(lineNumber, customId, "has no `body` object");
        return new BatchRequestLine(lineNumber, customId, mode.Value, body, null);
    }

    private static BatchRequestLine Invalid(long lineNumber, string? customId, string problem) =>
        new(lineNumber, customId, LlmMode.Chat, default, $"line {lineNumber} {problem}");
}
