using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Errors;
using LLMux.Providers.Common;

namespace LLMux.Providers.Gemini;

/// <summary>
/// Google error bodies (<c>{"error":{"code","message","status"}}</c>, also wrapped in an array by the JSON-array
/// stream) → the taxonomy, in LiteLLM's order: message heuristics first, then the HTTP status.
/// </summary>
internal static class GeminiErrorMapper
{
    public static LlmError Map(string provider, int status, ReadOnlySpan<byte> body, HttpResponseHeaders? headers)
    {
        var (message, googleStatus, code) = ReadBody(body);
        if (status == 0 && code is >= 400 and <= 599) status = code.Value;
        if (status == 0) status = StatusFor(googleStatus);
        message ??= status == 0 ? "upstream error" : $"upstream answered HTTP {status}";
        var kind = Classify(status, message);
        return new LlmError
        {
            Kind = kind,
            Message = $"{provider}: {message}{Hint(kind, provider)}",
            Code = kind == ErrorKind.ContextWindowExceeded ? "context_length_exceeded" : googleStatus,
            Provider = provider,
            UpstreamStatus = status == 0 ? null : status,
            UpstreamRequestId = headers is null ? null : UpstreamHeaders.RequestId(headers),
            RetryAfter = headers is null ? null : UpstreamHeaders.RetryAfter(headers),
        };
    }

    internal static ErrorKind Classify(int status, string text)
    {
        if (text.Contains("Vertex AI API has not been used in project", StringComparison.Ordinal) || text.Contains("Unable to find your project", StringComparison.Ordinal)) return ErrorKind.InvalidRequest;
        if (text.Contains("400 Request payload size exceeds", StringComparison.Ordinal) || ErrorHeuristics.IsContextWindowExceeded(text)) return ErrorKind.ContextWindowExceeded;
        if (text.Contains("None Unknown Error.", StringComparison.Ordinal) || text.Contains("Content has no parts.", StringComparison.Ordinal)) return ErrorKind.ServerError;
        if (text.Contains("API key not valid.", StringComparison.Ordinal)) return ErrorKind.Auth;
        if (text.Contains("The response was blocked.", StringComparison.Ordinal) || text.Contains("Output blocked by content filtering policy", StringComparison.Ordinal)) return ErrorKind.ContentPolicy;
        if (text.Contains("429 Quota exceeded", StringComparison.Ordinal) || text.Contains("Quota exceeded for", StringComparison.Ordinal)
            || text.Contains("Resource exhausted", StringComparison.OrdinalIgnoreCase) || text.Contains("IndexError: list index out of range", StringComparison.Ordinal)
            || text.Contains("temporarily out of capacity", StringComparison.Ordinal)) return ErrorKind.RateLimit;
        if (text.Contains("500 Internal Server Error", StringComparison.Ordinal) || text.Contains("The model is overloaded.", StringComparison.Ordinal)) return ErrorKind.ServerError;
        return status switch
        {
            400 => ErrorKind.InvalidRequest,
            401 => ErrorKind.Auth,
            403 => ErrorKind.Permission,
            404 => ErrorKind.NotFound,
            408 or 504 => ErrorKind.Timeout,
            429 => ErrorKind.RateLimit,
            500 => ErrorKind.ServerError,
            503 => ErrorKind.Unavailable,
            _ => ErrorKind.Connection, // LiteLLM: 502 and anything unmapped are an APIConnectionError (500)
        };
    }

    /// <summary>HTTP status for a Google RPC status name (stream error events may carry only that).</summary>
    internal static int StatusFor(string? googleStatus) => googleStatus switch
    {
        "INVALID_ARGUMENT" or "FAILED_PRECONDITION" or "OUT_OF_RANGE" => 400,
        "UNAUTHENTICATED" => 401,
        "PERMISSION_DENIED" => 403,
        "NOT_FOUND" => 404,
        "RESOURCE_EXHAUSTED" => 429,
        "INTERNAL" or "UNKNOWN" => 500,
        "UNAVAILABLE" => 503,
        "DEADLINE_EXCEEDED" => 504,
        _ => 0,
    };

    private static string Hint(ErrorKind kind, string provider) => kind switch
    {
        ErrorKind.Auth => provider == GeminiSpec.VertexName
            ? " (Google rejected the credentials: check this deployment's vertex_credentials)"
            : " (Google rejected the API key: check this deployment's api_key or GEMINI_API_KEY)",
        ErrorKind.Permission => " (the credentials are valid but not allowed to do this: check the project, the enabled APIs and the model access)",
        ErrorKind.RateLimit => " (rate limited or out of quota upstream: retry after the Retry-After delay, or add deployments to the model group)",
        ErrorKind.ContextWindowExceeded => " (shorten the prompt or choose a model with a larger context window)",
        _ => "",
    };

    internal static (string? Message, string? Status, int? Code) ReadBody(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty) return default;
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read()) return default;
            if (reader.TokenType == JsonTokenType.StartArray && !reader.Read()) return default; // [{"error":...}]
            if (reader.TokenType != JsonTokenType.StartObject) return (Truncate(body), null, null);
            string? message = null, status = null;
            int? code = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (!reader.ValueTextEquals("error"u8)) { reader.Read(); reader.Skip(); continue; }
                reader.Read();
                if (reader.TokenType == JsonTokenType.String) { message = reader.GetString(); continue; }
                if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("message"u8)) { reader.Read(); message = reader.TokenType == JsonTokenType.String ? reader.GetString() : null; if (reader.TokenType is JsonTokenType.StartArray or JsonTokenType.StartObject) reader.Skip(); }
                    else if (reader.ValueTextEquals("status"u8)) { reader.Read(); status = reader.TokenType == JsonTokenType.String ? reader.GetString() : null; if (reader.TokenType is JsonTokenType.StartArray or JsonTokenType.StartObject) reader.Skip(); }
                    else if (reader.ValueTextEquals("code"u8)) { reader.Read(); code = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var c) ? c : null; if (reader.TokenType is JsonTokenType.StartArray or JsonTokenType.StartObject) reader.Skip(); }
                    else { reader.Read(); reader.Skip(); }
                }
            }
            return (message ?? Truncate(body), status, code);
        }
        catch (JsonException)
        {
            return (Truncate(body), null, null);
        }
    }

    private static string Truncate(ReadOnlySpan<byte> body)
    {
        var s = Encoding.UTF8.GetString(body.Length > 500 ? body[..500] : body).Trim();
        return s.Length == 0 ? "empty error body" : s;
    }
}
