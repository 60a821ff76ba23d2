using System.Buffers;
using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Cohere;

/// <summary>Writes a Cohere <c>/v2/chat</c> body from an OpenAI chat request.</summary>
internal static class CohereRequestWriter
{
    public static void Write(LlmContext context, IBufferWriter<byte> output)
    {
        var r = context.Chat!;
        using var w = new Utf8JsonWriter(output, JsonOut.Options);
        w.WriteStartObject();
        w.WriteString("model"u8, context.Deployment!.UpstreamModel);
        w.WriteStartArray("messages"u8);
        foreach (var m in r.Messages!) WriteMessage(w, m);
        w.WriteEndArray();
        w.WriteBoolean("stream"u8, r.IsStream);

        if (Keep(context, "temperature") && r.Temperature is { } t) w.WriteNumber("temperature"u8, t);
        if (Keep(context, "top_p") && r.TopP is { } tp) w.WriteNumber("p"u8, tp);
        var maxTokens = Keep(context, "max_completion_tokens") ? r.MaxCompletionTokens : null;
        maxTokens ??= Keep(context, "max_tokens") ? r.MaxTokens : null;
        if (maxTokens is { } mt) w.WriteNumber("max_tokens"u8, mt);
        if (Keep(context, "stop") && r.StopSequences() is { Count: > 0 } stops)
        {
            w.WriteStartArray("stop_sequences"u8);
            foreach (var s in stops) w.WriteStringValue(s);
            w.WriteEndArray();
        }
        if (Keep(context, "seed") && r.Seed is { } seed) w.WriteNumber("seed"u8, seed);
        if (Keep(context, "frequency_penalty") && r.FrequencyPenalty is { } fp) w.WriteNumber("frequency_penalty"u8, fp);
        if (Keep(context, "presence_penalty") && r.PresencePenalty is { } pp) w.WriteNumber("presence_penalty"u8, pp);
        if (Keep(context, "top_k") && r.Extra is { } extra && extra.TryGetValue("top_k", out var k) && k.ValueKind == JsonValueKind.Number)
        {
            w.WritePropertyName("k"u8);
            k.WriteTo(w);
        }
        if (Keep(context, "tools") && r.Tools is { Count: > 0 } tools) WriteTools(w, tools);
        if (Keep(context, "tool_choice") && r.ToolChoice is { ValueKind: JsonValueKind.String } choice)
        {
            // Cohere knows REQUIRED and NONE; "auto" is its default.
            if (choice.ValueEquals("required")) w.WriteString("tool_choice"u8, "REQUIRED"u8);
            else if (choice.ValueEquals("none")) w.WriteString("tool_choice"u8, "NONE"u8);
        }
        else if (Keep(context, "tool_choice") && r.ToolChoice is { ValueKind: JsonValueKind.Object })
        {
            w.WriteString("tool_choice"u8, "REQUIRED"u8);
        }
        if (Keep(context, "response_format") && r.ResponseFormat is { ValueKind: JsonValueKind.Object } rf && rf.TryGetProperty("type", out var type))
        {
            if (type.ValueEquals("json_object"))
            {
                w.WriteStartObject("response_format"u8);
                w.WriteString("type"u8, "json_object"u8);
                w.WriteEndObject();
            }
            else if (type.ValueEquals("json_schema"))
            {
                w.WriteStartObject("response_format"u8);
                w.WriteString("type"u8, "json_object"u8);
                if (rf.TryGetProperty("json_schema", out var js) && js.ValueKind == JsonValueKind.Object && js.TryGetProperty("schema", out var schema))
                {
                    w.WritePropertyName("json_schema"u8);
                    schema.WriteTo(w);
                }
                w.WriteEndObject();
            }
        }
        w.WriteEndObject();
    }

    private static bool Keep(LlmContext context, string param) => !context.IsDropped(param);

    private static void WriteTools(Utf8JsonWriter w, List<ToolDefinition> tools)
    {
        w.WriteStartArray("tools"u8);
        foreach (var tool in tools)
        {
            if (tool.Function is not { } f) continue;
            w.WriteStartObject();
            w.WriteString("type"u8, "function"u8);
            w.WriteStartObject("function"u8);
            w.WriteString("name"u8, f.Name);
            if (f.Description is not null) w.WriteString("description"u8, f.Description);
            w.WritePropertyName("parameters"u8);
            if (f.Parameters is { ValueKind: JsonValueKind.Object } p) p.WriteTo(w);
            else w.WriteRawValue("{\"type\":\"object\",\"properties\":{}}"u8, skipInputValidation: true);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WriteMessage(Utf8JsonWriter w, ChatMessage m)
    {
        var role = m.Role switch
        {
            "developer" or "system" => "system",
            "assistant" => "assistant",
            "tool" or "function" => "tool",
            "user" => "user",
            _ => throw LlmError.Invalid($"cohere: message role `{m.Role}` is not supported (use system, user, assistant or tool)", "messages").ToException(),
        };
        w.WriteStartObject();
        w.WriteString("role"u8, role);
        if (role == "tool")
        {
            w.WriteString("tool_call_id"u8, m.ToolCallId ?? "");
            w.WriteString("content"u8, m.TextContent() ?? "");
            w.WriteEndObject();
            return;
        }
        if (role == "assistant" && m.ToolCalls is { Count: > 0 } calls)
        {
            // Cohere wants the reasoning before the calls as tool_plan, not content.
            if (m.TextContent() is { Length: > 0 } plan) w.WriteString("tool_plan"u8, plan);
            w.WriteStartArray("tool_calls"u8);
            foreach (var call in calls)
            {
                w.WriteStartObject();
                w.WriteString("id"u8, call.Id);
                w.WriteString("type"u8, "function"u8);
                w.WriteStartObject("function"u8);
                w.WriteString("name"u8, call.Function?.Name);
                w.WriteString("arguments"u8, string.IsNullOrEmpty(call.Function?.Arguments) ? "{}" : call.Function!.Arguments);
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            return;
        }
        w.WriteString("content"u8, m.TextContent() ?? "");
        w.WriteEndObject();
    }
}
