using System.Buffers;
using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;
using LLMux.Pipeline.Streaming.Decoders;
using LLMux.Pipeline.Wire;
using LLMux.Providers.Common;

namespace LLMux.Providers.Cohere;

/// <summary>
/// Cohere v2 chat SSE (<c>message-start</c>, <c>content-delta</c>, <c>tool-call-start/delta/end</c>, <c>message-end</c>)
/// → OpenAI chunks. finish_reason and usage come with <c>message-end</c>; a stream that ends without it is an error.
/// </summary>
internal sealed class CohereStreamTranslator(LlmContext context) : SseStreamTranslator
{
    private readonly OpenAIChunkWriter _writer = new(
        "chatcmpl-" + Guid.NewGuid().ToString("N"),
        context.Deployment!.UpstreamModel,
        context.TimeProvider.GetUtcNow().ToUnixTimeSeconds(),
        includeUsage: context.Chat!.IncludeUsage,
        context);

    private bool _ended;
    private int _toolIndex = -1;

    /// <summary>What one event carries, gathered in a single pass over its JSON.</summary>
    private struct Delta
    {
        public string? Type;
        public string? Text;
        public bool HasToolCall;
        public string? ToolId;
        public string? ToolName;
        public string? ToolArguments;
        public string? FinishReason;
        public long InputTokens;
        public long OutputTokens;
        public string? ErrorMessage;
    }

    protected override void OnEvent(in SseFrame frame, IBufferWriter<byte> output)
    {
        if (_ended || frame.Data.IsEmpty || frame.DataIs("[DONE]"u8)) return;
        var reader = new Utf8JsonReader(frame.Data);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("cohere stream event is not a JSON object");
        var d = new Delta();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8)) { reader.Read(); d.Type = reader.TokenType == JsonTokenType.String ? reader.GetString() : null; }
            else if (reader.ValueTextEquals("delta"u8)) { reader.Read(); ReadDelta(ref reader, ref d); }
            else if (reader.ValueTextEquals("message"u8)) { reader.Read(); d.ErrorMessage = reader.TokenType == JsonTokenType.String ? reader.GetString() : null; if (reader.TokenType != JsonTokenType.String) reader.Skip(); }
            else { reader.Read(); reader.Skip(); }
        }
        var type = d.Type;
        if (type is null && !frame.EventType.IsEmpty) type = System.Text.Encoding.UTF8.GetString(frame.EventType.ToArray());
        switch (type)
        {
            case "content-delta":
                if (d.Text is { Length: > 0 } text) { _writer.Text(output, text); ContentStarted = true; }
                break;
            case "tool-call-start":
                _toolIndex = _writer.ToolCallStart(output, d.ToolId, d.ToolName ?? "", d.ToolArguments);
                ContentStarted = true;
                break;
            case "tool-call-delta":
                if (_toolIndex >= 0 && d.ToolArguments is { Length: > 0 } args) _writer.ToolCallArguments(output, _toolIndex, args);
                break;
            case "message-end":
                _ended = true;
                _writer.Finish(output, CohereFinishReasons.ToOpenAI(d.FinishReason));
                var usage = new Usage { PromptTokens = d.InputTokens, CompletionTokens = d.OutputTokens, TotalTokens = d.InputTokens + d.OutputTokens };
                context.Usage = usage;
                _writer.Usage(output, usage);
                OpenAIChunkWriter.Done(output);
                ContentStarted = true;
                break;
            case "error":
                throw new LlmError { Kind = ErrorKind.ServerError, Provider = CohereSpec.Spec.Name, Message = "cohere: " + (d.ErrorMessage ?? "stream error") }.ToException();
            default:
                break; // message-start, tool-plan-delta, citations, tool-call-end, content-start/end: nothing for an OpenAI client
        }
    }

    private static void ReadDelta(ref Utf8JsonReader reader, ref Delta d)
    {
        if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); return; }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("message"u8)) { reader.Read(); ReadMessage(ref reader, ref d); }
            else if (reader.ValueTextEquals("finish_reason"u8)) { reader.Read(); d.FinishReason = reader.TokenType == JsonTokenType.String ? reader.GetString() : null; }
            else if (reader.ValueTextEquals("usage"u8)) { reader.Read(); ReadUsage(ref reader, ref d); }
            else if (reader.ValueTextEquals("error"u8)) { reader.Read(); if (reader.TokenType == JsonTokenType.String) { d.ErrorMessage = reader.GetString(); d.Type = "error"; } else reader.Skip(); }
            else { reader.Read(); reader.Skip(); }
        }
    }

    private static void ReadMessage(ref Utf8JsonReader reader, ref Delta d)
    {
        if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); return; }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("content"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("text"u8)) { reader.Read(); d.Text = reader.TokenType == JsonTokenType.String ? reader.GetString() : null; }
                    else { reader.Read(); reader.Skip(); }
                }
            }
            else if (reader.ValueTextEquals("tool_calls"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                d.HasToolCall = true;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("id"u8)) { reader.Read(); d.ToolId = reader.TokenType == JsonTokenType.String ? reader.GetString() : null; }
                    else if (reader.ValueTextEquals("function"u8))
                    {
                        reader.Read();
                        if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                        {
                            if (reader.ValueTextEquals("name"u8)) { reader.Read(); d.ToolName = reader.TokenType == JsonTokenType.String ? reader.GetString() : null; }
                            else if (reader.ValueTextEquals("arguments"u8)) { reader.Read(); d.ToolArguments = reader.TokenType == JsonTokenType.String ? reader.GetString() : null; }
                            else { reader.Read(); reader.Skip(); }
                        }
                    }
                    else { reader.Read(); reader.Skip(); }
                }
            }
            else { reader.Read(); reader.Skip(); }
        }
    }

    private static void ReadUsage(ref Utf8JsonReader reader, ref Delta d)
    {
        if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); return; }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var tokens = reader.ValueTextEquals("tokens"u8);
            var billed = reader.ValueTextEquals("billed_units"u8);
            reader.Read();
            if ((!tokens && !billed) || reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
            // tokens wins over billed_units, whichever comes first.
            long input = -1, outputTokens = -1;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("input_tokens"u8)) { reader.Read(); if (reader.TokenType == JsonTokenType.Number) input = (long)reader.GetDouble(); }
                else if (reader.ValueTextEquals("output_tokens"u8)) { reader.Read(); if (reader.TokenType == JsonTokenType.Number) outputTokens = (long)reader.GetDouble(); }
                else { reader.Read(); reader.Skip(); }
            }
            if (tokens || (d.InputTokens == 0 && d.OutputTokens == 0))
            {
                if (input >= 0) d.InputTokens = input;
                if (outputTokens >= 0) d.OutputTokens = outputTokens;
            }
        }
    }

    protected override void OnEnd(IBufferWriter<byte> output)
    {
        if (_ended) return;
        throw new LlmError
        {
            Kind = ErrorKind.BadGateway,
            Provider = CohereSpec.Spec.Name,
            Message = "cohere stream ended before its message-end event; the answer is incomplete",
        }.ToException();
    }
}
