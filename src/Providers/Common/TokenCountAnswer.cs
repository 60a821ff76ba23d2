using System.Text.Json;
using LLMux.Pipeline.Errors;

namespace LLMux.Providers.Common;

/// <summary>Reads the one number a count endpoint answers (<c>input_tokens</c>, <c>inputTokens</c>, <c>totalTokens</c>).</summary>
internal static class TokenCountAnswer
{
    public static long Read(ReadOnlySpan<byte> body, ReadOnlySpan<byte> field, string provider)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            if (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var match = reader.ValueTextEquals(field);
                    reader.Read();
                    if (match && reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var n)) return n;
                    reader.Skip();
                }
            }
        }
        catch (JsonException) { }
        throw new LlmError { Kind = ErrorKind.BadGateway, Provider = provider, Message = $"{provider} answered the token count without a number in `{System.Text.Encoding.UTF8.GetString(field)}`" }.ToException();
    }
}
