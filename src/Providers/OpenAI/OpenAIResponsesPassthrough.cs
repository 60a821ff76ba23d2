using System.Buffers;
using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;
using LLMux.Pipeline.Streaming.Decoders;

namespace LLMux.Providers.OpenAI;

/// <summary>
/// A native Responses stream, forwarded frame by frame as <c>event: &lt;type&gt;\ndata: &lt;json&gt;\n\n</c>
/// (OpenAI's framing). Only the terminal events (<c>response.completed</c>, <c>.incomplete</c>, <c>.failed</c>)
/// are parsed, for their usage. An <c>error</c> event before anything else is an HTTP error; a stream that
/// ends before a terminal event is a broken stream, never a clean end.
/// </summary>
internal sealed class OpenAIResponsesPassthrough(LlmContext context, string provider) : SseStreamTranslator
{
    private bool _terminal;

    protected override void OnEvent(in SseFrame frame, IBufferWriter<byte> output)
    {
        var data = frame.Data;
        if (data.IsEmpty) return;
        if (frame.DataIs("[DONE]"u8)) return; // not OpenAI's, but some compatible servers add it
        var type = frame.EventType;
        var terminal = frame.EventTypeIs("response.completed"u8) || frame.EventTypeIs("response.incomplete"u8) || frame.EventTypeIs("response.failed"u8);
        if (type.IsEmpty || terminal || frame.EventTypeIs("error"u8)) Inspect(data, ref terminal);
        if (terminal) _terminal = true;

        output.Write("event: "u8);
        if (type.IsEmpty) output.Write(_lastType);
        else foreach (var segment in type) output.Write(segment.Span);
        output.Write("\ndata: "u8);
        foreach (var segment in data) output.Write(segment.Span);
        output.Write("\n\n"u8);
        ContentStarted = true;
    }

    private byte[] _lastType = [];

    /// <summary>Reads <c>type</c> (frames without an event line), usage from terminal events, and errors before the first event.</summary>
    private void Inspect(ReadOnlySequence<byte> data, ref bool terminal)
    {
        var reader = new Utf8JsonReader(data);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("stream frame is not a JSON object");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String) continue;
                _lastType = reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan.ToArray();
                terminal |= reader.ValueTextEquals("response.completed"u8) || reader.ValueTextEquals("response.incomplete"u8) || reader.ValueTextEquals("response.failed"u8);
                if (reader.ValueTextEquals("error"u8) && !ContentStarted)
                    throw OpenAIErrorMapper.Map(provider, 0, ErrorBody(data), null).ToException();
            }
            else if (reader.ValueTextEquals("response"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                if (ResponsesUsageReader.FindUsage(ref reader) is { } usage) context.Usage = usage;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    /// <summary>An error event in OpenAI's error JSON shape (<c>{"error":{...}}</c>), for the error mapper.</summary>
    private static byte[] ErrorBody(ReadOnlySequence<byte> data)
    {
        using var doc = JsonDocument.Parse(data);
        var root = doc.RootElement;
        var error = root.TryGetProperty("error", out var nested) && nested.ValueKind == JsonValueKind.Object ? nested : root;
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartObject("error");
            foreach (var name in (ReadOnlySpan<string>)["message", "type", "param", "code"])
            {
                if (error.TryGetProperty(name, out var v)) { w.WritePropertyName(name); v.WriteTo(w); }
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    protected override void OnEnd(IBufferWriter<byte> output)
    {
        if (_terminal) return;
        throw new LlmError
        {
            Kind = ErrorKind.BadGateway,
            Provider = provider,
            Message = $"{provider} Responses stream ended before response.completed; the response is incomplete",
        }.ToException();
    }
}
