using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Gemini;

/// <summary>
/// OpenAI messages → Gemini <c>system_instruction</c> and <c>contents</c>, as LiteLLM converts them: system turns
/// lifted out, consecutive user and assistant turns merged, assistant → <c>model</c>, tool results gathered into
/// one role-less content of <c>function_response</c> parts.
/// </summary>
internal static class GeminiContentsWriter
{
    /// <summary>The dummy signature LiteLLM sends for gemini-3 tool calls that carry none (Google's documented escape hatch).</summary>
    private static readonly string SkipSignature = Convert.ToBase64String("skip_thought_signature_validator"u8);
    internal const string ThoughtSeparator = "__thought__";

    private enum Turn { None, User, Model, Tool }

    public static void WriteSystemInstruction(Utf8JsonWriter w, List<ChatMessage> messages)
    {
        var any = false;
        foreach (var m in messages)
        {
            if (!IsSystem(m)) continue;
            var text = m.TextContent();
            if (string.IsNullOrEmpty(text)) continue;
            if (!any)
            {
                w.WriteStartObject("system_instruction"u8);
                w.WriteStartArray("parts"u8);
                any = true;
            }
            w.WriteStartObject();
            w.WriteString("text"u8, text);
            w.WriteEndObject();
        }
        if (!any) return;
        w.WriteEndArray();
        w.WriteEndObject();
    }

    public static void WriteContents(Utf8JsonWriter w, List<ChatMessage> messages, string model)
    {
        var gemini3 = GeminiModels.IsGemini3(model);
        var callNames = new Dictionary<string, string>(StringComparer.Ordinal);
        w.WriteStartArray("contents"u8);
        var open = Turn.None;
        var userHasText = false;
        var wroteAny = false;
        var onlySystem = true;
        for (var i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            if (IsSystem(m)) continue;
            onlySystem = false;
            var turn = m.Role switch
            {
                "assistant" => Turn.Model,
                "tool" or "function" => Turn.Tool,
                _ => Turn.User,
            };
            if (turn != open)
            {
                Close(w, open, userHasText);
                Open(w, turn);
                open = turn;
                userHasText = false;
                wroteAny = true;
            }
            switch (turn)
            {
                case Turn.User: userHasText |= WriteUserParts(w, m, i); break;
                case Turn.Model: WriteModelParts(w, m, gemini3, callNames); break;
                default: WriteToolResult(w, m, i, callNames); break;
            }
        }
        Close(w, open, userHasText);
        if (!wroteAny)
        {
            // Gemini needs one content: "." after a system-only prompt (LiteLLM), " " otherwise.
            Open(w, Turn.User);
            w.WriteStartObject();
            w.WriteString("text"u8, onlySystem && messages.Count > 0 ? "." : " ");
            w.WriteEndObject();
            Close(w, Turn.User, true);
        }
        w.WriteEndArray();
    }

    private static bool IsSystem(ChatMessage m) => m.Role is "system" or "developer";

    private static void Open(Utf8JsonWriter w, Turn turn)
    {
        w.WriteStartObject();
        if (turn == Turn.User) w.WriteString("role"u8, "user"u8);
        else if (turn == Turn.Model) w.WriteString("role"u8, "model"u8);
        w.WriteStartArray("parts"u8);
    }

