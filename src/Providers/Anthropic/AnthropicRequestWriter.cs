using System.Buffers;
using System.Text.Json;
using System.Text.RegularExpressions;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Anthropic;

/// <summary>
/// Writes the Anthropic Messages body for an OpenAI chat request, the way LiteLLM's AnthropicConfig and
/// <c>anthropic_messages_pt</c> build it. No OpenAI-only field is copied: every field written is named here.
/// </summary>
internal static partial class AnthropicRequestWriter
{
    /// <summary>LiteLLM's <c>RESPONSE_FORMAT_TOOL_NAME</c>: the forced tool that carries a JSON answer on older models.</summary>
    public const string JsonToolName = "json_tool_call";

    private static readonly string[] HostedToolPrefixes = ["web_search", "bash", "text_editor", "code_execution", "web_fetch", "memory"];
    private static readonly string[] InputSchemaKeys = ["type", "properties", "additionalProperties", "required", "$defs", "strict"];
    private static readonly string[] ToolExtraKeys = ["cache_control", "defer_loading", "allowed_callers", "input_examples"];

    /// <summary>Writes the body into <paramref name="output"/> and collects the <c>anthropic-beta</c> values it needs.</summary>
    public static void Write(LlmContext context, IBufferWriter<byte> output, ICollection<string> betas)
    {
        var chat = context.Chat!;
        var model = context.Deployment!.UpstreamModel;
        var messages = chat.Messages ?? [];
        CheckToolsPresent(chat, messages, context);

        using var w = new Utf8JsonWriter(output, JsonOut.Options);
        w.WriteStartObject();
        w.WriteString("model"u8, model);
        WriteMessages(w, messages, betas);
        WriteSystem(w, messages);

        var thinking = ThinkingFor(chat, model, context, out var thinkingBudget);
        w.WriteNumber("max_tokens"u8, MaxTokens(chat, model, context, thinkingBudget));
        if (chat.Temperature is { } t && !context.IsDropped("temperature")) w.WriteNumber("temperature"u8, t);
        if (chat.TopP is { } p && !context.IsDropped("top_p")) w.WriteNumber("top_p"u8, p);
        WriteExtra(w, chat, context, "top_k");
        WriteStopSequences(w, chat, context);
        if (context.IsStream) w.WriteBoolean("stream"u8, true);

        var jsonTool = UsesJsonTool(chat, model) && !context.IsDropped("response_format");
        WriteTools(w, chat, context, jsonTool, betas);
        WriteToolChoice(w, chat, context, jsonTool, thinking is not null);
        WriteMetadata(w, chat, context);
        if (thinking is not null)
        {
            w.WritePropertyName("thinking"u8);
            thinking.Value.WriteTo(w);
        }
        WriteOutputFormat(w, chat, model, context, betas);
        WriteOutputConfig(w, chat, model, context, betas);
        WriteContextManagement(w, chat, context, betas);
        if (Extra(chat, "speed") is { ValueKind: JsonValueKind.String } speed && !context.IsDropped("speed"))
        {
            w.WritePropertyName("speed"u8);
            speed.WriteTo(w);
            if (speed.ValueEquals("fast")) AddBeta(betas, "fast-mode-2026-02-01");
        }
        WriteExtra(w, chat, context, "container");
        if (Extra(chat, "mcp_servers") is { } mcp && !context.IsDropped("mcp_servers"))
        {
            w.WritePropertyName("mcp_servers"u8);
            mcp.WriteTo(w);
            AddBeta(betas, "mcp-client-2025-04-04");
        }
        w.WriteEndObject();
        w.Flush();
    }

    /// <summary>True when a json_schema response_format is carried by the forced <c>json_tool_call</c> tool (models without output_format).</summary>
    public static bool UsesJsonTool(ChatRequest chat, string model)
    {
        if (chat.ResponseFormat is not { ValueKind: JsonValueKind.Object } rf) return false;
        if (AnthropicModels.SupportsOutputFormat(model)) return false;
        return JsonSchemaOf(rf) is not null;
    }

    private static JsonElement? JsonSchemaOf(JsonElement responseFormat)
    {
        if (responseFormat.TryGetProperty("type", out var type) && type.ValueEquals("text")) return null;
        if (responseFormat.TryGetProperty("response_schema", out var rs)) return rs;
        if (responseFormat.TryGetProperty("json_schema", out var js) && js.ValueKind == JsonValueKind.Object && js.TryGetProperty("schema", out var schema)) return schema;
        return null;
    }

