namespace LLMux.Pipeline.Errors;

/// <summary>The one error taxonomy every provider maps into (LiteLLM's exception classes).</summary>
public enum ErrorKind
{
    /// <summary>Malformed or semantically invalid request (400).</summary>
    InvalidRequest,
    /// <summary>An OpenAI parameter the provider cannot honour and drop_params is off (400).</summary>
    UnsupportedParam,
    /// <summary>The prompt does not fit the model's context window (400).</summary>
    ContextWindowExceeded,
    /// <summary>The provider refused the content (400).</summary>
    ContentPolicy,
    /// <summary>Missing or invalid credentials (401).</summary>
    Auth,
    /// <summary>Credentials valid but not allowed (403).</summary>
    Permission,
    /// <summary>Unknown model, route or resource (404).</summary>
    NotFound,
    /// <summary>Method not allowed on a route (405).</summary>
    MethodNotAllowed,
    /// <summary>The request or the upstream took too long (408, or 504 when the upstream said so).</summary>
    Timeout,
    /// <summary>Request body larger than the configured limit (413).</summary>
    PayloadTooLarge,
    /// <summary>Unprocessable entity (422).</summary>
    Unprocessable,
    /// <summary>Upstream or local rate limit (429).</summary>
    RateLimit,
    /// <summary>Upstream internal error (500).</summary>
    ServerError,
    /// <summary>Could not reach the upstream at all (500, LiteLLM's APIConnectionError).</summary>
    Connection,
    /// <summary>Upstream answered with something that is not a valid response (502).</summary>
    BadGateway,
    /// <summary>Upstream temporarily unavailable (503).</summary>
    Unavailable,
    /// <summary>Any other upstream status, passed through as is.</summary>
    Other,
}
