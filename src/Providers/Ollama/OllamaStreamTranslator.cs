using System.Buffers;
using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;
using LLMux.Pipeline.Wire;
using LLMux.Providers.Common;

namespace LLMux.Providers.Ollama;

/// <summary>
/// Maps Ollama's NDJSON stream (<c>{"message":{...},"done":false}</c> lines, then one <c>"done":true</c> line with
/// token counts) onto OpenAI chunks. A stream that ends without its done line is an error, never a clean end.
/// </summary>
internal sealed class OllamaStreamTranslator(LlmContext context) : NdjsonStreamTranslator
{
    private readonly OpenAIChunkWriter _writer = new(
        "chatcmpl-" + Guid.NewGuid().ToString("N"),
        context.Deployment!.UpstreamModel,
        context.TimeProvider.GetUtcNow().ToUnixTimeSeconds(),
        includeUsage: context.Chat!.IncludeUsage,
        context);

    private bool _done;

    protected override void OnLine(ReadOnlySequence<byte> line, IBufferWriter<byte> output)
    {
        if (_done) return;
        var reader = new Utf8JsonReader(line);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("ollama stream line is not a JSON object");
        var done = false;
        string? doneReason = null;
        long prompt = 0, completion = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("message"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject) ReadMessage(ref reader, line, output);
                else reader.Skip();
            }
            else if (reader.ValueTextEquals("done"u8)) { reader.Read(); done = reader.TokenType == JsonTokenType.True; }
            else if (reader.ValueTextEquals("done_reason"u8)) { reader.Read(); doneReason = reader.TokenType == JsonTokenType.String ? reader.GetString() : null; }
            else if (reader.ValueTextEquals("prompt_eval_count"u8)) { reader.Read(); if (reader.TokenType == JsonTokenType.Number) prompt = reader.GetInt64(); }
            else if (reader.ValueTextEquals("eval_count"u8)) { reader.Read(); if (reader.TokenType == JsonTokenType.Number) completion = reader.GetInt64(); }
            else if (reader.ValueTextEquals("error"u8))
            {
                reader.Read();
                var message = reader.TokenType == JsonTokenType.String ? reader.GetString() : "stream error";
                throw new LlmError { Kind = ErrorKind.ServerError, Provider = OllamaChatSpec.Spec.Name, Message = "ollama_chat: " + message }.ToException();
            }
            else { reader.Read(); reader.Skip(); }
        }
        if (!done) return;
        _done = true;
        _writer.Finish(output, doneReason == "length" ? "length" : "stop");
        var usage = new Usage { PromptTokens = prompt, CompletionTokens = completion, TotalTokens = prompt + completion };
        context.Usage = usage;
        _writer.Usage(output, usage);
        OpenAIChunkWriter.Done(output);
        ContentStarted = true;
    }

    private void ReadMessage(ref Utf8JsonReader reader, ReadOnlySequence<byte> line, IBufferWriter<byte> output)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("content"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String && reader.GetString() is { Length: > 0 } text)
                {
                    _writer.Text(output, text);
                    ContentStarted = true;
                }
            }
            else if (reader.ValueTextEquals("thinking"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String && reader.GetString() is { Length: > 0 } thinking)
                {
                    _writer.Reasoning(output, thinking);
                    ContentStarted = true;
                }
            }
            else if (reader.ValueTextEquals("tool_calls"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray) { reader.Skip(); continue; }
                while (reader.Read() && reader.TokenType == JsonTokenType.StartObject) ReadToolCall(ref reader, line, output);
            }
            else { reader.Read(); reader.Skip(); }
        }
    }

    /// <summary>Ollama sends each call whole: one OpenAI delta with the full arguments.</summary>
    private void ReadToolCall(ref Utf8JsonReader reader, ReadOnlySequence<byte> line, IBufferWriter<byte> output)
    {
        string? id = null, name = null, arguments = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("id"u8)) { reader.Read(); id = reader.TokenType == JsonTokenType.String ? reader.GetString() : null; }
            else if (reader.ValueTextEquals("function"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject) { reader.Skip(); continue; }
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("name"u8)) { reader.Read(); name = reader.GetString(); }
                    else if (reader.ValueTextEquals("arguments"u8))
                    {
                        reader.Read();
                        if (reader.TokenType == JsonTokenType.String) { arguments = reader.GetString(); continue; }
                        var start = reader.TokenStartIndex;
                        reader.Skip();
                        arguments = Encoding.UTF8.GetString(line.Slice(start, reader.BytesConsumed - start));
                    }
                    else { reader.Read(); reader.Skip(); }
                }
            }
            else { reader.Read(); reader.Skip(); }
        }
        _writer.ToolCallStart(output, id, name ?? "", arguments ?? "{}");
        ContentStarted = true;
    }

    protected override void OnEnd(IBufferWriter<byte> output)
    {
        if (_done) return;
        throw new LlmError
        {
            Kind = ErrorKind.BadGateway,
            Provider = OllamaChatSpec.Spec.Name,
            Message = "ollama_chat stream ended before its done line; the answer is incomplete",
        }.ToException();
    }
}
