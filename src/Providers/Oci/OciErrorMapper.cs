using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Errors;
using LLMux.Providers.Common;

namespace LLMux.Providers.Oci;

/// <summary>
/// OCI's error answers (<c>{"code","message"}</c> with <c>opc-request-id</c>) into the taxonomy: the status decides, as
/// LiteLLM's OCIError does, and the code (<c>NotAuthenticated</c>, <c>NotAuthorizedOrNotFound</c>,
/// <c>TooManyRequests</c>, ...) is kept and explained.
/// </summary>
internal static class OciErrorMapper
{
    public static LlmError Map(int status, ReadOnlySpan<byte> body, HttpResponseHeaders? headers)
    {
        string? code = null, message = null;
        try
        {
            if (!body.IsEmpty && JsonSerializer.Deserialize(body, OciJson.Default.OciErrorBody) is { } e)
            {
                code = e.Code;
                message = e.Message;
            }
        }
        catch (JsonException)
        {
            message = Encoding.UTF8.GetString(body.Length > 500 ? body[..500] : body).Trim();
        }
        message = string.IsNullOrEmpty(message) ? $"upstream answered HTTP {status}" : message;
        var kind = ErrorHeuristics.IsContextWindowExceeded(message) ? ErrorKind.ContextWindowExceeded : status switch
        {
            400 => ErrorKind.InvalidRequest,
            401 => ErrorKind.Auth,
            403 => ErrorKind.Permission,
            404 => ErrorKind.NotFound,
            408 or 504 => ErrorKind.Timeout,
            409 or 412 or 422 => ErrorKind.InvalidRequest,
            429 => ErrorKind.RateLimit,
            503 => ErrorKind.Unavailable,
            _ when status >= 500 => ErrorKind.ServerError,
            _ => ErrorKind.BadGateway,
        };
        return new LlmError
        {
            Kind = kind,
            Message = $"{OciSpec.Name}: {message}{(code is null ? "" : " (" + code + ")")}{Hint(kind)}",
            Code = kind == ErrorKind.ContextWindowExceeded ? "context_length_exceeded" : code,
            Provider = OciSpec.Name,
            UpstreamStatus = status,
            UpstreamRequestId = headers is null ? null : UpstreamHeaders.RequestId(headers),
            RetryAfter = headers is null ? null : UpstreamHeaders.RetryAfter(headers),
        };
    }

    private static string Hint(ErrorKind kind) => kind switch
    {
        ErrorKind.Auth => " (OCI did not accept the signature: check oci_tenancy, oci_user, oci_fingerprint and that oci_key is the private key of that fingerprint)",
        ErrorKind.NotFound => " (check the model id, oci_region and oci_compartment_id: the model must be offered in that region and the user allowed in that compartment)",
        ErrorKind.RateLimit => " (OCI throttled the request: retry later or ask for a higher limit)",
        _ => "",
    };
}
