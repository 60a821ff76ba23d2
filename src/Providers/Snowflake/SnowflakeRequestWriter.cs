using System.Buffers;
using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Snowflake;

/// <summary>
/// Writes an <c>inference:complete</c> body: <c>model</c>, text <c>messages</c> (tool calls and results as
/// <c>content_list</c> items), <c>stream</c>, the sampling fields Cortex takes, tools as <c>tool_spec</c>, and
/// <c>response_format</c> as <c>{type: json, schema}</c>.
/// </summary>
internal static class SnowflakeRequestWriter
{
    public static void Write(LlmContext context, IBufferWriter<byte> output)
    {
        var r = context.Chat!;
        using var w = new Utf8JsonWriter(output, JsonOut.Options);
        w.WriteStartObject();
        w.WriteString("model"u8, context.Deployment!.UpstreamModel);
        WriteMessages(w, r.Messages!);
        w.WriteBoolean("stream"u8, r.IsStream);
        if (Keep(context, "temperature") && r.Temperature is { } t) w.WriteNumber("temperature"u8, t);
        if (Keep(context, "top_p") && r.TopP is { } tp) w.WriteNumber("top_p"u8, tp);
        var maxTokens = Keep(context, "max_tokens") ? r.MaxTokens : null;
        maxTokens ??= Keep(context, "max_completion_tokens") ? r.MaxCompletionTokens : null;
        if (maxTokens is { } mt) w.WriteNumber("max_tokens"u8, mt);
        if (Keep(context, "response_format") && r.ResponseFormat is { ValueKind: JsonValueKind.Object } rf) WriteResponseFormat(w, rf);
        if (Keep(context, "tools") && r.Tools is { Count: > 0 } tools) WriteTools(w, tools);
        if (Keep(context, "tool_choice") && r.ToolChoice is { } choice) WriteToolChoice(w, choice);
        w.WriteEndObject();
    }

    private static bool Keep(LlmContext context, string param) => !context.IsDropped(param);

    private static void WriteMessages(Utf8JsonWriter w, List<ChatMessage> messages)
    {
        // A tool result names its tool; OpenAI's tool message carries only the call id.
        Dictionary<string, string>? names = null;
        w.WriteStartArray("messages"u8);
        foreach (var m in messages)
        {
            switch (m.Role)
            {
                case "system" or "developer" or "user":
                    w.WriteStartObject();
                    w.WriteString("role"u8, m.Role == "user" ? "user" : "system");
                    w.WriteString("content"u8, Text(m));
                    w.WriteEndObject();
                    break;
                case "assistant":
                    w.WriteStartObject();
                    w.WriteString("role"u8, "assistant"u8);
                    w.WriteString("content"u8, m.TextContent() ?? "");
                    if (m.ToolCalls is { Count: > 0 } calls)
                    {
                        w.WriteStartArray("content_list"u8);
                        foreach (var call in calls)
                        {
                            var name = call.Function?.Name ?? "";
                            if (call.Id is { } id) (names ??= new(StringComparer.Ordinal))[id] = name;
                            w.WriteStartObject();
                            w.WriteString("type"u8, "tool_use"u8);
                            w.WriteStartObject("tool_use"u8);
                            w.WriteString("tool_use_id"u8, call.Id ?? "");
                            w.WriteString("name"u8, name);
                            w.WritePropertyName("input"u8);
                            WriteArguments(w, call.Function?.Arguments);
                            w.WriteEndObject();
                            w.WriteEndObject();
                        }
                        w.WriteEndArray();
                    }
                    w.WriteEndObject();
                    break;
                case "tool" or "function":
                    w.WriteStartObject();
                    w.WriteString("role"u8, "user"u8);
                    w.WriteStartArray("content_list"u8);
                    w.WriteStartObject();
                    w.WriteString("type"u8, "tool_results"u8);
                    w.WriteStartObject("tool_results"u8);
                    w.WriteString("tool_use_id"u8, m.ToolCallId ?? "");
                    w.WriteString("name"u8, m.ToolCallId is { } tid && names is not null && names.TryGetValue(tid, out var n) ? n : m.Name ?? "");
                    w.WriteStartArray("content"u8);
                    w.WriteStartObject();
                    w.WriteString("type"u8, "text"u8);
                    w.WriteString("text"u8, m.TextContent() ?? "");
                    w.WriteEndObject();
                    w.WriteEndArray();
                    w.WriteEndObject();
                    w.WriteEndObject();
                    w.WriteEndArray();
                    w.WriteEndObject();
                    break;
                default:
                    throw LlmError.Invalid($"{SnowflakeSpec.Name}: message role `{m.Role}` is not supported (use system, user, assistant or tool)", "messages").ToException();
            }
        }
        w.WriteEndArray();
    }

