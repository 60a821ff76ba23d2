using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Errors;
using LLMux.Providers.Common;

namespace LLMux.Providers.Bedrock;

/// <summary>
/// Maps Bedrock errors into the taxonomy: HTTP answers (<c>{"message"}</c> plus the <c>x-amzn-ErrorType</c>
/// header) and ConverseStream exception messages (<c>:exception-type</c> plus a JSON payload). LiteLLM's text
/// checks come first (context window, credentials), then the AWS error type, then the status.
/// </summary>
internal static class BedrockErrorMapper
{
    private const string Provider = "bedrock";

    /// <summary>LiteLLM's Bedrock context-window phrases.</summary>
    private static readonly string[] ContextWindowMarkers =
    [
        "too many tokens", "expected maxLength:", "input is too long", "prompt is too long", "prompt: length: 1..",
        "too many input tokens", "model_context_window_exceeded", "exceeds the context window",
    ];

    private static readonly string[] BadCredentialMarkers =
    [
        "the security token included in the request is invalid", "the security token included in the request is expired",
        "the request signature we calculated does not match", "unable to locate credentials",
    ];

    public static LlmError FromHttp(int status, ReadOnlySpan<byte> body, HttpResponseHeaders? headers)
    {
        var message = ReadMessage(body) ?? $"upstream answered HTTP {status}";
        var type = headers is null ? null : ErrorType(headers);
        return Build(status, type, message, headers is null ? null : UpstreamHeaders.RequestId(headers), headers is null ? null : UpstreamHeaders.RetryAfter(headers));
    }

    /// <summary>An exception message inside a ConverseStream (<c>:message-type exception</c>).</summary>
    public static LlmError FromStreamException(string exceptionType, ReadOnlySpan<byte> payload)
    {
        var message = ReadMessage(payload) ?? exceptionType;
        return Build(0, exceptionType, message, null, null);
    }

    private static LlmError Build(int status, string? type, string message, string? requestId, TimeSpan? retryAfter)
    {
        var kind = Classify(status, type, message);
        var typeName = type is null ? "" : " (" + Capitalised(type) + ")";
        return new LlmError
        {
            Kind = kind,
            Message = $"{Provider}: {message}{typeName}{Hint(kind)}",
            Code = type is null ? null : Capitalised(type),
            Provider = Provider,
            UpstreamStatus = status == 0 ? null : status,
            UpstreamRequestId = requestId,
            RetryAfter = retryAfter,
        };
    }

    internal static ErrorKind Classify(int status, string? type, string message)
    {
        // AWS throttles with "Too many tokens, please wait…": the type wins over LiteLLM's context-window phrase.
        if (type is not null && (type.Equals("ThrottlingException", StringComparison.OrdinalIgnoreCase) || status == 429)) return ErrorKind.RateLimit;
        foreach (var m in ContextWindowMarkers)
            if (message.Contains(m, StringComparison.OrdinalIgnoreCase)) return ErrorKind.ContextWindowExceeded;
        foreach (var m in BadCredentialMarkers)
            if (message.Contains(m, StringComparison.OrdinalIgnoreCase)) return ErrorKind.Auth;

        // AWS error types, whether from the header (ThrottlingException) or a stream (throttlingException).
        switch (type?.ToLowerInvariant())
        {
            case "throttlingexception" or "modelnotreadyexception" or "toomanyrequestsexception": return ErrorKind.RateLimit;
            case "accessdeniedexception": return ErrorKind.Permission;
            case "unrecognizedclientexception" or "invalidsignatureexception" or "expiredtokenexception" or "missingauthenticationtokenexception" or "incompletesignatureexception": return ErrorKind.Auth;
            case "validationexception": return ErrorHeuristics.IsContentPolicy(message) ? ErrorKind.ContentPolicy : ErrorKind.InvalidRequest;
            case "resourcenotfoundexception": return ErrorKind.NotFound;
            case "modeltimeoutexception": return ErrorKind.Timeout;
            case "serviceunavailableexception": return ErrorKind.Unavailable;
            // LiteLLM answers an AWS 500 with its ServiceUnavailableError.
            case "internalserverexception": return ErrorKind.Unavailable;
            case "modelerrorexception" or "modelstreamerrorexception": return ErrorKind.ServerError;
            case "servicequotaexceededexception": return ErrorKind.RateLimit;
        }
        if (message.Contains("throttlingexception", StringComparison.OrdinalIgnoreCase)) return ErrorKind.RateLimit;
        if (message.Contains("accessdeniedexception", StringComparison.OrdinalIgnoreCase)) return ErrorKind.Permission;
        return status switch
        {
            0 => ErrorKind.ServerError,
            400 or 422 => ErrorKind.InvalidRequest,
            401 => ErrorKind.Auth,
            403 => ErrorKind.Permission,
            404 => ErrorKind.NotFound,
            408 or 504 => ErrorKind.Timeout,
            429 => ErrorKind.RateLimit,
            500 or 503 => ErrorKind.Unavailable,
            424 => ErrorKind.ServerError,
            _ => ErrorStatus.KindForStatus(status),
        };
    }

    private static string Hint(ErrorKind kind) => kind switch
    {
        ErrorKind.Auth => " (AWS rejected the credentials: check aws_access_key_id, aws_secret_access_key and aws_session_token for this deployment)",
        ErrorKind.Permission => " (the credentials are valid but not allowed to do this: grant bedrock:InvokeModel on this model and enable model access in the region)",
        ErrorKind.RateLimit => " (throttled by Bedrock: retry later, raise the account quota, or add deployments to the model group)",
        ErrorKind.ContextWindowExceeded => " (shorten the prompt or choose a model with a larger context window)",
        ErrorKind.NotFound => " (check the model id and region: the model must be available in aws_region_name)",
        _ => "",
    };

    /// <summary><c>x-amzn-ErrorType: ThrottlingException:http://internal.amazon.com/...</c> → <c>ThrottlingException</c>.</summary>
    internal static string? ErrorType(HttpResponseHeaders headers)
    {
        if (!headers.TryGetValues("x-amzn-ErrorType", out var values)) return null;
        foreach (var v in values)
        {
            var colon = v.IndexOf(':');
            return colon >= 0 ? v[..colon] : v;
        }
        return null;
    }

    private static string Capitalised(string type) =>
        type.Length > 0 && char.IsLower(type[0]) ? string.Concat(char.ToUpperInvariant(type[0]).ToString(), type.AsSpan(1)) : type;

    /// <summary>Reads <c>message</c> / <c>Message</c> from an AWS error body without trusting its shape.</summary>
    internal static string? ReadMessage(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty) return null;
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return Truncate(body);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isMessage = reader.ValueTextEquals("message"u8) || reader.ValueTextEquals("Message"u8);
                reader.Read();
                if (isMessage && reader.TokenType == JsonTokenType.String) return reader.GetString();
                reader.Skip();
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
