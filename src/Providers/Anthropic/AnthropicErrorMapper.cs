using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Errors;
using LLMux.Providers.Common;

namespace LLMux.Providers.Anthropic;

/// <summary>
/// Maps Anthropic errors (<c>{"type":"error","error":{"type","message"},"request_id"}</c>, as an HTTP answer or
/// an <c>error</c> stream event) into the taxonomy, in LiteLLM's order: context-window text, overloaded,
/// invalid key, content policy, then the error type and status.
/// </summary>
internal static class AnthropicErrorMapper
{
    private const string Provider = "anthropic";

    public static LlmError Map(int status, ReadOnlySpan<byte> body, HttpResponseHeaders? headers)
    {
        var (type, message, requestId) = ReadBody(body);
        message ??= status == 0 ? "upstream error event" : $"upstream answered HTTP {status}";
        var kind = Classify(status, type, message);
        return new LlmError
        {
            Kind = kind,
            Message = $"{Provider}: {message}{Hint(kind)}",
            Code = type,
            Provider = Provider,
            UpstreamStatus = status == 0 ? null : status,
            UpstreamRequestId = (headers is null ? null : UpstreamHeaders.RequestId(headers)) ?? requestId,
            RetryAfter = headers is null ? null : UpstreamHeaders.RetryAfter(headers),
            StatusOverride = kind == ErrorKind.Other ? status : null,
        };
    }

    /// <summary><paramref name="status"/> is 0 for an error event inside a stream (the HTTP answer was 200).</summary>
    internal static ErrorKind Classify(int status, string? type, string message)
    {
        if (message.Contains("prompt is too long", StringComparison.OrdinalIgnoreCase) || message.Contains("prompt: length", StringComparison.OrdinalIgnoreCase))
            return ErrorKind.ContextWindowExceeded;
        // Overloaded (HTTP 529) is temporary: 503 tells clients and routers to retry (LiteLLM says 500).
        if (type == "overloaded_error" || status == 529 || message.Contains("Overloaded", StringComparison.Ordinal)) return ErrorKind.Unavailable;
        if (message.Contains("Invalid API Key", StringComparison.OrdinalIgnoreCase)) return ErrorKind.Auth;
        if (ErrorHeuristics.IsContentPolicy(message)) return ErrorKind.ContentPolicy;
        switch (type)
        {
            case "invalid_request_error":
            case "request_too_large":
                return ErrorKind.InvalidRequest;
            case "authentication_error": return ErrorKind.Auth;
            case "permission_error": return ErrorKind.Permission;
            case "not_found_error": return ErrorKind.NotFound;
            case "rate_limit_error": return ErrorKind.RateLimit;
            case "api_error": return ErrorKind.ServerError;
            case "timeout_error": return ErrorKind.Timeout;
        }
        if (status == 0) return ErrorKind.ServerError;
        if (status == 413) return ErrorKind.InvalidRequest;
        return ErrorStatus.KindForStatus(status);
    }

    private static string Hint(ErrorKind kind) => kind switch
    {
        ErrorKind.Auth => " (Anthropic rejected the key: check this deployment's api_key or ANTHROPIC_API_KEY)",
        ErrorKind.Permission => " (the key is valid but may not use this model or feature: check the workspace's model access)",
        ErrorKind.RateLimit => " (rate limited by Anthropic: retry after the Retry-After delay, or add deployments to the model group)",
        ErrorKind.Unavailable => " (Anthropic is overloaded: retry later or fall back to another deployment)",
        ErrorKind.ContextWindowExceeded => " (shorten the prompt or choose a model with a larger context window)",
        ErrorKind.NotFound => " (check the model id after `anthropic/` in litellm_params.model)",
        _ => "",
    };

    /// <summary>Reads error.type, error.message and request_id without trusting the body's shape.</summary>
    internal static (string? Type, string? Message, string? RequestId) ReadBody(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty) return (null, null, null);
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return (null, Truncate(body), null);
            string? type = null, message = null, requestId = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("error"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        if (reader.ValueTextEquals("type"u8)) type = ReadText(ref reader);
                        else if (reader.ValueTextEquals("message"u8)) message = ReadText(ref reader);
                        else { reader.Read(); reader.Skip(); }
                    }
                }
                else if (reader.ValueTextEquals("request_id"u8)) requestId = ReadText(ref reader);
                else { reader.Read(); reader.Skip(); }
            }
            return (type, message, requestId);
        }
        catch (JsonException)
        {
            return (null, Truncate(body), null);
        }
    }

    private static string? ReadText(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String) return reader.GetString();
        reader.Skip();
        return null;
    }

    private static string Truncate(ReadOnlySpan<byte> body)
    {
        var s = Encoding.UTF8.GetString(body.Length > 500 ? body[..500] : body).Trim();
        return s.Length == 0 ? "empty error body" : s;
    }
}
