using System.Buffers;
using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Json;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Ollama;

/// <summary>Writes an Ollama <c>/api/chat</c> body from an OpenAI chat request (LiteLLM's OllamaChatConfig mapping).</summary>
internal static class OllamaChatRequestWriter
{
    public static void Write(LlmContext context, IBufferWriter<byte> output)
    {
        var r = context.Chat!;
        using var w = new Utf8JsonWriter(output, JsonOut.Options);
        w.WriteStartObject();
        w.WriteString("model", context.Deployment!.UpstreamModel);
        w.WriteStartArray("messages");
        foreach (var m in r.Messages!) WriteMessage(w, m);
        w.WriteEndArray();
        // Ollama streams unless told otherwise.
        w.WriteBoolean("stream", r.IsStream);

        var wroteOptions = false;
        void Options()
        {
            if (wroteOptions) return;
            w.WriteStartObject("options");
            wroteOptions = true;
        }
        var maxTokens = Keep(context, "max_completion_tokens") ? r.MaxCompletionTokens : null;
        maxTokens ??= Keep(context, "max_tokens") ? r.MaxTokens : null;
        if (maxTokens is { } mt) { Options(); w.WriteNumber("num_predict", mt); }
        if (Keep(context, "temperature") && r.Temperature is { } t) { Options(); w.WriteNumber("temperature", t); }
        if (Keep(context, "top_p") && r.TopP is { } tp) { Options(); w.WriteNumber("top_p", tp); }
        if (Keep(context, "seed") && r.Seed is { } seed) { Options(); w.WriteNumber("seed", seed); }
        if (Keep(context, "frequency_penalty") && r.FrequencyPenalty is { } fp) { Options(); w.WriteNumber("repeat_penalty", fp); }
        if (Keep(context, "stop") && r.StopSequences() is { Count: > 0 } stops)
        {
            Options();
            w.WriteStartArray("stop");
            foreach (var s in stops) w.WriteStringValue(s);
            w.WriteEndArray();
        }
        if (wroteOptions) w.WriteEndObject();

        if (Keep(context, "tools") && r.Tools is { Count: > 0 } && RawField(context.Body.Span, "tools"u8) is { } tools)
        {
            // Ollama takes OpenAI's tool definitions as they are.
            w.WritePropertyName("tools");
            w.WriteRawValue(context.Body.Span.Slice(tools.Start, tools.Length), skipInputValidation: true);
        }
        if (Keep(context, "response_format") && r.ResponseFormat is { ValueKind: JsonValueKind.Object } rf && rf.TryGetProperty("type", out var type))
        {
            if (type.ValueEquals("json_object")) w.WriteString("format", "json");
            else if (type.ValueEquals("json_schema") && rf.TryGetProperty("json_schema", out var js) && js.TryGetProperty("schema", out var schema))
            {
                w.WritePropertyName("format");
                schema.WriteTo(w);
            }
        }
        if (Keep(context, "reasoning_effort") && r.ReasoningEffort is { } effort)
        {
            if (effort is "none" or "disable") w.WriteBoolean("think", false);
            else if (context.Deployment.UpstreamModel.Contains("gpt-oss", StringComparison.Ordinal) && effort is "low" or "medium" or "high") w.WriteString("think", effort);
            else w.WriteBoolean("think", true);
        }
        if (r.Extra is { } extra)
        {
            foreach (var key in (ReadOnlySpan<string>)["keep_alive", "think"])
            {
                if (Keep(context, key) && extra.TryGetValue(key, out var v) && !(key == "think" && r.ReasoningEffort is not null))
                {
                    w.WritePropertyName(key);
                    v.WriteTo(w);
                }
            }
        }
        w.WriteEndObject();
    }

    /// <summary>Where a top-level field's value sits in the body.</summary>
    private static (int Start, int Length)? RawField(ReadOnlySpan<byte> body, ReadOnlySpan<byte> name)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 256 });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var match = reader.ValueTextEquals(name);
            reader.Read();
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            if (match) return (start, (int)reader.BytesConsumed - start);
        }
        return null;
    }

    private static bool Keep(LlmContext context, string param) => !context.IsDropped(param);

    private static void WriteMessage(Utf8JsonWriter w, ChatMessage m)
    {
        w.WriteStartObject();
        w.WriteString("role", m.Role == "developer" ? "system" : m.Role);
        w.WriteString("content", m.TextContent() ?? "");
        if (m.Content is { ValueKind: JsonValueKind.Array } parts)
        {
            var images = false;
            foreach (var part in parts.EnumerateArray())
            {
                if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var t) || !t.ValueEquals("image_url")) continue;
                if (!part.TryGetProperty("image_url", out var iu)) continue;
                var url = iu.ValueKind == JsonValueKind.String ? iu.GetString() : iu.TryGetProperty("url", out var u) ? u.GetString() : null;
                var comma = url?.IndexOf(',') ?? -1;
                if (url is null || !url.StartsWith("data:", StringComparison.Ordinal) || comma < 0) continue;
                if (!images) { w.WriteStartArray("images"); images = true; }
                w.WriteStringValue(url.AsSpan(comma + 1));
            }
            if (images) w.WriteEndArray();
        }
        if (m.ReasoningContent is { Length: > 0 } thinking) w.WriteString("thinking", thinking);
        if (m.ToolCalls is { Count: > 0 } calls)
        {
            w.WriteStartArray("tool_calls");
            foreach (var call in calls)
            {
                w.WriteStartObject();
                w.WriteStartObject("function");
                w.WriteString("name", call.Function?.Name);
                w.WritePropertyName("arguments");
                // Ollama wants the arguments as an object, OpenAI sends them as a JSON string.
                var args = call.Function?.Arguments;
                if (string.IsNullOrWhiteSpace(args)) w.WriteRawValue("{}");
                else
                {
                    try { using var doc = JsonDocument.Parse(args); doc.RootElement.WriteTo(w); }
                    catch (JsonException) { w.WriteStringValue(args); }
                }
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        if (m.Role == "tool" && m.ToolCallId is not null) w.WriteString("tool_call_id", m.ToolCallId);
        w.WriteEndObject();
    }
}
