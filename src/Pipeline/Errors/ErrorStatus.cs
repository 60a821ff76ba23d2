namespace LLMux.Pipeline.Errors;

/// <summary>HTTP status and OpenAI error type for each <see cref="ErrorKind"/>, as LiteLLM maps them.</summary>
public static class ErrorStatus
{
    public static int For(ErrorKind kind, int? upstreamStatus = null) => kind switch
    {
        ErrorKind.InvalidRequest or ErrorKind.UnsupportedParam or ErrorKind.ContextWindowExceeded or ErrorKind.ContentPolicy => 400,
        ErrorKind.Auth => 401,
        ErrorKind.Permission => 403,
        ErrorKind.NotFound => 404,
        ErrorKind.MethodNotAllowed => 405,
        ErrorKind.Timeout => upstreamStatus == 504 ? 504 : 408,
        ErrorKind.PayloadTooLarge => 413,
        ErrorKind.Unprocessable => 422,
        ErrorKind.RateLimit => 429,
        ErrorKind.ServerError or ErrorKind.Connection => 500,
        ErrorKind.BadGateway => 502,
        ErrorKind.Unavailable => 503,
        _ => upstreamStatus is >= 400 and <= 599 ? upstreamStatus.Value : 500,
    };

    public static string TypeFor(ErrorKind kind) => kind switch
    {
        ErrorKind.InvalidRequest or ErrorKind.PayloadTooLarge or ErrorKind.Unprocessable or ErrorKind.MethodNotAllowed => "invalid_request_error",
        ErrorKind.UnsupportedParam => "invalid_request_error",
        ErrorKind.ContextWindowExceeded => "invalid_request_error",
        ErrorKind.ContentPolicy => "invalid_request_error",
        ErrorKind.Auth => "authentication_error",
        ErrorKind.Permission => "permission_error",
        ErrorKind.NotFound => "not_found_error",
        ErrorKind.Timeout => "timeout_error",
        ErrorKind.RateLimit => "rate_limit_error",
        ErrorKind.ServerError => "server_error",
        ErrorKind.Connection => "api_connection_error",
        ErrorKind.BadGateway => "bad_gateway_error",
        ErrorKind.Unavailable => "service_unavailable_error",
        _ => "api_error",
    };

    /// <summary>The taxonomy kind for a bare upstream HTTP status (LiteLLM's status table for OpenAI-compatible providers).</summary>
    public static ErrorKind KindForStatus(int status) => status switch
    {
        400 or 413 or 422 => ErrorKind.InvalidRequest,
        401 => ErrorKind.Auth,
        403 => ErrorKind.Permission,
        404 => ErrorKind.NotFound,
        408 or 504 => ErrorKind.Timeout,
        429 => ErrorKind.RateLimit,
        500 => ErrorKind.ServerError,
        502 => ErrorKind.BadGateway,
        503 => ErrorKind.Unavailable,
        529 => ErrorKind.Unavailable,
        _ => ErrorKind.Other,
    };
}