    /// <summary>Text only: a part LLMux cannot send (an image, audio) is refused rather than lost.</summary>
    private static string Text(ChatMessage m)
    {
        if (m.Content is { ValueKind: JsonValueKind.Array } parts)
        {
            foreach (var part in parts.EnumerateArray())
                if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || !type.ValueEquals("text"))
                    throw LlmError.Invalid($"{SnowflakeSpec.Name}: LLMux sends text content to Cortex; a `{(part.TryGetProperty("type", out var t) ? t.ToString() : "?")}` part cannot be sent", "messages").ToException();
        }
        return m.TextContent() ?? "";
    }

    /// <summary>OpenAI's arguments are a JSON text; Cortex wants the object.</summary>
    private static void WriteArguments(Utf8JsonWriter w, string? arguments)
    {
        if (string.IsNullOrWhiteSpace(arguments)) { w.WriteStartObject(); w.WriteEndObject(); return; }
        try
        {
            using var doc = JsonDocument.Parse(arguments);
            doc.RootElement.WriteTo(w);
        }
        catch (JsonException)
        {
            throw LlmError.Invalid($"{SnowflakeSpec.Name}: an assistant tool call's arguments are not JSON; Cortex needs them as an object", "messages").ToException();
        }
    }

    private static void WriteResponseFormat(Utf8JsonWriter w, JsonElement rf)
    {
        if (!rf.TryGetProperty("type", out var type) || type.ValueEquals("text")) return;
        if (type.ValueEquals("json_schema") && rf.TryGetProperty("json_schema", out var js) && js.ValueKind == JsonValueKind.Object && js.TryGetProperty("schema", out var schema))
        {
            w.WriteStartObject("response_format"u8);
            w.WriteString("type"u8, "json"u8);
            w.WritePropertyName("schema"u8);
            schema.WriteTo(w);
            w.WriteEndObject();
            return;
        }
        throw LlmError.Invalid($"{SnowflakeSpec.Name}: Cortex's structured output needs a schema; send response_format {{type: json_schema, json_schema: {{schema: ...}}}}", "response_format").ToException();
    }

    private static void WriteTools(Utf8JsonWriter w, List<ToolDefinition> tools)
    {
        w.WriteStartArray("tools"u8);
        foreach (var tool in tools)
        {
            if (tool.Function is not { } f) continue;
            w.WriteStartObject();
            w.WriteStartObject("tool_spec"u8);
            w.WriteString("type"u8, "generic"u8);
            w.WriteString("name"u8, f.Name);
            if (f.Description is not null) w.WriteString("description"u8, f.Description);
            w.WritePropertyName("input_schema"u8);
            if (f.Parameters is { ValueKind: JsonValueKind.Object } p) p.WriteTo(w);
            else w.WriteRawValue("{\"type\":\"object\",\"properties\":{}}"u8, skipInputValidation: true);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WriteToolChoice(Utf8JsonWriter w, JsonElement choice)
    {
        if (choice.ValueKind == JsonValueKind.String)
        {
            w.WriteStartObject("tool_choice"u8);
            w.WriteString("type"u8, choice.GetString());
            w.WriteEndObject();
            return;
        }
        if (choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("function", out var f) && f.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
        {
            w.WriteStartObject("tool_choice"u8);
            w.WriteString("type"u8, "tool"u8);
            w.WriteStartArray("name"u8);
            w.WriteStringValue(name.GetString());
            w.WriteEndArray();
            w.WriteEndObject();
        }
    }
}
