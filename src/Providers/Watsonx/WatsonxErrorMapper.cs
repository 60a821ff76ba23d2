using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Errors;
using LLMux.Providers.Common;
using LLMux.Providers.OpenAI;

namespace LLMux.Providers.Watsonx;

/// <summary>
/// IBM's error body (<c>{"errors":[{"code","message"}],"trace","status_code"}</c>) into the taxonomy: the HTTP status
/// as OpenAI-compatible errors are classified, refined by IBM's codes (<c>token_quota_reached</c> is a rate limit,
/// <c>authentication_token_expired</c> an auth error) and by the message for a too-long prompt.
/// </summary>
internal static class WatsonxErrorMapper
{
    public static LlmError FromHttp(int status, ReadOnlySpan<byte> body, HttpResponseHeaders? headers)
    {
        var baseline = OpenAIErrorMapper.Map(WatsonxSpec.Name, status, body, headers);
        var (code, message, trace) = Read(body);
        if (message is null && code is null) return baseline;
        var text = message ?? code!;
        var kind = Classify(code, text, baseline.Kind);
        return baseline with
        {
            Kind = kind,
            Message = $"{WatsonxSpec.Name}: {text}{(code is null ? "" : " (" + code + ")")}{Hint(kind)}",
            Code = code ?? baseline.Code,
            UpstreamRequestId = baseline.UpstreamRequestId ?? trace,
        };
    }

    /// <summary>An <c>event: error</c> inside a stream.</summary>
    public static LlmError FromStream(byte[] data)
    {
        var (code, message, trace) = Read(data);
        var status = StatusOf(data);
        var text = message ?? code ?? "stream error";
        var fallback = status is >= 400 and < 500 ? ErrorKind.InvalidRequest : ErrorKind.ServerError;
        var kind = Classify(code, text, status == 429 ? ErrorKind.RateLimit : fallback);
        return new LlmError { Kind = kind, Message = $"{WatsonxSpec.Name}: {text}{(code is null ? "" : " (" + code + ")")}{Hint(kind)}", Code = code, Provider = WatsonxSpec.Name, UpstreamStatus = status, UpstreamRequestId = trace };
    }

    private static ErrorKind Classify(string? code, string text, ErrorKind fallback)
    {
        if (ErrorHeuristics.IsContextWindowExceeded(text) || text.Contains("maximum sequence length", StringComparison.OrdinalIgnoreCase)) return ErrorKind.ContextWindowExceeded;
        return code switch
        {
            "token_quota_reached" or "rate_limit_exceeded" => ErrorKind.RateLimit,
            "authentication_token_expired" or "authentication_token_not_valid" or "authorization_token_not_valid" => ErrorKind.Auth,
            "authorization_rejected" or "forbidden" => ErrorKind.Permission,
            "model_not_supported" or "model_not_found" or "deployment_not_found" or "project_not_found" => ErrorKind.NotFound,
            _ => fallback,
        };
    }

    private static string Hint(ErrorKind kind) => kind switch
    {
        ErrorKind.Auth => " (IBM refused the token: check this deployment's api_key / token and that it belongs to the instance at api_base)",
        ErrorKind.Permission => " (the key is valid but has no access to this project or space: check project_id / space_id and the key's service access)",
        ErrorKind.NotFound => " (check the model id, deployment id, project_id / space_id, and that api_base is the instance's region)",
        ErrorKind.ContextWindowExceeded => " (shorten the prompt or lower max_tokens: the model's context window is exceeded)",
        _ => "",
    };

    private static (string? Code, string? Message, string? Trace) Read(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty) return (null, null, null);
        try
        {
            var error = JsonSerializer.Deserialize(body, WatsonxJson.Default.WatsonxErrorBody);
            var first = error?.Errors is { Count: > 0 } list ? list[0] : null;
            return (first?.Code, first?.Message, error?.Trace);
        }
        catch (JsonException)
        {
            var s = Encoding.UTF8.GetString(body.Length > 300 ? body[..300] : body).Trim();
            return (null, s.Length == 0 ? null : s, null);
        }
    }

    private static int? StatusOf(byte[] data)
    {
        try
        {
            return JsonSerializer.Deserialize(data, WatsonxJson.Default.WatsonxErrorBody)?.StatusCode;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
