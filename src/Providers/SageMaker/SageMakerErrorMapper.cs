using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Errors;
using LLMux.Providers.Bedrock;
using LLMux.Providers.Common;

namespace LLMux.Providers.SageMaker;

/// <summary>
/// SageMaker Runtime errors into the taxonomy. AWS's own errors (<c>x-amzn-ErrorType</c> and <c>{"message"}</c>) are
/// classified as every AWS runtime's are; a <c>ModelError</c> (HTTP 424: the container answered with an error) is
/// classified by the container's own status and message (<c>OriginalStatusCode</c>, <c>OriginalMessage</c>), so a
/// container's 400 for a too-long prompt is a context-window error, not a gateway fault.
/// </summary>
internal static class SageMakerErrorMapper
{
    private const string Provider = SageMakerSpec.Name;

    public static LlmError FromHttp(int status, ReadOnlySpan<byte> body, HttpResponseHeaders? headers)
    {
        var type = headers is null ? null : BedrockErrorMapper.ErrorType(headers);
        var (message, originalStatus, originalMessage) = Read(body);
        message ??= $"upstream answered HTTP {status}";
        ErrorKind kind;
        if (originalStatus is { } inner && inner is >= 400 and < 600)
        {
            var text = originalMessage ?? message;
            kind = ErrorHeuristics.IsContextWindowExceeded(text) ? ErrorKind.ContextWindowExceeded : BedrockErrorMapper.Classify(inner, null, text);
        }
        else kind = ErrorHeuristics.IsContextWindowExceeded(message) ? ErrorKind.ContextWindowExceeded : BedrockErrorMapper.Classify(status, type, message);
        return new LlmError
        {
            Kind = kind,
            Message = $"{Provider}: {originalMessage ?? message}{(type is null ? "" : " (" + type + ")")}{Hint(kind)}",
            Code = type,
            Provider = Provider,
            UpstreamStatus = status,
            UpstreamRequestId = headers is null ? null : UpstreamHeaders.RequestId(headers),
            RetryAfter = headers is null ? null : UpstreamHeaders.RetryAfter(headers),
        };
    }

    /// <summary>An exception inside the response stream (<c>ModelStreamError</c>, <c>InternalStreamFailure</c>).</summary>
    public static LlmError FromStreamException(string type, ReadOnlySpan<byte> payload)
    {
        var (message, _, original) = Read(payload);
        var text = original ?? message ?? type;
        var kind = type.Equals("InternalStreamFailure", StringComparison.OrdinalIgnoreCase) ? ErrorKind.ServerError
            : ErrorHeuristics.IsContextWindowExceeded(text) ? ErrorKind.ContextWindowExceeded : ErrorKind.BadGateway;
        return new LlmError { Kind = kind, Message = $"{Provider}: {text} ({type})", Code = type, Provider = Provider };
    }

    private static string Hint(ErrorKind kind) => kind switch
    {
        ErrorKind.Auth => " (AWS rejected the credentials: check aws_access_key_id, aws_secret_access_key and aws_session_token for this deployment)",
        ErrorKind.Permission => " (the credentials are valid but not allowed to do this: grant sagemaker:InvokeEndpoint on the endpoint)",
        ErrorKind.NotFound => " (check the endpoint name and aws_region_name: the endpoint must exist and be InService in that region)",
        ErrorKind.RateLimit => " (throttled by SageMaker or the endpoint is not ready: retry later or add instances)",
        ErrorKind.ContextWindowExceeded => " (shorten the prompt or lower max_tokens: the container's context window is exceeded)",
        _ => "",
    };

    /// <summary><c>message</c>/<c>Message</c>, and a ModelError's <c>OriginalStatusCode</c> and <c>OriginalMessage</c>, without trusting the shape.</summary>
    private static (string? Message, int? OriginalStatus, string? OriginalMessage) Read(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty) return (null, null, null);
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return (Text(body), null, null);
            string? message = null, original = null;
            int? status = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                reader.Read();
                switch (name)
                {
                    case "message" or "Message" when reader.TokenType == JsonTokenType.String: message = reader.GetString(); break;
                    case "OriginalMessage" when reader.TokenType == JsonTokenType.String: original = reader.GetString(); break;
                    case "OriginalStatusCode" when reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var s): status = s; break;
                    default: reader.Skip(); break;
                }
            }
            return (message, status, original);
        }
        catch (JsonException)
        {
            return (Text(body), null, null);
        }
    }

    private static string Text(ReadOnlySpan<byte> body)
    {
        var s = Encoding.UTF8.GetString(body.Length > 500 ? body[..500] : body).Trim();
        return s.Length == 0 ? "empty error body" : s;
    }
}