    private static void CheckToolsPresent(ChatRequest chat, List<ChatMessage> messages, LlmContext context)
    {
        if (chat.Tools is { Count: > 0 } && !context.IsDropped("tools")) return;
        foreach (var m in messages)
        {
            if (m.ToolCalls is { Count: > 0 } || m.Role is "tool" or "function")
            {
                throw new LlmError
                {
                    Kind = ErrorKind.UnsupportedParam,
                    Message = "anthropic does not accept tool calls or tool results in messages without `tools`; pass the `tools` these messages use",
                    Param = "tools",
                    Code = "unsupported_parameter",
                    Provider = AnthropicSpec.Spec.Name,
                }.ToException();
            }
        }
    }

    // ---- messages ----

    private static bool IsSystem(ChatMessage m) => m.Role is "system" or "developer";

    private static string TurnRole(ChatMessage m) => m.Role == "assistant" ? "assistant" : "user";

    private static void WriteMessages(Utf8JsonWriter w, List<ChatMessage> messages, ICollection<string> betas)
    {
        var lastNonSystem = -1;
        for (var i = 0; i < messages.Count; i++) if (!IsSystem(messages[i])) lastNonSystem = i;
        if (lastNonSystem < 0)
        {
            throw LlmError.Invalid("anthropic needs at least one user or assistant message besides the system prompt; add a user message", "messages").ToException();
        }

        w.WriteStartArray("messages"u8);
        var i2 = 0;
        while (i2 < messages.Count)
        {
            if (IsSystem(messages[i2])) { i2++; continue; }
            var role = TurnRole(messages[i2]);
            w.WriteStartObject();
            w.WriteString("role"u8, role);
            w.WriteStartArray("content"u8);
            HashSet<string>? toolUseIds = null;
            // Consecutive same-role turns (system messages removed) merge into one Anthropic turn.
            while (i2 < messages.Count && (IsSystem(messages[i2]) || TurnRole(messages[i2]) == role))
            {
                var m = messages[i2];
                if (!IsSystem(m))
                {
                    if (role == "assistant") WriteAssistantBlocks(w, m, i2 == lastNonSystem, ref toolUseIds);
                    else WriteUserBlocks(w, m, betas);
                }
                i2++;
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WriteUserBlocks(Utf8JsonWriter w, ChatMessage m, ICollection<string> betas)
    {
        var cacheControl = ExtraOf(m.Extra, "cache_control");
        if (m.Role is "tool" or "function")
        {
            w.WriteStartObject();
            w.WriteString("type"u8, "tool_result"u8);
            w.WriteString("tool_use_id"u8, ToolUseId(m.ToolCallId ?? Guid.NewGuid().ToString()));
            w.WritePropertyName("content"u8);
            WriteToolResultContent(w, m.Content);
            WriteCacheControl(w, cacheControl);
            w.WriteEndObject();
            return;
        }
        if (m.Content is not { } content || content.ValueKind == JsonValueKind.Null) return;
        if (content.ValueKind == JsonValueKind.String)
        {
            w.WriteStartObject();
            w.WriteString("type"u8, "text"u8);
            w.WriteString("text"u8, content.GetString());
            WriteCacheControl(w, cacheControl);
            w.WriteEndObject();
            return;
        }
        if (content.ValueKind != JsonValueKind.Array) throw LlmError.Invalid("message content must be a string or an array of content parts", "messages").ToException();
        foreach (var part in content.EnumerateArray()) WriteUserPart(w, part, betas);
    }

    private static void WriteUserPart(Utf8JsonWriter w, JsonElement part, ICollection<string> betas)
    {
        var type = part.TryGetProperty("type", out var t) ? t.GetString() : null;
        switch (type)
        {
            case "text":
                w.WriteStartObject();
                w.WriteString("type"u8, "text"u8);
                w.WriteString("text"u8, part.TryGetProperty("text", out var tx) ? tx.GetString() : "");
                WriteCacheControl(w, part);
                w.WriteEndObject();
                break;
            case "image_url":
                WriteImage(w, part);
                break;
            case "file":
                WriteFile(w, part, betas);
                break;
            case "document":
                part.WriteTo(w);
                break;
            default:
                throw LlmError.Invalid($"content part type `{type}` is not supported by anthropic; send text, image_url or file parts", "messages").ToException();
        }
    }

    private static void WriteImage(Utf8JsonWriter w, JsonElement part)
    {
        string? url = null, format = null;
        if (part.TryGetProperty("image_url", out var iu))
        {
            if (iu.ValueKind == JsonValueKind.String) url = iu.GetString();
            else if (iu.ValueKind == JsonValueKind.Object)
            {
                if (iu.TryGetProperty("url", out var u)) url = u.GetString();
                if (iu.TryGetProperty("format", out var f)) format = f.GetString();
            }
        }
        if (string.IsNullOrEmpty(url)) throw LlmError.Invalid("image_url part has no url", "messages").ToException();
        w.WriteStartObject();
        w.WriteString("type"u8, "image"u8);
        WriteSource(w, url, format);
        WriteCacheControl(w, part);
        w.WriteEndObject();
    }

    /// <summary>A <c>data:</c> URI becomes a base64 source, anything else a url source.</summary>
    private static void WriteSource(Utf8JsonWriter w, string url, string? format)
    {
        w.WriteStartObject("source"u8);
        if (TryParseDataUri(url, out var mime, out var data))
        {
            w.WriteString("type"u8, "base64"u8);
            w.WriteString("media_type"u8, format ?? mime);
            w.WriteString("data"u8, data);
        }
        else
        {
            w.WriteString("type"u8, "url"u8);
            w.WriteString("url"u8, url);
        }
        w.WriteEndObject();
    }

    internal static bool TryParseDataUri(string url, out string mime, out ReadOnlySpan<char> data)
    {
        mime = "";
        data = default;
        if (!url.StartsWith("data:", StringComparison.OrdinalIgnoreCase)) return false;
        var comma = url.IndexOf(',', StringComparison.Ordinal);
        if (comma < 0) return false;
        var header = url.AsSpan(5, comma - 5);
        var semi = header.IndexOf(';');
        mime = (semi < 0 ? header : header[..semi]).ToString();
        data = url.AsSpan(comma + 1);
        return true;
    }

    private static void WriteFile(Utf8JsonWriter w, JsonElement part, ICollection<string> betas)
    {
        if (!part.TryGetProperty("file", out var file) || file.ValueKind != JsonValueKind.Object)
            throw LlmError.Invalid("file part has no `file` object", "messages").ToException();
        var fileData = file.TryGetProperty("file_data", out var fd) ? fd.GetString() : null;
        var fileId = file.TryGetProperty("file_id", out var fi) ? fi.GetString() : null;
        var format = file.TryGetProperty("format", out var fm) ? fm.GetString() : null;
        if (fileData is not null)
        {
            if (!TryParseDataUri(fileData, out var mime, out var data))
                throw LlmError.Invalid("file.file_data must be a data: URI (data:<mime>;base64,<data>)", "messages").ToException();
            var media = format ?? mime;
            w.WriteStartObject();
            w.WriteString("type"u8, media.StartsWith("image/", StringComparison.Ordinal) ? "image"u8 : "document"u8);
            w.WriteStartObject("source"u8);
            w.WriteString("type"u8, "base64"u8);
            w.WriteString("media_type"u8, media);
            w.WriteString("data"u8, data);
            w.WriteEndObject();
            WriteCacheControl(w, part);
            w.WriteEndObject();
            return;
        }
        if (fileId is null) throw LlmError.Invalid("file part needs file_data or file_id", "messages").ToException();
        w.WriteStartObject();
        if (fileId.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || fileId.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            w.WriteString("type"u8, "document"u8);
            w.WriteStartObject("source"u8);
            w.WriteString("type"u8, "url"u8);
            w.WriteString("url"u8, fileId);
            w.WriteEndObject();
        }
        else
        {
            AddBeta(betas, "files-api-2025-04-14");
            w.WriteString("type"u8, format is not null && format.StartsWith("image/", StringComparison.Ordinal) ? "image"u8 : "document"u8);
            w.WriteStartObject("source"u8);
            w.WriteString("type"u8, "file"u8);
            w.WriteString("file_id"u8, fileId);
            w.WriteEndObject();
        }
        WriteCacheControl(w, part);
        w.WriteEndObject();
    }

    private static void WriteToolResultContent(Utf8JsonWriter w, JsonElement? content)
    {
        if (content is not { } c || c.ValueKind == JsonValueKind.Null) { w.WriteStringValue(""); return; }
        if (c.ValueKind == JsonValueKind.String) { w.WriteStringValue(c.GetString()); return; }
        if (c.ValueKind != JsonValueKind.Array) { w.WriteStringValue(c.GetRawText()); return; }
        w.WriteStartArray();
        foreach (var part in c.EnumerateArray())
        {
            var type = part.TryGetProperty("type", out var t) ? t.GetString() : null;
            if (type == "image_url") { WriteImage(w, part); continue; }
            w.WriteStartObject();
            w.WriteString("type"u8, "text"u8);
            w.WriteString("text"u8, part.TryGetProperty("text", out var tx) ? tx.GetString() : "");
            WriteCacheControl(w, part);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WriteAssistantBlocks(Utf8JsonWriter w, ChatMessage m, bool isFinal, ref HashSet<string>? toolUseIds)
    {
        if (m.ThinkingBlocks is { ValueKind: JsonValueKind.Array } blocks)
        {
            foreach (var b in blocks.EnumerateArray()) b.WriteTo(w);
        }
        var cacheControl = ExtraOf(m.Extra, "cache_control");
        if (m.Content is { ValueKind: JsonValueKind.String } s)
        {
            WriteAssistantText(w, s.GetString()!, isFinal, cacheControl);
        }
        else if (m.Content is { ValueKind: JsonValueKind.Array } parts)
        {
            foreach (var part in parts.EnumerateArray())
            {
                if (part.TryGetProperty("type", out var pt) && pt.ValueEquals("text") && part.TryGetProperty("text", out var tx))
                    WriteAssistantText(w, tx.GetString() ?? "", isFinal, part.TryGetProperty("cache_control", out var cc) ? cc : null);
            }
        }
        if (m.ToolCalls is { Count: > 0 } calls)
        {
            foreach (var call in calls)
            {
                var id = ToolUseId(call.Id ?? Guid.NewGuid().ToString());
                toolUseIds ??= new HashSet<string>(StringComparer.Ordinal);
                if (!toolUseIds.Add(id)) continue; // LiteLLM drops a repeated tool_use id within one merged turn
                WriteToolUse(w, id, call.Function?.Name ?? "", call.Function?.Arguments, ExtraOf(call.Extra, "cache_control"));
            }
        }
        else if (m.FunctionCall is { ValueKind: JsonValueKind.Object } fc)
        {
            var name = fc.TryGetProperty("name", out var n) ? n.GetString() ?? "" : "";
            var args = fc.TryGetProperty("arguments", out var a) ? a.GetString() : null;
            WriteToolUse(w, ToolUseId(Guid.NewGuid().ToString()), name, args, null);
        }
    }

    private static void WriteAssistantText(Utf8JsonWriter w, string text, bool isFinal, JsonElement? cacheControl)
    {
        // Anthropic rejects a final assistant (prefill) turn ending in whitespace.
        if (isFinal) text = text.TrimEnd();
        if (text.Length == 0) return;
        w.WriteStartObject();
        w.WriteString("type"u8, "text"u8);
        w.WriteString("text"u8, text);
        WriteCacheControl(w, cacheControl);
        w.WriteEndObject();
    }

    private static void WriteToolUse(Utf8JsonWriter w, string id, string name, string? arguments, JsonElement? cacheControl)
    {
        w.WriteStartObject();
        w.WriteString("type"u8, "tool_use"u8);
        w.WriteString("id"u8, id);
        w.WriteString("name"u8, name);
        w.WritePropertyName("input"u8);
        if (string.IsNullOrWhiteSpace(arguments))
        {
            w.WriteStartObject();
            w.WriteEndObject();
        }
        else
        {
            try
            {
                using var doc = JsonDocument.Parse(arguments);
                doc.RootElement.WriteTo(w);
            }
            catch (JsonException)
            {
                throw LlmError.Invalid($"tool call `{name}` has arguments that are not valid JSON; anthropic needs them as a JSON object", "messages").ToException();
            }
        }
        WriteCacheControl(w, cacheControl);
        w.WriteEndObject();
    }

    /// <summary>Anthropic tool ids allow only <c>[a-zA-Z0-9_-]</c>.</summary>
    internal static string ToolUseId(string id) => ToolIdInvalidChars().Replace(id, "_");

    [GeneratedRegex("[^a-zA-Z0-9_-]")]
    private static partial Regex ToolIdInvalidChars();

    private static void WriteSystem(Utf8JsonWriter w, List<ChatMessage> messages)
    {
        var started = false;
        foreach (var m in messages)
        {
            if (!IsSystem(m) || m.Content is not { } c) continue;
            if (c.ValueKind == JsonValueKind.String)
            {
                WriteSystemBlock(w, c.GetString(), ExtraOf(m.Extra, "cache_control"), ref started);
            }
            else if (c.ValueKind == JsonValueKind.Array)
            {
                foreach (var part in c.EnumerateArray())
                {
                    if (!part.TryGetProperty("type", out var pt) || !pt.ValueEquals("text")) continue;
                    WriteSystemBlock(w, part.TryGetProperty("text", out var tx) ? tx.GetString() : null, part.TryGetProperty("cache_control", out var cc) ? cc : null, ref started);
                }
            }
        }
        if (started) w.WriteEndArray();
    }

    private static void WriteSystemBlock(Utf8JsonWriter w, string? text, JsonElement? cacheControl, ref bool started)
    {
        if (string.IsNullOrEmpty(text) || text.StartsWith("x-anthropic-billing-header:", StringComparison.Ordinal)) return;
        if (!started)
        {
            w.WriteStartArray("system"u8);
            started = true;
        }
        w.WriteStartObject();
        w.WriteString("type"u8, "text"u8);
        w.WriteString("text"u8, text);
        WriteCacheControl(w, cacheControl);
        w.WriteEndObject();
    }

    private static void WriteCacheControl(Utf8JsonWriter w, JsonElement part)
    {
        if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("cache_control", out var cc)) WriteCacheControl(w, cc);
    }

    private static void WriteCacheControl(Utf8JsonWriter w, JsonElement? cacheControl)
    {
        if (cacheControl is not { } cc || cc.ValueKind == JsonValueKind.Null) return;
        w.WritePropertyName("cache_control"u8);
        cc.WriteTo(w);
    }

    // ---- parameters ----

    private static int MaxTokens(ChatRequest chat, string model, LlmContext context, int? thinkingBudget)
    {
        if (chat.MaxTokens is { } mt && !context.IsDropped("max_tokens")) return Math.Max(1, mt);
        if (chat.MaxCompletionTokens is { } mct && !context.IsDropped("max_completion_tokens")) return Math.Max(1, mct);
        if (thinkingBudget is { } budget) return budget + AnthropicModels.ThinkingHeadroom;
        return AnthropicModels.DefaultMaxTokensFor(model);
    }

    /// <summary>The <c>thinking</c> object to send: the caller's, or one mapped from reasoning_effort.</summary>
    private static JsonElement? ThinkingFor(ChatRequest chat, string model, LlmContext context, out int? budget)
    {
        budget = null;
        JsonElement? thinking = null;
        if (Extra(chat, "thinking") is { ValueKind: JsonValueKind.Object } given && !context.IsDropped("thinking"))
        {
            thinking = given;
        }
        else if (chat.ReasoningEffort is { } effort && !context.IsDropped("reasoning_effort"))
        {
            thinking = MapReasoningEffort(effort, model);
        }
        if (thinking is { } th && th.TryGetProperty("type", out var type) && type.ValueEquals("enabled")
            && th.TryGetProperty("budget_tokens", out var b) && b.TryGetInt32(out var n))
        {
            budget = n;
        }
        return thinking;
    }

    private static readonly JsonElement Adaptive = Parse("""{"type":"adaptive"}""");
    private static readonly JsonElement Minimal = Parse("""{"type":"enabled","budget_tokens":128}""");
    private static readonly JsonElement Low = Parse("""{"type":"enabled","budget_tokens":1024}""");
    private static readonly JsonElement Medium = Parse("""{"type":"enabled","budget_tokens":2048}""");
    private static readonly JsonElement High = Parse("""{"type":"enabled","budget_tokens":4096}""");

    private static JsonElement Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.Clone();
    }

    internal static JsonElement? MapReasoningEffort(string effort, string model)
    {
        if (effort == "none") return null;
        if (AnthropicModels.IsAdaptiveThinking(model)) return Adaptive;
        return effort switch
        {
            "minimal" => Minimal,
            "low" => Low,
            "medium" => Medium,
            "high" => High,
            _ => throw LlmError.Invalid($"reasoning_effort `{effort}` is not one of none, minimal, low, medium, high", "reasoning_effort").ToException(),
        };
    }

    private static void WriteStopSequences(Utf8JsonWriter w, ChatRequest chat, LlmContext context)
    {
        if (context.IsDropped("stop")) return;
        var stops = chat.StopSequences();
        var started = false;
        foreach (var s in stops)
        {
            // Anthropic rejects whitespace-only stop sequences; LiteLLM removes them only under drop_params.
            if (context.DropParams && string.IsNullOrWhiteSpace(s)) continue;
            if (!started) { w.WriteStartArray("stop_sequences"u8); started = true; }
            w.WriteStringValue(s);
        }
        if (started) w.WriteEndArray();
    }

    private static void WriteTools(Utf8JsonWriter w, ChatRequest chat, LlmContext context, bool jsonTool, ICollection<string> betas)
    {
        var tools = context.IsDropped("tools") ? null : chat.Tools;
        var webSearch = context.IsDropped("web_search_options") ? null : Extra(chat, "web_search_options");
        if (tools is not { Count: > 0 } && !jsonTool && webSearch is not { ValueKind: JsonValueKind.Object }) return;
        w.WriteStartArray("tools"u8);
        if (tools is not null)
        {
            foreach (var tool in tools) WriteTool(w, tool, betas);
        }
        if (jsonTool)
        {
            w.WriteStartObject();
            w.WriteString("name"u8, JsonToolName);
            w.WritePropertyName("input_schema"u8);
            JsonSchemaOf(chat.ResponseFormat!.Value)!.Value.WriteTo(w);
            w.WriteEndObject();
        }
        if (webSearch is { ValueKind: JsonValueKind.Object } ws) WriteWebSearchTool(w, ws);
        w.WriteEndArray();
    }

    private static void WriteTool(Utf8JsonWriter w, ToolDefinition tool, ICollection<string> betas)
    {
        var type = tool.Type ?? "function";
        if (type is "function" or "custom")
        {
            var fn = tool.Function ?? throw LlmError.Invalid("a function tool needs a `function` object", "tools").ToException();
            w.WriteStartObject();
            w.WriteString("name"u8, fn.Name);
            w.WriteStartObject("input_schema"u8);
            if (fn.Parameters is { ValueKind: JsonValueKind.Object } ps)
            {
                foreach (var prop in ps.EnumerateObject())
                {
                    if (Array.IndexOf(InputSchemaKeys, prop.Name) >= 0) prop.WriteTo(w);
                }
            }
            else
            {
                w.WriteString("type"u8, "object"u8);
                w.WriteStartObject("properties"u8);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            if (fn.Description is not null) w.WriteString("description"u8, fn.Description);
            foreach (var key in ToolExtraKeys)
            {
                var value = ExtraOf(tool.Extra, key) ?? ExtraOf(fn.Extra, key);
                if (value is not { } v) continue;
                w.WritePropertyName(key);
                v.WriteTo(w);
                if (key is "defer_loading" or "input_examples") AddBeta(betas, "advanced-tool-use-2025-11-20");
            }
            w.WriteEndObject();
            return;
        }
        if (type.StartsWith("computer_", StringComparison.Ordinal))
        {
            var ps = tool.Function?.Parameters;
            if (ps is not { ValueKind: JsonValueKind.Object } p || !p.TryGetProperty("display_width_px", out var width) || !p.TryGetProperty("display_height_px", out var height))
                throw LlmError.Invalid($"tool `{type}` needs function.parameters.display_width_px and display_height_px", "tools").ToException();
            w.WriteStartObject();
            w.WriteString("type"u8, type);
            w.WriteString("name"u8, tool.Function?.Name ?? "computer");
            w.WritePropertyName("display_width_px"u8);
            width.WriteTo(w);
            w.WritePropertyName("display_height_px"u8);
            height.WriteTo(w);
            if (p.TryGetProperty("display_number", out var dn)) { w.WritePropertyName("display_number"u8); dn.WriteTo(w); }
            w.WriteEndObject();
            AddBeta(betas, type == "computer_20250124" ? "computer-use-2025-01-24" : "computer-use-2024-10-22");
            return;
        }
        foreach (var prefix in HostedToolPrefixes)
        {
            if (!type.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var name = ExtraOf(tool.Extra, "name")?.GetString() ?? tool.Function?.Name
                ?? throw LlmError.Invalid($"tool `{type}` needs a name", "tools").ToException();
            w.WriteStartObject();
            w.WriteString("type"u8, type);
            w.WriteString("name"u8, name);
            if (tool.Extra is { } extra)
            {
                foreach (var (k, v) in extra)
                {
                    if (k == "name") continue;
                    w.WritePropertyName(k);
                    v.WriteTo(w);
                }
            }
            w.WriteEndObject();
            if (type == "code_execution_20250825") AddBeta(betas, "code-execution-2025-08-25");
            else if (prefix == "web_fetch") AddBeta(betas, "web-fetch-2025-09-10");
            else if (prefix == "memory") AddBeta(betas, "context-management-2025-06-27");
            return;
        }
        throw LlmError.Invalid($"tool type `{type}` is not supported by anthropic; use function tools or an Anthropic hosted tool type", "tools").ToException();
    }

    private static void WriteWebSearchTool(Utf8JsonWriter w, JsonElement options)
    {
        w.WriteStartObject();
        w.WriteString("type"u8, "web_search_20250305"u8);
        w.WriteString("name"u8, "web_search"u8);
        if (options.TryGetProperty("user_location", out var loc) && loc.ValueKind == JsonValueKind.Object)
        {
            w.WriteStartObject("user_location"u8);
            w.WriteString("type"u8, "approximate"u8);
            if (loc.TryGetProperty("approximate", out var approx) && approx.ValueKind == JsonValueKind.Object)
            {
                foreach (var key in (ReadOnlySpan<string>)["city", "region", "country", "timezone"])
                {
                    if (approx.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String) w.WriteString(key, v.GetString());
                }
            }
            w.WriteEndObject();
        }
        if (options.TryGetProperty("search_context_size", out var size) && size.ValueKind == JsonValueKind.String)
        {
            var uses = size.GetString() switch { "low" => 1, "medium" => 5, "high" => 10, _ => 0 };
            if (uses > 0) w.WriteNumber("max_uses"u8, uses);
        }
        w.WriteEndObject();
    }

    private static void WriteToolChoice(Utf8JsonWriter w, ChatRequest chat, LlmContext context, bool jsonTool, bool thinking)
    {
        if (jsonTool && !thinking)
        {
            // LiteLLM forces the json tool, replacing any tool_choice the caller gave.
            w.WriteStartObject("tool_choice"u8);
            w.WriteString("name"u8, JsonToolName);
            w.WriteString("type"u8, "tool"u8);
            w.WriteEndObject();
            return;
        }
        string? type = null, name = null;
        var isNone = false;
        if (chat.ToolChoice is { } tc && !context.IsDropped("tool_choice"))
        {
            if (tc.ValueKind == JsonValueKind.String)
            {
                var s = tc.GetString();
                isNone = s == "none";
                type = s switch { "auto" => "auto", "required" => "any", "none" => "none", _ => null };
            }
            else if (tc.ValueKind == JsonValueKind.Object)
            {
                if (tc.TryGetProperty("function", out var fn) && fn.ValueKind == JsonValueKind.Object)
                {
                    if (fn.TryGetProperty("name", out var n)) { type = "tool"; name = n.GetString(); }
                }
                else if (tc.TryGetProperty("type", out var t))
                {
                    type = t.GetString() switch { "auto" => "auto", "required" or "any" => "any", "none" => "none", _ => null };
                }
            }
        }
        bool? disableParallel = null;
        if (chat.ParallelToolCalls is { } parallel && !context.IsDropped("parallel_tool_calls") && !isNone)
        {
            disableParallel = !parallel;
            type ??= "auto";
        }
        if (type is null) return;
        w.WriteStartObject("tool_choice"u8);
        w.WriteString("type"u8, type);
        if (name is not null) w.WriteString("name"u8, name);
        if (disableParallel is { } d) w.WriteBoolean("disable_parallel_tool_use"u8, d);
        w.WriteEndObject();
    }

    private static void WriteMetadata(Utf8JsonWriter w, ChatRequest chat, LlmContext context)
    {
        string? userId = null;
        if (chat.User is { } user && !context.IsDropped("user") && IsValidUserId(user)) userId = user;
        // LiteLLM also reads metadata.user_id (litellm_params.metadata), and it wins.
        if (Extra(chat, "metadata") is { ValueKind: JsonValueKind.Object } md && md.TryGetProperty("user_id", out var uid)
            && uid.ValueKind == JsonValueKind.String && IsValidUserId(uid.GetString()!))
        {
            userId = uid.GetString();
        }
        if (userId is null) return;
        w.WriteStartObject("metadata"u8);
        w.WriteString("user_id"u8, userId);
        w.WriteEndObject();
    }

    /// <summary>Anthropic rejects user ids that look like an e-mail address or a phone number.</summary>
    internal static bool IsValidUserId(string userId) => !EmailPattern().IsMatch(userId) && !PhonePattern().IsMatch(userId);

    [GeneratedRegex(@"^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$")]
    private static partial Regex EmailPattern();

    [GeneratedRegex(@"^\+?[\d\s\(\)-]{7,}$")]
    private static partial Regex PhonePattern();

    private static void WriteOutputFormat(Utf8JsonWriter w, ChatRequest chat, string model, LlmContext context, ICollection<string> betas)
    {
        if (chat.ResponseFormat is not { ValueKind: JsonValueKind.Object } rf || context.IsDropped("response_format")) return;
        if (!AnthropicModels.SupportsOutputFormat(model) || JsonSchemaOf(rf) is not { } schema) return;
        w.WriteStartObject("output_format"u8);
        w.WriteString("type"u8, "json_schema"u8);
        w.WritePropertyName("schema"u8);
        AnthropicSchemaFilter.Write(w, schema);
        w.WriteEndObject();
        AddBeta(betas, "structured-outputs-2025-11-13");
    }

    private static void WriteOutputConfig(Utf8JsonWriter w, ChatRequest chat, string model, LlmContext context, ICollection<string> betas)
    {
        if (Extra(chat, "output_config") is not { ValueKind: JsonValueKind.Object } oc || context.IsDropped("output_config")) return;
        if (oc.TryGetProperty("effort", out var effort) && effort.ValueKind == JsonValueKind.String)
        {
            var e = effort.GetString();
            if (e is not ("high" or "medium" or "low" or "max"))
                throw LlmError.Invalid($"output_config.effort `{e}` must be one of high, medium, low, max", "output_config").ToException();
            if (e == "max" && !AnthropicModels.IsAdaptiveThinking(model))
                throw LlmError.Invalid($"output_config.effort `max` is only supported by Claude 4.6 models, not `{model}`", "output_config").ToException();
            AddBeta(betas, "effort-2025-11-24");
        }
        w.WritePropertyName("output_config"u8);
        oc.WriteTo(w);
    }

    private static void WriteContextManagement(Utf8JsonWriter w, ChatRequest chat, LlmContext context, ICollection<string> betas)
    {
        if (Extra(chat, "context_management") is not { } cm || context.IsDropped("context_management")) return;
        if (cm.ValueKind == JsonValueKind.Object)
        {
            w.WritePropertyName("context_management"u8);
            cm.WriteTo(w);
            var compaction = false;
            var other = false;
            if (cm.TryGetProperty("edits", out var edits) && edits.ValueKind == JsonValueKind.Array)
            {
                foreach (var e in edits.EnumerateArray())
                {
                    if (e.TryGetProperty("type", out var et) && et.ValueKind == JsonValueKind.String && et.GetString()!.StartsWith("compact", StringComparison.Ordinal)) compaction = true;
                    else other = true;
                }
            }
            if (compaction) AddBeta(betas, "compact-2026-01-12");
            if (other) AddBeta(betas, "context-management-2025-06-27");
            return;
        }
        if (cm.ValueKind != JsonValueKind.Array) return;
        var started = false;
        foreach (var e in cm.EnumerateArray())
        {
            if (!e.TryGetProperty("type", out var et) || !et.ValueEquals("compaction")) continue;
            if (!started)
            {
                w.WriteStartObject("context_management"u8);
                w.WriteStartArray("edits"u8);
                started = true;
            }
            w.WriteStartObject();
            w.WriteString("type"u8, "compact_20260112"u8);
            if (e.TryGetProperty("compact_threshold", out var threshold))
            {
                w.WriteStartObject("trigger"u8);
                w.WriteString("type"u8, "input_tokens"u8);
                w.WritePropertyName("value"u8);
                threshold.WriteTo(w);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        if (started)
        {
            w.WriteEndArray();
            w.WriteEndObject();
            AddBeta(betas, "compact-2026-01-12");
        }
    }

    private static void WriteExtra(Utf8JsonWriter w, ChatRequest chat, LlmContext context, string name)
    {
        if (Extra(chat, name) is not { } v || context.IsDropped(name)) return;
        w.WritePropertyName(name);
        v.WriteTo(w);
    }

    private static JsonElement? Extra(ChatRequest chat, string name) => ExtraOf(chat.Extra, name);

    private static JsonElement? ExtraOf(Dictionary<string, JsonElement>? extra, string name) =>
        extra is not null && extra.TryGetValue(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    private static void AddBeta(ICollection<string> betas, string beta)
    {
        if (!betas.Contains(beta)) betas.Add(beta);
    }
}
