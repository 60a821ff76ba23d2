using System.Text.Json;
using LLMux.Pipeline.Errors;

namespace LLMux.Stages.Messages;

/// <summary>
/// Parses and validates an Anthropic Messages request by Anthropic's rules (integer <c>max_tokens</c> ≥ 1,
/// roles user/assistant, known content block shapes) before anything is translated or routed. Errors name
/// the field as Anthropic does (<c>messages.2.content.0.source</c>).
/// </summary>
internal static class AnthropicRequestReader
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 64, AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow };

    /// <summary>The parsed body; the caller disposes it. <paramref name="countTokens"/> relaxes the rules count_tokens does not need.</summary>
    public static JsonDocument Parse(ReadOnlyMemory<byte> body, bool countTokens)
    {
        if (body.IsEmpty) throw Invalid("request body is empty; send a JSON object with model, max_tokens and messages", null);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body, Options);
        }
        catch (JsonException ex)
        {
            throw LlmError.Invalid($"request body is not valid JSON: {ex.Message}", null, "invalid_json").ToException(ex);
        }
        try
        {
            Validate(doc.RootElement, countTokens);
            return doc;
        }
        catch
        {
            doc.Dispose();
            throw;
        }
    }

    private static void Validate(JsonElement root, bool countTokens)
    {
        if (root.ValueKind != JsonValueKind.Object) throw Invalid("request body must be a JSON object", null);
        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.String || model.GetString()!.Trim().Length == 0)
            throw Invalid("model: Field required (the name of a configured model; GET /v1/models lists them)", "model");

        if (root.TryGetProperty("max_tokens", out var maxTokens))
        {
            if (maxTokens.ValueKind != JsonValueKind.Number || !maxTokens.TryGetInt64(out var mt) || mt < 1)
                throw Invalid("max_tokens: must be an integer of at least 1", "max_tokens");
        }
        else if (!countTokens)
        {
            throw Invalid("max_tokens: Field required (an integer of at least 1)", "max_tokens");
        }

        if (!root.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
            throw Invalid("messages: Field required (an array of user and assistant turns)", "messages");
        if (messages.GetArrayLength() == 0) throw Invalid("messages: at least one message is required", "messages");
        var i = 0;
        var turns = 0;
        foreach (var m in messages.EnumerateArray())
        {
            ValidateMessage(m, i++);
            if (!m.GetProperty("role").ValueEquals("system")) turns++;
        }
        if (turns == 0) throw Invalid("messages: at least one user or assistant message is required (system turns alone are not a conversation)", "messages");

        if (root.TryGetProperty("system", out var system)) ValidateSystem(system);
        Range(root, "temperature", 0, 1);
        Range(root, "top_p", 0, 1);
        if (root.TryGetProperty("top_k", out var topK) && topK.ValueKind != JsonValueKind.Null
            && (topK.ValueKind != JsonValueKind.Number || !topK.TryGetInt64(out var k) || k < 0))
            throw Invalid("top_k: must be an integer of at least 0", "top_k");
        if (root.TryGetProperty("stream", out var stream) && stream.ValueKind is not (JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null))
            throw Invalid("stream: must be a boolean", "stream");
        if (root.TryGetProperty("stop_sequences", out var stops) && stops.ValueKind != JsonValueKind.Null)
        {
            if (stops.ValueKind != JsonValueKind.Array) throw Invalid("stop_sequences: must be an array of strings", "stop_sequences");
            foreach (var s in stops.EnumerateArray())
                if (s.ValueKind != JsonValueKind.String) throw Invalid("stop_sequences: must be an array of strings", "stop_sequences");
        }
        if (root.TryGetProperty("metadata", out var metadata) && metadata.ValueKind != JsonValueKind.Null)
        {
            if (metadata.ValueKind != JsonValueKind.Object) throw Invalid("metadata: must be an object", "metadata");
            if (metadata.TryGetProperty("user_id", out var uid) && uid.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
                throw Invalid("metadata.user_id: must be a string", "metadata.user_id");
        }
        ValidateTools(root);
        if (root.TryGetProperty("thinking", out var thinking) && thinking.ValueKind != JsonValueKind.Null)
            ValidateThinking(thinking, root.TryGetProperty("max_tokens", out var mx) && mx.TryGetInt64(out var max) ? max : null);
    }

    private static void Range(JsonElement root, string name, double min, double max)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var d) || d < min || d > max)
            throw Invalid($"{name}: must be a number between {min} and {max}", name);
    }

    private static void ValidateSystem(JsonElement system)
    {
        if (system.ValueKind is JsonValueKind.String or JsonValueKind.Null) return;
        if (system.ValueKind != JsonValueKind.Array) throw Invalid("system: must be a string or an array of text blocks", "system");
        var i = 0;
        foreach (var block in system.EnumerateArray())
        {
            if (block.ValueKind != JsonValueKind.Object || !TypeIs(block, "text") || !IsString(block, "text"))
                throw Invalid($"system.{i}: must be a text block {{\"type\":\"text\",\"text\":...}}", $"system.{i}");
            i++;
        }
    }

    private static void ValidateMessage(JsonElement m, int i)
    {
        var at = $"messages.{i}";
        if (m.ValueKind != JsonValueKind.Object) throw Invalid($"{at}: must be an object with role and content", at);
        if (!m.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
            throw Invalid($"{at}.role: Field required (user or assistant)", $"{at}.role");
        var isUser = role.ValueEquals("user");
        var isSystem = role.ValueEquals("system");
        if (!isUser && !isSystem && !role.ValueEquals("assistant"))
            throw Invalid($"{at}.role: Input should be 'user', 'assistant' or 'system'", $"{at}.role");
        if (!m.TryGetProperty("content", out var content)) throw Invalid($"{at}.content: Field required", $"{at}.content");
        if (isSystem)
        {
            // Claude Code (2.1+) sends system turns between the others; they hold text only, like the top-level `system`.
            if (content.ValueKind == JsonValueKind.String) return;
            if (content.ValueKind != JsonValueKind.Array) throw Invalid($"{at}.content: must be a string or an array of text blocks", $"{at}.content");
            var s = 0;
            foreach (var block in content.EnumerateArray())
            {
                if (block.ValueKind != JsonValueKind.Object || !TypeIs(block, "text") || !IsString(block, "text"))
                    throw Invalid($"{at}.content.{s}: a system turn holds text blocks only", $"{at}.content.{s}");
                s++;
            }
            return;
        }
        if (content.ValueKind == JsonValueKind.String) return;
        if (content.ValueKind != JsonValueKind.Array) throw Invalid($"{at}.content: must be a string or an array of content blocks", $"{at}.content");
        var k = 0;
        foreach (var block in content.EnumerateArray()) ValidateBlock(block, $"{at}.content.{k++}", isUser);
    }

    private static void ValidateBlock(JsonElement block, string at, bool isUser)
    {
        if (block.ValueKind != JsonValueKind.Object || !block.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            throw Invalid($"{at}: must be an object with a string `type`", at);
        switch (type.GetString())
        {
            case "text":
                if (!IsString(block, "text")) throw Invalid($"{at}.text: must be a string", $"{at}.text");
                break;
            case "image":
                ValidateSource(block, at, document: false);
                break;
            case "document":
                ValidateSource(block, at, document: true);
                break;
            case "tool_use":
                if (isUser) throw Invalid($"{at}: tool_use blocks belong in assistant turns", at);
                if (!IsString(block, "id")) throw Invalid($"{at}.id: Field required", $"{at}.id");
                if (!IsString(block, "name")) throw Invalid($"{at}.name: Field required", $"{at}.name");
                if (!block.TryGetProperty("input", out var input) || input.ValueKind != JsonValueKind.Object)
                    throw Invalid($"{at}.input: must be an object", $"{at}.input");
                break;
            case "tool_result":
                if (!isUser) throw Invalid($"{at}: tool_result blocks belong in user turns", at);
                if (!IsString(block, "tool_use_id")) throw Invalid($"{at}.tool_use_id: Field required", $"{at}.tool_use_id");
                if (block.TryGetProperty("content", out var rc) && rc.ValueKind is not (JsonValueKind.String or JsonValueKind.Array or JsonValueKind.Null))
                    throw Invalid($"{at}.content: must be a string or an array of text and image blocks", $"{at}.content");
                if (rc.ValueKind == JsonValueKind.Array)
                {
                    var j = 0;
                    foreach (var inner in rc.EnumerateArray()) ValidateBlock(inner, $"{at}.content.{j++}", isUser: true);
                }
                break;
            case "thinking":
                if (!IsString(block, "thinking")) throw Invalid($"{at}.thinking: must be a string", $"{at}.thinking");
                break;
            case "redacted_thinking":
                if (!IsString(block, "data")) throw Invalid($"{at}.data: must be a string", $"{at}.data");
                break;
            case "tool_reference":
                // Claude Code's ToolSearch answers with references to the tools it loaded.
                if (!isUser) throw Invalid($"{at}: tool_reference blocks belong in tool results", at);
                if (!IsString(block, "tool_name")) throw Invalid($"{at}.tool_name: Field required", $"{at}.tool_name");
                break;
            default:
                throw Invalid($"{at}.type: `{type.GetString()}` is not supported here; use text, image, document, tool_use, tool_result, tool_reference, thinking or redacted_thinking", $"{at}.type");
        }
    }

    private static void ValidateSource(JsonElement block, string at, bool document)
    {
        if (!block.TryGetProperty("source", out var source) || source.ValueKind != JsonValueKind.Object || !source.TryGetProperty("type", out var st) || st.ValueKind != JsonValueKind.String)
            throw Invalid($"{at}.source: must be an object with a `type` (base64 or url)", $"{at}.source");
        if (st.ValueEquals("base64"))
        {
            if (!IsString(source, "media_type") || !IsString(source, "data"))
                throw Invalid($"{at}.source: a base64 source needs string `media_type` and `data`", $"{at}.source");
            return;
        }
        if (st.ValueEquals("url"))
        {
            if (!IsString(source, "url")) throw Invalid($"{at}.source.url: must be a string", $"{at}.source.url");
            return;
        }
        if (document && st.ValueEquals("text"))
        {
            if (!IsString(source, "data")) throw Invalid($"{at}.source.data: must be a string", $"{at}.source.data");
            return;
        }
        if (document && st.ValueEquals("content"))
        {
            if (!source.TryGetProperty("content", out var c) || c.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
                throw Invalid($"{at}.source.content: must be a string or an array of text blocks", $"{at}.source.content");
            return;
        }
        throw Invalid($"{at}.source.type: `{st.GetString()}` is not supported when translating for a non-Anthropic upstream; send the content as base64 or a url", $"{at}.source.type");
    }

    private static void ValidateTools(JsonElement root)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (root.TryGetProperty("tools", out var tools) && tools.ValueKind != JsonValueKind.Null)
        {
            if (tools.ValueKind != JsonValueKind.Array) throw Invalid("tools: must be an array", "tools");
            var i = 0;
            foreach (var tool in tools.EnumerateArray())
            {
                var at = $"tools.{i++}";
                if (tool.ValueKind != JsonValueKind.Object) throw Invalid($"{at}: must be an object", at);
                if (!tool.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String || name.GetString()!.Length == 0)
                    throw Invalid($"{at}.name: Field required", $"{at}.name");
                names.Add(name.GetString()!);
                if (IsServerTool(tool)) continue;
                if (!tool.TryGetProperty("input_schema", out var schema) || schema.ValueKind != JsonValueKind.Object)
                    throw Invalid($"{at}.input_schema: Field required (a JSON Schema object)", $"{at}.input_schema");
            }
        }
        if (!root.TryGetProperty("tool_choice", out var choice) || choice.ValueKind == JsonValueKind.Null) return;
        if (choice.ValueKind != JsonValueKind.Object || !choice.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            throw Invalid("tool_choice: must be an object with a `type` (auto, any, tool or none)", "tool_choice");
        if (type.ValueEquals("auto") || type.ValueEquals("any") || type.ValueEquals("none")) return;
        if (!type.ValueEquals("tool")) throw Invalid($"tool_choice.type: `{type.GetString()}` is not one of auto, any, tool, none", "tool_choice.type");
        if (!choice.TryGetProperty("name", out var wanted) || wanted.ValueKind != JsonValueKind.String)
            throw Invalid("tool_choice.name: Field required when type is tool", "tool_choice.name");
        if (!names.Contains(wanted.GetString()!))
            throw Invalid($"tool_choice.name: `{wanted.GetString()}` is not one of the tools in `tools`", "tool_choice.name");
    }

    /// <summary>Anthropic-defined tools (web search, bash, text editor...) carry a versioned <c>type</c> and no schema.</summary>
    public static bool IsServerTool(JsonElement tool) =>
        tool.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && !t.ValueEquals("custom");

    private static void ValidateThinking(JsonElement thinking, long? maxTokens)
    {
        if (thinking.ValueKind != JsonValueKind.Object || !thinking.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            throw Invalid("thinking: must be an object with a `type` (enabled, disabled or adaptive)", "thinking");
        if (type.ValueEquals("disabled") || type.ValueEquals("adaptive")) return;
        if (!type.ValueEquals("enabled")) throw Invalid($"thinking.type: `{type.GetString()}` is not one of enabled, disabled, adaptive", "thinking.type");
        if (!thinking.TryGetProperty("budget_tokens", out var budget) || budget.ValueKind != JsonValueKind.Number || !budget.TryGetInt64(out var b) || b < 1024)
            throw Invalid("thinking.budget_tokens: must be an integer of at least 1024 when thinking is enabled", "thinking.budget_tokens");
        if (maxTokens is { } max && b >= max)
            throw Invalid("max_tokens: must be greater than thinking.budget_tokens", "max_tokens");
    }

    private static bool TypeIs(JsonElement e, string type) => e.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.ValueEquals(type);

    private static bool IsString(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String;

    private static LlmException Invalid(string message, string? param) => LlmError.Invalid(message, param).ToException();
}
