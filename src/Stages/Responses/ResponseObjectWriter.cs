using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Pipeline.Wire;

namespace LLMux.Stages.Responses;

/// <summary>
/// Turns the pipeline's non-stream chat completion into a Response object: a reasoning item (summary text, and
/// the provider's opaque state in <c>encrypted_content</c>), a message item, then one function_call or
/// custom_tool_call item per tool call; status from the finish reason.
/// </summary>
internal static class ResponseObjectWriter
{
    public static BridgedResponse Write(ReadOnlySpan<byte> chatCompletion, ResponseShape shape, string? provider, BridgeTools tools)
    {
        ChatCompletion? completion;
        try
        {
            completion = JsonSerializer.Deserialize(chatCompletion, WireJson.Default.ChatCompletion);
        }
        catch (JsonException ex)
        {
            throw new LlmError { Kind = ErrorKind.BadGateway, Provider = provider, Message = $"{provider} answered with a completion LLMux could not read ({ex.Message})" }.ToException(ex);
        }
        if (completion is null || completion.Choices.Count == 0)
            throw new LlmError { Kind = ErrorKind.BadGateway, Provider = provider, Message = $"{provider} answered with no choices; there is no response to return" }.ToException();

        var choice = completion.Choices[0];
        var message = choice.Message;
        var items = new List<OutputItem>(3);
        try
        {
            var blocks = message.ThinkingBlocks is { ValueKind: JsonValueKind.Array } b ? b : default;
            var reasoningText = message.ReasoningContent;
            if (string.IsNullOrEmpty(reasoningText) && blocks.ValueKind == JsonValueKind.Array)
            {
                foreach (var block in blocks.EnumerateArray())
                    if (ResponsesRequestReader.Str(block, "thinking") is { } t) reasoningText += t;
            }
            var envelope = provider is null ? null : ReasoningEnvelope.Encode(provider, blocks);
            if (!string.IsNullOrEmpty(reasoningText) || envelope is not null)
            {
                var r = new OutputItem(OutputItemKind.Reasoning, ResponseIds.Reasoning()) { Encrypted = envelope };
                r.Append(reasoningText);
                items.Add(r);
            }
            var text = message.TextContent();
            if (!string.IsNullOrEmpty(text))
            {
                var m = new OutputItem(OutputItemKind.Message, ResponseIds.Message());
                m.Append(text);
                items.Add(m);
            }
            if (message.ToolCalls is { } calls)
            {
                foreach (var call in calls)
                {
                    var name = call.Function?.Name ?? "";
                    var (kind, itemId) = tools.CallItem(name);
                    var isCustom = kind == OutputItemKind.CustomToolCall;
                    var item = new OutputItem(kind, itemId)
                    {
                        CallId = string.IsNullOrEmpty(call.Id) ? Providers.Common.ToolCallIds.New() : call.Id,
                        Name = name,
                    };
                    if (tools.TryNamespace(name, out var ns, out var bare)) { item.Namespace = ns; item.Name = bare; }
                    item.Append(call.Function?.Arguments);
                    if (isCustom) item.UnwrapCustomInput();
                    items.Add(item);
                }
            }
            var incomplete = IncompleteReason(choice.FinishReason);
            return Render(shape, items, incomplete is null ? "completed" : "incomplete", completion.Model, incomplete, completion.Usage);
        }
        finally
        {
            foreach (var item in items) item.Dispose();
        }
    }

    internal static string? IncompleteReason(string? finishReason) => finishReason switch
    {
        "length" => "max_output_tokens",
        "content_filter" => "content_filter",
        _ => null,
    };

    /// <summary>The Response object for the client and the output items for the store (envelopes always kept there).</summary>
    internal static BridgedResponse Render(ResponseShape shape, List<OutputItem> items, string status, string? model, string? incomplete, Usage? usage, (string, string)? error = null)
    {
        var body = new PooledBuffer(1024);
        try
        {
            using (var w = new Utf8JsonWriter(body, JsonOut.Options))
            {
                w.WriteStartObject();
                shape.WriteHead(w, status, model, incomplete, error);
                w.WriteStartArray("output"u8);
                foreach (var item in items) item.Write(w, shape.IncludeEncrypted);
                w.WriteEndArray();
                shape.WriteTail(w, usage);
                w.WriteEndObject();
            }
            if (!shape.Store) return new BridgedResponse(body, []); // nothing will be chained on it
            var stored = new System.Buffers.ArrayBufferWriter<byte>(512);
            using (var w = new Utf8JsonWriter(stored, JsonOut.Options))
            {
                w.WriteStartArray();
                foreach (var item in items) item.Write(w, includeEncrypted: true);
                w.WriteEndArray();
            }
            return new BridgedResponse(body, stored.WrittenSpan.ToArray());
        }
        catch
        {
            body.Dispose();
            throw;
        }
    }
}

/// <summary>A finished bridged response: the Response object (the caller disposes it) and the output items to store.</summary>
internal readonly record struct BridgedResponse(PooledBuffer Body, byte[] OutputItems);