    private static void Close(Utf8JsonWriter w, Turn turn, bool userHasText)
    {
        if (turn == Turn.None) return;
        if (turn == Turn.User && !userHasText)
        {
            // Gemini refuses a user turn without a text part (litellm#5515).
            w.WriteStartObject();
            w.WriteString("text"u8, " "u8);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>Writes the parts of one user message; true when a text part was written.</summary>
    private static bool WriteUserParts(Utf8JsonWriter w, ChatMessage m, int index)
    {
        if (m.Content is not { } content) return false;
        if (content.ValueKind == JsonValueKind.String)
        {
            var s = content.GetString();
            if (string.IsNullOrEmpty(s)) return false;
            WriteText(w, s);
            return true;
        }
        if (content.ValueKind != JsonValueKind.Array) return false;
        var wroteText = false;
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type)) continue;
            var param = $"messages[{index}].content";
            if (type.ValueEquals("text"))
            {
                if (part.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() is { Length: > 0 } text)
                {
                    WriteText(w, text);
                    wroteText = true;
                }
            }
            else if (type.ValueEquals("image_url") && part.TryGetProperty("image_url", out var img))
            {
                var url = img.ValueKind == JsonValueKind.String ? img.GetString() : Str(img, "url");
                if (url is null) throw LlmError.Invalid($"`{param}` has an image_url part without a url", param).ToException();
                GeminiMediaParts.Write(w, url, img.ValueKind == JsonValueKind.Object ? Str(img, "format") : null, param);
            }
            else if (type.ValueEquals("input_audio") && part.TryGetProperty("input_audio", out var audio))
            {
                var data = Str(audio, "data") ?? throw LlmError.Invalid($"`{param}` has an input_audio part without data", param).ToException();
                GeminiMediaParts.WriteBase64(w, "audio/" + (Str(audio, "format") ?? "wav"), data);
            }
            else if (type.ValueEquals("file") && part.TryGetProperty("file", out var file))
            {
                var url = Str(file, "file_data") ?? Str(file, "file_id") ?? throw LlmError.Invalid($"`{param}` has a file part without file_data or file_id", param).ToException();
                GeminiMediaParts.Write(w, url, Str(file, "format"), param);
            }
            else throw LlmError.Invalid($"`{param}` has a content part of type `{type}` that Gemini cannot take", param).ToException();
        }
        return wroteText;
    }

    private static void WriteModelParts(Utf8JsonWriter w, ChatMessage m, bool gemini3, Dictionary<string, string> callNames)
    {
        if (!string.IsNullOrEmpty(m.ReasoningContent))
        {
            w.WriteStartObject();
            w.WriteBoolean("thought"u8, true);
            w.WriteString("text"u8, m.ReasoningContent);
            w.WriteEndObject();
        }
        if (m.ThinkingBlocks is { ValueKind: JsonValueKind.Array } blocks)
        {
            // Signed thinking blocks go back with their signature so that Gemini can resume its reasoning.
            foreach (var block in blocks.EnumerateArray())
            {
                if (Str(block, "type") != "thinking" || Str(block, "thinking") is not { } thinking || Str(block, "signature") is not { } signature) continue;
                w.WriteStartObject();
                w.WriteString("thoughtSignature"u8, signature);
                w.WriteString("text"u8, thinking);
                w.WriteEndObject();
            }
        }
        if (m.TextContent() is { Length: > 0 } text) WriteText(w, text);
        if (m.ToolCalls is { } calls)
        {
            foreach (var call in calls)
            {
                var name = call.Function?.Name ?? "";
                if (call.Id is { } id) callNames[id] = name;
                WriteFunctionCall(w, name, call.Function?.Arguments, call.Id, gemini3);
            }
        }
        else if (m.FunctionCall is { ValueKind: JsonValueKind.Object } fc)
        {
            WriteFunctionCall(w, Str(fc, "name") ?? "", Str(fc, "arguments"), null, gemini3);
        }
    }

    private static void WriteFunctionCall(Utf8JsonWriter w, string name, string? arguments, string? id, bool gemini3)
    {
        w.WriteStartObject();
        w.WriteStartObject("function_call"u8);
        w.WriteString("name"u8, name);
        w.WritePropertyName("args"u8);
        WriteArguments(w, arguments, name);
        w.WriteEndObject();
        string? signature = null;
        var at = id?.IndexOf(ThoughtSeparator, StringComparison.Ordinal) ?? -1;
        if (at >= 0) signature = id![(at + ThoughtSeparator.Length)..];
        else if (gemini3) signature = SkipSignature;
        if (signature is not null) w.WriteString("thoughtSignature"u8, signature);
        w.WriteEndObject();
    }

    private static void WriteArguments(Utf8JsonWriter w, string? arguments, string name)
    {
        if (string.IsNullOrWhiteSpace(arguments))
        {
            w.WriteStartObject();
            w.WriteEndObject();
            return;
        }
        try
        {
            using var doc = JsonDocument.Parse(arguments);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new JsonException("not an object");
            doc.RootElement.WriteTo(w);
        }
        catch (JsonException)
        {
            throw LlmError.Invalid($"the arguments of tool call `{name}` are not a JSON object; Gemini needs them as one", "messages").ToException();
        }
    }

    private static void WriteToolResult(Utf8JsonWriter w, ChatMessage m, int index, Dictionary<string, string> callNames)
    {
        string? name = null;
        if (m.ToolCallId is { } id) callNames.TryGetValue(id, out name);
        name ??= m.Name;
        if (string.IsNullOrEmpty(name))
            throw LlmError.Invalid($"messages[{index}] is a tool result whose tool_call_id matches no earlier assistant tool call and that has no `name`; Gemini needs the function name", $"messages[{index}]").ToException();

        var text = new StringBuilder();
        var media = new List<JsonElement>();
        if (m.Content is { ValueKind: JsonValueKind.String } s) text.Append(s.GetString());
        else if (m.Content is { ValueKind: JsonValueKind.Array } arr)
        {
            foreach (var part in arr.EnumerateArray())
            {
                if (part.ValueKind != JsonValueKind.Object) continue;
                if (Str(part, "type") == "text") text.Append(Str(part, "text"));
                else if (Str(part, "type") is "image_url" or "file") media.Add(part);
            }
        }
        w.WriteStartObject();
        w.WriteStartObject("function_response"u8);
        w.WriteString("name"u8, name);
        w.WritePropertyName("response"u8);
        WriteResponse(w, text.ToString());
        w.WriteEndObject();
        w.WriteEndObject();
        foreach (var part in media)
        {
            var param = $"messages[{index}].content";
            if (part.TryGetProperty("image_url", out var img))
                GeminiMediaParts.Write(w, img.ValueKind == JsonValueKind.String ? img.GetString()! : Str(img, "url") ?? "", null, param);
            else if (part.TryGetProperty("file", out var file))
                GeminiMediaParts.Write(w, Str(file, "file_data") ?? Str(file, "file_id") ?? "", Str(file, "format"), param);
        }
    }

    /// <summary>A JSON-object result is sent as the object; anything else as <c>{"content": text}</c>.</summary>
    private static void WriteResponse(Utf8JsonWriter w, string content)
    {
        var trimmed = content.AsSpan().TrimStart();
        if (trimmed.Length > 0 && trimmed[0] == '{')
        {
            try
            {
                using var doc = JsonDocument.Parse(content);
                if (doc.RootElement.ValueKind == JsonValueKind.Object)
                {
                    doc.RootElement.WriteTo(w);
                    return;
                }
            }
            catch (JsonException)
            {
                // Not JSON after all: sent as text below.
            }
        }
        w.WriteStartObject();
        w.WriteString("content"u8, content);
        w.WriteEndObject();
    }

    private static void WriteText(Utf8JsonWriter w, string text)
    {
        w.WriteStartObject();
        w.WriteString("text"u8, text);
        w.WriteEndObject();
    }

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
