using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Errors;
using LLMux.Providers.Common;
using LLMux.Providers.OpenAI;

namespace LLMux.Providers.Snowflake;

/// <summary>
/// Snowflake's REST errors (<c>{"code","message","request_id"}</c>) into the taxonomy: the HTTP status as
/// OpenAI-compatible errors are classified (Cortex's 429 is its usage quota), refined by the message for a
/// too-long prompt, with a hint that names the setting to check.
/// </summary>
internal static class SnowflakeErrorMapper
{
    public static LlmError FromHttp(int status, ReadOnlySpan<byte> body, HttpResponseHeaders? headers)
    {
        var baseline = OpenAIErrorMapper.Map(SnowflakeSpec.Name, status, body, headers);
        var (code, message, requestId) = Read(body);
        if (message is null) return baseline;
        var kind = ErrorHeuristics.IsContextWindowExceeded(message) || message.Contains("max tokens", StringComparison.OrdinalIgnoreCase) && status == 400
            ? ErrorKind.ContextWindowExceeded : baseline.Kind;
        return baseline with
        {
            Kind = kind,
            Message = $"{SnowflakeSpec.Name}: {message}{(code is null ? "" : " (" + code + ")")}{Hint(kind)}",
            Code = code ?? baseline.Code,
            UpstreamRequestId = requestId ?? baseline.UpstreamRequestId,
        };
    }

    public static LlmError FromStream(byte[] data)
    {
        var (code, message, requestId) = Read(data);
        return new LlmError { Kind = ErrorKind.ServerError, Provider = SnowflakeSpec.Name, Message = $"{SnowflakeSpec.Name}: {message ?? "stream error"}", Code = code, UpstreamRequestId = requestId };
    }

    private static string Hint(ErrorKind kind) => kind switch
    {
        ErrorKind.Auth => " (Snowflake refused the token: check the JWT or `pat/` token in api_key, or snowflake_user, snowflake_private_key and account_id, and that the user's RSA_PUBLIC_KEY matches)",
        ErrorKind.Permission => " (the user's role needs the SNOWFLAKE.CORTEX_USER database role, and the model must be allowed in the account's region)",
        ErrorKind.NotFound => " (check the model name and that Cortex serves it in the account's region)",
        ErrorKind.RateLimit => " (Cortex's per-account usage quota is exhausted: retry later)",
        ErrorKind.ContextWindowExceeded => " (shorten the prompt or lower max_tokens: the model's context window is exceeded)",
        _ => "",
    };

    private static (string? Code, string? Message, string? RequestId) Read(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty) return (null, null, null);
        try
        {
            var error = JsonSerializer.Deserialize(body, SnowflakeJson.Default.CortexErrorBody);
            var code = error?.Code.ValueKind switch
            {
                JsonValueKind.String => error.Code.GetString(),
                JsonValueKind.Number => error.Code.GetRawText(),
                _ => null,
            };
            return (code, error?.Message, error?.RequestId);
        }
        catch (JsonException)
        {
            var s = Encoding.UTF8.GetString(body.Length > 300 ? body[..300] : body).Trim();
            return (null, s.Length == 0 ? null : s, null);
        }
    }
}
