using System.Net.Http.Headers;
using System.Text.Json;
using LLMux.Pipeline.Errors;
using LLMux.Providers.Common;
using LLMux.Providers.OpenAI;

namespace LLMux.Providers.Voyage;

/// <summary>Voyage answers errors as <c>{"detail": "..."}</c> with the HTTP status; classified as OpenAI-compatible errors are.</summary>
internal static class VoyageErrorMapper
{
    public static LlmError Map(int status, ReadOnlySpan<byte> body, HttpResponseHeaders? headers)
    {
        var detail = Detail(body);
        var error = OpenAIErrorMapper.Map(VoyageSpec.Name, status, body, headers);
        if (detail is null) return error;
        var kind = ErrorHeuristics.IsContextWindowExceeded(detail) ? ErrorKind.ContextWindowExceeded : error.Kind;
        return error with { Kind = kind, Message = $"{VoyageSpec.Name}: {detail}" + (kind == ErrorKind.Auth ? " (Voyage rejected the key: check this deployment's api_key or VOYAGE_API_KEY)" : "") };
    }

    private static string? Detail(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty) return null;
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isDetail = reader.ValueTextEquals("detail"u8);
                reader.Read();
                if (isDetail && reader.TokenType == JsonTokenType.String) return reader.GetString();
                reader.Skip();
            }
        }
        catch (JsonException)
        {
        }
        return null;
    }
}
