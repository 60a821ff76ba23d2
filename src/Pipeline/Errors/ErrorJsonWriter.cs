using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace LLMux.Pipeline.Errors;

/// <summary>Writes errors as OpenAI error JSON and as Anthropic error JSON.</summary>
public static class ErrorJsonWriter
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary><c>{"error":{"message","type","param","code"}}</c>: the four keys are always present.</summary>
    public static void WriteOpenAI(IBufferWriter<byte> output, LlmError error)
    {
        using var w = new Utf8JsonWriter(output, Options);
        WriteOpenAI(w, error);
    }

    public static void WriteOpenAI(Utf8JsonWriter w, LlmError error)
    {
        w.WriteStartObject();
        w.WriteStartObject("error");
        w.WriteString("message", error.Message);
        w.WriteString("type", error.Type);
        if (error.Param is null) w.WriteNull("param"); else w.WriteString("param", error.Param);
        w.WriteString("code", error.Code ?? error.HttpStatus.ToString(CultureInfo.InvariantCulture));
        if (error.Provider is not null) w.WriteString("provider", error.Provider);
        if (error.UpstreamStatus is { } s) w.WriteNumber("upstream_status", s);
        if (error.UpstreamRequestId is not null) w.WriteString("upstream_request_id", error.UpstreamRequestId);
        w.WriteEndObject();
        w.WriteEndObject();
        w.Flush();
    }

    /// <summary>Anthropic's shape: <c>{"type":"error","error":{"type","message"}}</c>.</summary>
    public static void WriteAnthropic(IBufferWriter<byte> output, LlmError error)
    {
        using var w = new Utf8JsonWriter(output, Options);
        w.WriteStartObject();
        w.WriteString("type", "error");
        w.WriteStartObject("error");
        w.WriteString("type", AnthropicType(error));
        w.WriteString("message", error.Message);
        w.WriteEndObject();
        w.WriteEndObject();
        w.Flush();
    }

    public static string AnthropicType(LlmError error) => error.HttpStatus switch
    {
        400 or 405 or 413 or 415 or 422 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        408 or 504 => "timeout_error",
        429 => "rate_limit_error",
        503 or 529 => "overloaded_error",
        _ => "api_error",
    };
}
