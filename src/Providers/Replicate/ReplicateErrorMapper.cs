using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Errors;
using LLMux.Providers.Common;

namespace LLMux.Providers.Replicate;

/// <summary>Replicate's problem answers (<c>{"title","detail","status"}</c>) into the taxonomy, by status as LiteLLM's ReplicateError.</summary>
internal static class ReplicateErrorMapper
{
    public static LlmError Map(int status, ReadOnlySpan<byte> body, HttpResponseHeaders? headers)
    {
        string? title = null, detail = null;
        try
        {
            if (!body.IsEmpty && JsonSerializer.Deserialize(body, ReplicateJson.Default.ReplicateProblem) is { } p) (title, detail) = (p.Title, p.Detail);
        }
        catch (JsonException)
        {
            detail = Encoding.UTF8.GetString(body.Length > 500 ? body[..500] : body).Trim();
        }
        var message = detail ?? title ?? $"upstream answered HTTP {status}";
        var kind = ErrorHeuristics.IsContextWindowExceeded(message) ? ErrorKind.ContextWindowExceeded : status switch
        {
            400 or 422 => ErrorKind.InvalidRequest,
            401 => ErrorKind.Auth,
            402 or 403 => ErrorKind.Permission,
            404 => ErrorKind.NotFound,
            408 or 504 => ErrorKind.Timeout,
            429 => ErrorKind.RateLimit,
            503 => ErrorKind.Unavailable,
            _ when status >= 500 => ErrorKind.ServerError,
            _ => ErrorKind.BadGateway,
        };
        var hint = kind switch
        {
            ErrorKind.Auth => " (check the deployment's api_key or REPLICATE_API_KEY: Replicate takes an r8_ API token)",
            ErrorKind.NotFound => " (check the model id: replicate/<owner>/<name>, replicate/<owner>/<name>:<version> or replicate/deployments/<owner>/<name>)",
            _ => "",
        };
        return new LlmError
        {
            Kind = kind,
            Message = $"{ReplicateSpec.Name}: {message}{(title is not null && detail is not null ? " (" + title + ")" : "")}{hint}",
            Provider = ReplicateSpec.Name,
            UpstreamStatus = status,
            UpstreamRequestId = headers is null ? null : UpstreamHeaders.RequestId(headers),
            RetryAfter = headers is null ? null : UpstreamHeaders.RetryAfter(headers),
        };
    }
}
