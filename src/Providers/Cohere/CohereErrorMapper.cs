using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Errors;
using LLMux.Providers.Common;

namespace LLMux.Providers.Cohere;

/// <summary>Cohere errors (<c>{"message": "..."}</c>, sometimes with an id) → the taxonomy by HTTP status, as LiteLLM's CohereError does.</summary>
internal static class CohereErrorMapper
{
    public static LlmError Map(int status, ReadOnlySpan<byte> body, HttpResponseHeaders? headers)
    {
        var message = ReadMessage(body) ?? (status == 0 ? "upstream error" : $"upstream answered HTTP {status}");
        var kind = status switch
        {
            400 or 422 when ErrorHeuristics.IsContextWindowExceeded(message) => ErrorKind.ContextWindowExceeded,
            0 => ErrorKind.ServerError,
            _ => ErrorStatus.KindForStatus(status),
        };
        return new LlmError
        {
            Kind = kind,
            Message = "cohere: " + message + Hint(kind),
            Provider = CohereSpec.Spec.Name,
            UpstreamStatus = status == 0 ? null : status,
            UpstreamRequestId = headers is null ? null : UpstreamHeaders.RequestId(headers),
            RetryAfter = headers is null ? null : UpstreamHeaders.RetryAfter(headers),
            StatusOverride = kind == ErrorKind.Other ? status : null,
        };
    }

    private static string Hint(ErrorKind kind) => kind switch
    {
        ErrorKind.Auth => " (Cohere rejected the credentials: check this deployment's api_key or COHERE_API_KEY)",
        ErrorKind.RateLimit => " (rate limited by Cohere: retry after the Retry-After delay, or add deployments to the model group)",
        ErrorKind.ContextWindowExceeded => " (shorten the prompt or choose a model with a larger context window)",
        _ => "",
    };

    private static string? ReadMessage(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty) return null;
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return Truncate(body);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("message"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String) return reader.GetString();
                    reader.Skip();
                }
                else { reader.Read(); reader.Skip(); }
            }
            return null;
        }
        catch (JsonException)
        {
            return Truncate(body);
        }
    }

    private static string Truncate(ReadOnlySpan<byte> body)
    {
        var s = Encoding.UTF8.GetString(body.Length > 500 ? body[..500] : body).Trim();
        return s.Length == 0 ? "empty error body" : s;
    }
}
