using System.Buffers;
using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Watsonx;

/// <summary>
/// Writes a <c>text/chat</c> body from an OpenAI chat request: watsonx takes OpenAI's message shapes and parameter
/// names, with <c>model_id</c> and <c>project_id</c>/<c>space_id</c> instead of <c>model</c>, string tool choices as
/// <c>tool_choice_option</c>, and tool schemas without <c>strict</c> or <c>additionalProperties: false</c>.
/// </summary>
internal static class WatsonxRequestWriter
{
    public static void Write(LlmContext context, WatsonxSettings settings, string? modelId, IBufferWriter<byte> output)
    {
        var r = context.Chat!;
        using var w = new Utf8JsonWriter(output, JsonOut.Options);
        w.WriteStartObject();
        // A deployment's model and space are the deployment's own; the body names neither.
        if (modelId is not null) WriteScope(w, settings, modelId);
        w.WriteStartArray("messages"u8);
        foreach (var m in r.Messages!) WriteMessage(w, m);
        w.WriteEndArray();

        if (Keep(context, "temperature") && r.Temperature is { } t) w.WriteNumber("temperature"u8, t);
        if (Keep(context, "top_p") && r.TopP is { } tp) w.WriteNumber("top_p"u8, tp);
        var maxTokens = Keep(context, "max_tokens") ? r.MaxTokens : null;
        maxTokens ??= Keep(context, "max_completion_tokens") ? r.MaxCompletionTokens : null;
        if (maxTokens is { } mt) w.WriteNumber("max_tokens"u8, mt);
        if (Keep(context, "stop") && r.StopSequences() is { Count: > 0 } stops)
        {
            w.WriteStartArray("stop"u8);
            foreach (var s in stops) w.WriteStringValue(s);
            w.WriteEndArray();
        }
        if (Keep(context, "seed") && r.Seed is { } seed) w.WriteNumber("seed"u8, seed);
        if (Keep(context, "n") && r.N is { } n) w.WriteNumber("n"u8, n);
        if (Keep(context, "frequency_penalty") && r.FrequencyPenalty is { } fp) w.WriteNumber("frequency_penalty"u8, fp);
        if (Keep(context, "presence_penalty") && r.PresencePenalty is { } pp) w.WriteNumber("presence_penalty"u8, pp);
        if (Keep(context, "logprobs") && r.Logprobs is { } lp) w.WriteBoolean("logprobs"u8, lp);
        if (Keep(context, "top_logprobs") && r.TopLogprobs is { } tlp) w.WriteNumber("top_logprobs"u8, tlp);
        if (Keep(context, "reasoning_effort") && r.ReasoningEffort is { } effort) w.WriteString("reasoning_effort"u8, effort);
        if (Keep(context, "response_format") && r.ResponseFormat is { ValueKind: JsonValueKind.Object } rf)
        {
            w.WritePropertyName("response_format"u8);
            rf.WriteTo(w);
        }
        if (Keep(context, "tools") && r.Tools is { Count: > 0 } tools) WriteTools(w, tools);
        if (Keep(context, "tool_choice") && r.ToolChoice is { } choice)
        {
            if (choice.ValueKind == JsonValueKind.String) w.WriteString("tool_choice_option"u8, choice.GetString());
            else if (choice.ValueKind == JsonValueKind.Object)
            {
                w.WritePropertyName("tool_choice"u8);
                choice.WriteTo(w);
            }
        }
        w.WriteEndObject();
    }

    /// <summary><c>model_id</c> and the project (or, without one, the space) it runs in.</summary>
    internal static void WriteScope(Utf8JsonWriter w, WatsonxSettings settings, string modelId)
    {
        w.WriteString("model_id"u8, modelId);
        if (settings.ProjectId is { } project) w.WriteString("project_id"u8, project);
        else if (settings.SpaceId is { } space) w.WriteString("space_id"u8, space);
    }

    private static bool Keep(LlmContext context, string param) => !context.IsDropped(param);

    private static void WriteMessage(Utf8JsonWriter w, ChatMessage m)
    {
        var role = m.Role switch
        {
            "developer" or "system" => "system",
            "user" or "assistant" or "tool" => m.Role,
            _ => throw LlmError.Invalid($"{WatsonxSpec.Name}: message role `{m.Role}` is not supported (use system, user, assistant or tool)", "messages").ToException(),
        };
        w.WriteStartObject();
        w.WriteString("role"u8, role);
        switch (role)
        {
            case "tool":
                w.WriteString("tool_call_id"u8, m.ToolCallId ?? "");
                w.WriteString("content"u8, m.TextContent() ?? "");
                break;
            case "user" when m.Content is { ValueKind: JsonValueKind.Array } parts:
                // Text and image_url parts are watsonx's own user content shapes.
                w.WritePropertyName("content"u8);
                parts.WriteTo(w);
                break;
            default:
                if (m.TextContent() is { } text) w.WriteString("content"u8, text);
                else if (role != "assistant") w.WriteString("content"u8, "");
                break;
        }
        if (m.Name is { } name && role is "user" or "assistant" or "system") w.WriteString("name"u8, name);
        if (role == "assistant" && m.ToolCalls is { Count: > 0 } calls)
        {
            w.WriteStartArray("tool_calls"u8);
            foreach (var call in calls)
            {
                w.WriteStartObject();
                w.WriteString("id"u8, call.Id ?? "");
                w.WriteString("type"u8, "function"u8);
                w.WriteStartObject("function"u8);
                w.WriteString("name"u8, call.Function?.Name ?? "");
                w.WriteString("arguments"u8, string.IsNullOrEmpty(call.Function?.Arguments) ? "{}" : call.Function!.Arguments);
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

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
            if (f.Parameters is { ValueKind: JsonValueKind.Object } p)
            {
                w.WritePropertyName("parameters"u8);
                WriteSchema(w, p);
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>
    /// A schema without <c>strict</c> and <c>additionalProperties: false</c> at any depth (watsonx refuses both). Names
    /// under <c>properties</c> are property names, not keywords: a property called <c>strict</c> stays.
    /// </summary>
    internal static void WriteSchema(Utf8JsonWriter w, JsonElement schema, bool namesAreProperties = false)
    {
        switch (schema.ValueKind)
        {
            case JsonValueKind.Object:
                w.WriteStartObject();
                foreach (var p in schema.EnumerateObject())
                {
                    if (!namesAreProperties && (p.NameEquals("strict") || (p.NameEquals("additionalProperties") && p.Value.ValueKind == JsonValueKind.False))) continue;
                    w.WritePropertyName(p.Name);
                    WriteSchema(w, p.Value, !namesAreProperties && (p.NameEquals("properties") || p.NameEquals("$defs") || p.NameEquals("definitions")));
                }
                w.WriteEndObject();
                break;
            case JsonValueKind.Array:
                w.WriteStartArray();
                foreach (var item in schema.EnumerateArray()) WriteSchema(w, item);
                w.WriteEndArray();
                break;
            default:
                schema.WriteTo(w);
                break;
        }
    }
}
