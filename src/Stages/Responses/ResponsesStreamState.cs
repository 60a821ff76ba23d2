using System.Buffers;
using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;

namespace LLMux.Stages.Responses;

/// <summary>
/// What the endpoint needs from a bridged stream once the pump is done: the finished response (for the store),
/// and enough of the stream's position to write <c>error</c> + <c>response.failed</c> with the next
/// sequence numbers when the stream breaks after it began. One per request, shared by the attempts' translators.
/// </summary>
public sealed class ResponsesStreamState
{
    internal ResponsesStreamState(ResponseShape shape, Action<PooledBuffer, byte[]>? onFinished)
    {
        Shape = shape;
        _onFinished = onFinished;
    }

    private readonly Action<PooledBuffer, byte[]>? _onFinished;

    internal ResponseShape Shape { get; }
    internal int NextSequence { get; set; }
    internal string? Model { get; set; }
    /// <summary>Set once the terminal event is about to be written.</summary>
    internal BridgedResponse? Finished { get; set; }

    /// <summary>Runs before the terminal event is written, so that a stored response can be chained as soon as the client sees it end.</summary>
    internal void Finish(BridgedResponse finished)
    {
        Finished = finished;
        _onFinished?.Invoke(finished.Body, finished.OutputItems);
    }

    /// <summary>The frames that end a stream that failed after it began: an <c>error</c> event, then <c>response.failed</c>.</summary>
    public void WriteFailure(IBufferWriter<byte> output, LlmError error)
    {
        var code = FailureCode(error);
        using var w = new Utf8JsonWriter(output, JsonOut.Options);
        output.Write("event: error\ndata: "u8);
        w.WriteStartObject();
        w.WriteString("type"u8, "error"u8);
        w.WriteNumber("sequence_number"u8, NextSequence++);
        w.WriteString("code"u8, code);
        w.WriteString("message"u8, error.Message);
        if (error.Param is null) w.WriteNull("param"u8); else w.WriteString("param"u8, error.Param);
        w.WriteEndObject();
        w.Flush();
        output.Write("\n\nevent: response.failed\ndata: "u8);
        w.Reset(output);
        w.WriteStartObject();
        w.WriteString("type"u8, "response.failed"u8);
        w.WriteNumber("sequence_number"u8, NextSequence++);
        w.WriteStartObject("response"u8);
        Shape.WriteHead(w, "failed", Model, null, (code, error.Message));
        w.WriteStartArray("output"u8);
        w.WriteEndArray();
        Shape.WriteTail(w, null);
        w.WriteEndObject();
        w.WriteEndObject();
        w.Flush();
        output.Write("\n\n"u8);
    }

    /// <summary>The <c>response.error.code</c> values OpenAI uses (and Codex acts on).</summary>
    internal static string FailureCode(LlmError error) => error.Kind switch
    {
        ErrorKind.RateLimit => "rate_limit_exceeded",
        ErrorKind.ContextWindowExceeded => "context_length_exceeded",
        ErrorKind.ContentPolicy => "invalid_prompt",
        ErrorKind.InvalidRequest or ErrorKind.UnsupportedParam => error.Code ?? "invalid_prompt",
        _ => error.Code ?? "server_error",
    };
}
