using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Pipeline.Wire;

namespace LLMux.Stages.Messages;

/// <summary>
/// Turns the pipeline's non-stream OpenAI answer into an Anthropic message: thinking blocks first, then text,
/// then tool_use with the arguments parsed into <c>input</c>; <c>stop_reason</c> from the finish reason; usage
/// with cache reads and writes split out of the prompt tokens.
/// </summary>
internal static class AnthropicMessageWriter
{
    public static PooledBuffer Write(ReadOnlySpan<byte> openAICompletion, string requestedModel, string? provider, IReadOnlyDictionary<string, string>? toolNames = null)
    {
        ChatCompletion? completion;
        try
        {
            completion = JsonSerializer.Deserialize(openAICompletion, WireJson.Default.ChatCompletion);
        }
        catch (JsonException ex)
        {
            throw new LlmError { Kind = ErrorKind.BadGateway, Provider = provider, Message = $"{provider} answered with a completion LLMux could not read ({ex.Message})" }.ToException(ex);
        }
        if (completion is null || completion.Choices.Count == 0)
            throw new LlmError { Kind = ErrorKind.BadGateway, Provider = provider, Message = $"{provider} answered with no choices; there is no message to return" }.ToException();

        var choice = completion.Choices[0];
        var message = choice.Message;
        var buffer = new PooledBuffer(1024);
        try
        {
            using var w = new Utf8JsonWriter(buffer, JsonOut.Options);
            w.WriteStartObject();
            w.WriteString("id"u8, MessageIds.From(completion.Id));
            w.WriteString("type"u8, "message"u8);
            w.WriteString("role"u8, "assistant"u8);
            w.WriteString("model"u8, string.IsNullOrEmpty(completion.Model) ? requestedModel : completion.Model);
            w.WriteStartArray("content"u8);
            WriteThinking(w, message, ReasoningSignature.TagFor(provider));
            var text = message.TextContent();
            if (!string.IsNullOrEmpty(text))
            {
                w.WriteStartObject();
                w.WriteString("type"u8, "text"u8);
                w.WriteString("text"u8, text);
                w.WriteEndObject();
            }
            var sawTool = false;
            if (message.ToolCalls is { } calls)
            {
                foreach (var call in calls)
                {
                    sawTool = true;
                    w.WriteStartObject();
                    w.WriteString("type"u8, "tool_use"u8);
                    w.WriteString("id"u8, string.IsNullOrEmpty(call.Id) ? Providers.Common.ToolCallIds.New() : call.Id);
                    var name = call.Function?.Name ?? "";
                    w.WriteString("name"u8, toolNames is not null && toolNames.TryGetValue(name, out var original) ? original : name);
                    w.WritePropertyName("input"u8);
                    WriteInput(w, call.Function?.Arguments);
                    w.WriteEndObject();
                }
            }
            w.WriteEndArray();
            w.WriteString("stop_reason"u8, AnthropicStopReason.From(choice.FinishReason, sawTool));
            w.WriteNull("stop_sequence"u8);
            AnthropicUsage.Write(w, completion.Usage);
            w.WriteEndObject();
            w.Flush();
            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>Thinking blocks, their signatures tagged with <paramref name="tag"/> when the upstream is not Anthropic.</summary>
    private static void WriteThinking(Utf8JsonWriter w, ChatMessage message, string? tag)
    {
        if (message.ThinkingBlocks is { ValueKind: JsonValueKind.Array } blocks && blocks.GetArrayLength() > 0)
        {
            foreach (var block in blocks.EnumerateArray())
            {
                if (block.ValueKind != JsonValueKind.Object || !block.TryGetProperty("type", out var type)) continue;
                if (type.ValueEquals("redacted_thinking") && block.TryGetProperty("data", out var data))
                {
                    w.WriteStartObject();
                    w.WriteString("type"u8, "redacted_thinking"u8);
                    w.WritePropertyName("data"u8);
                    if (tag is null || data.ValueKind != JsonValueKind.String || data.GetString() is not { Length: > 0 } raw) data.WriteTo(w);
                    else w.WriteStringValue(tag + raw);
                    w.WriteEndObject();
                }
                else if (type.ValueEquals("thinking"))
                {
                    w.WriteStartObject();
                    w.WriteString("type"u8, "thinking"u8);
                    w.WriteString("thinking"u8, block.TryGetProperty("thinking", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : "");
                    var signature = block.TryGetProperty("signature", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
                    w.WriteString("signature"u8, string.IsNullOrEmpty(signature) ? "" : tag + signature);
                    w.WriteEndObject();
                }
            }
            return;
        }
        if (!string.IsNullOrEmpty(message.ReasoningContent))
        {
            w.WriteStartObject();
            w.WriteString("type"u8, "thinking"u8);
            w.WriteString("thinking"u8, message.ReasoningContent);
            w.WriteString("signature"u8, ""u8); // the upstream signs nothing; Anthropic clients expect the field
            w.WriteEndObject();
        }
    }

    /// <summary>Tool arguments as a JSON object; empty or unparseable arguments (a cut-off answer) become <c>{}</c>.</summary>
    private static void WriteInput(Utf8JsonWriter w, string? arguments)
    {
        if (!string.IsNullOrWhiteSpace(arguments))
        {
            try
            {
                using var doc = JsonDocument.Parse(arguments);
                if (doc.RootElement.ValueKind == JsonValueKind.Object)
                {
                    doc.RootElement.WriteTo(w);
                    return;
                }
            }
            catch (JsonException)
            {
                // Falls through to {}: Anthropic's input must be an object.
            }
        }
        w.WriteStartObject();
        w.WriteEndObject();
    }
}
