using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Errors;
using LLMux.Providers.Common;

namespace LLMux.Providers.OpenAI;

/// <summary>
/// Maps an OpenAI-style error answer (<c>{"error":{"message","type","param","code"}}</c>, or the looser shapes
/// compatible servers send) into the taxonomy, in LiteLLM's order: text heuristics first, then the status.
/// </summary>
public static class OpenAIErrorMapper
{
    public static LlmError Map(string provider, int status, ReadOnlySpan<byte> body, HttpResponseHeaders? headers)
    {
        var (message, type, param, code) = ReadBody(body);
        message ??= status == 0 ? "upstream error" : $"upstream answered HTTP {status}";
        var text = string.Concat(message, " ", type, " ", code);
        var kind = Classify(status, text, type, code);
        return new LlmError
        {
            Kind = kind,
            Message = $"{provider}: {message}{Hint(kind)}",
            Param = param,
            Code = code,
            Provider = provider,
            UpstreamStatus = status == 0 ? null : status,
            UpstreamRequestId = headers is null ? null : UpstreamHeaders.RequestId(headers),
            RetryAfter = headers is null ? null : UpstreamHeaders.RetryAfter(headers),
            StatusOverride = kind == ErrorKind.Other ? status : null,
        };
    }

    internal static ErrorKind Classify(int status, string text, string? type, string? code)
    {
        if (text.Contains("Request timed out", StringComparison.Ordinal) || text.Contains("Timed out generating response", StringComparison.Ordinal)) return ErrorKind.Timeout;
        if (status is 401 or 403 || text.Contains("Incorrect API key provided", StringComparison.Ordinal))
        {
            return status == 403 ? ErrorKind.Permission : ErrorKind.Auth;
        }
        if (status == 429 || (status is 0 or >= 400 && ErrorHeuristics.IsRateLimit(text))) return ErrorKind.RateLimit;
        if (status is 400 or 413 or 422 or 0 && ErrorHeuristics.IsContextWindowExceeded(text)) return ErrorKind.ContextWindowExceeded;
        if (code == "model_not_found" || (type == "invalid_request_error" && text.Contains("model_not_found", StringComparison.Ordinal))) return ErrorKind.NotFound;
        if (status is 400 or 0 && ErrorHeuristics.IsContentPolicy(text)) return ErrorKind.ContentPolicy;
        if (status == 0) return type == "invalid_request_error" ? ErrorKind.InvalidRequest : ErrorKind.ServerError;
        return ErrorStatus.KindForStatus(status);
    }

    private static string Hint(ErrorKind kind) => kind switch
    {
        ErrorKind.Auth => " (the upstream rejected the credentials: check this deployment's api_key)",
        ErrorKind.Permission => " (the credentials are valid but not allowed to do this: check the key's project, organisation or model access)",
        ErrorKind.RateLimit => " (rate limited upstream: retry after the Retry-After delay, or add deployments to the model group)",
        ErrorKind.ContextWindowExceeded => " (shorten the prompt or choose a model with a larger context window)",
        _ => "",
    };

    /// <summary>Reads message/type/param/code from the error body without trusting its shape.</summary>
    internal static (string? Message, string? Type, string? Param, string? Code) ReadBody(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty) return default;
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return (Truncate(body), null, null, null);
            string? message = null, type = null, param = null, code = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("error"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String) { message = reader.GetString(); continue; }
                    if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        if (reader.ValueTextEquals("message"u8)) message = ReadText(ref reader);
                        else if (reader.ValueTextEquals("type"u8)) type = ReadText(ref reader);
                        else if (reader.ValueTextEquals("param"u8)) param = ReadText(ref reader);
                        else if (reader.ValueTextEquals("code"u8)) code = ReadText(ref reader);
                        else { reader.Read(); reader.Skip(); }
                    }
                }
                else if (reader.ValueTextEquals("message"u8) || reader.ValueTextEquals("detail"u8))
                {
                    message ??= ReadText(ref reader);
                }
                else { reader.Read(); reader.Skip(); }
            }
            return (message, type, param, code);
        }
        catch (JsonException)
        {
            return (Truncate(body), null, null, null);
        }
    }

    private static string? ReadText(ref Utf8JsonReader reader)
    {
        reader.Read();
        switch (reader.TokenType)
        {
            case JsonTokenType.String: return reader.GetString();
            case JsonTokenType.Number: return Encoding.UTF8.GetString(reader.ValueSpan);
            case JsonTokenType.Null: return null;
            default:
                reader.Skip();
                return null;
        }
    }

    private static string Truncate(ReadOnlySpan<byte> body)
    {
        var s = Encoding.UTF8.GetString(body.Length > 500 ? body[..500] : body).Trim();
        return s.Length == 0 ? "empty error body" : s;
    }
}
