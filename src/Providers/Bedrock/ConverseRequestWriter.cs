using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Bedrock;

/// <summary>
/// Writes a Converse / ConverseStream body from an OpenAI chat request, with LiteLLM's rules: system messages
/// lifted into <c>system</c>, consecutive user and tool turns merged, images and documents as bytes, tool calls
/// as <c>toolUse</c>, tool results as <c>toolResult</c>, sampling in <c>inferenceConfig</c>, and everything
/// model-specific in <c>additionalModelRequestFields</c>. Only Converse fields are written.
/// </summary>
internal static class ConverseRequestWriter
{
    /// <summary>The tool LiteLLM adds to carry <c>response_format</c> on Converse.</summary>
    public const string JsonToolName = "json_tool_call";

    public static void Write(LlmContext context, BedrockModel model, PooledBuffer output)
    {
        var chat = context.Chat!;
        using var w = new Utf8JsonWriter(output);
        w.WriteStartObject();

        WriteMessagesAndSystem(w, chat);

        var thinkingBudget = WriteableThinking(context, chat, model, out var thinkingJson);
        WriteInferenceConfig(w, context, chat, thinkingBudget);
        var jsonMode = UsesJsonTool(context);
        WriteToolConfig(w, context, chat, jsonMode, forcedAllowed: thinkingBudget is null && thinkingJson is null);
        WriteAdditionalFields(w, context, chat, model, thinkingJson, thinkingBudget);
        WritePassThroughBlocks(w, context, chat);

        w.WriteEndObject();
        w.Flush();
    }

    /// <summary>True when <c>response_format</c> asks for JSON and is carried by the forced <c>json_tool_call</c> tool.</summary>
    public static bool UsesJsonTool(LlmContext context)
    {
        if (context.IsDropped("response_format")) return false;
        if (context.Chat?.ResponseFormat is not { ValueKind: JsonValueKind.Object } rf) return false;
        return rf.TryGetProperty("type", out var t) && (t.ValueEquals("json_object") || t.ValueEquals("json_schema"));
    }

    // ---- messages ----

    private enum TurnRole { None, User, Assistant }

    private static void WriteMessagesAndSystem(Utf8JsonWriter w, ChatRequest chat)
    {
        var messages = chat.Messages ?? [];
        var wroteSystem = false;
        foreach (var m in messages)
        {
            if (m.Role is not ("system" or "developer")) continue;
            if (!wroteSystem) { w.WriteStartArray("system"u8); wroteSystem = true; }
            WriteSystemBlocks(w, m);
        }
        if (wroteSystem) w.WriteEndArray();

        w.WriteStartArray("messages"u8);
        var open = TurnRole.None;
        foreach (var m in messages)
        {
            var role = m.Role switch
            {
                "assistant" => TurnRole.Assistant,
                "user" or "tool" or "function" => TurnRole.User,
                _ => TurnRole.None,
            };
            if (role == TurnRole.None) continue;
            if (role != open)
            {
                if (open != TurnRole.None) { w.WriteEndArray(); w.WriteEndObject(); }
                w.WriteStartObject();
                w.WriteString("role"u8, role == TurnRole.User ? "user"u8 : "assistant"u8);
                w.WriteStartArray("content"u8);
                open = role;
            }
            if (m.Role == "assistant") WriteAssistantBlocks(w, m);
            else if (m.Role is "tool" or "function") WriteToolResult(w, m);
            else WriteUserBlocks(w, m);
            if (HasCacheControl(m.Extra)) WriteCachePoint(w);
        }
        if (open != TurnRole.None) { w.WriteEndArray(); w.WriteEndObject(); }
        w.WriteEndArray();
    }

    private static void WriteSystemBlocks(Utf8JsonWriter w, ChatMessage m)
    {
        if (m.Content is not { } c) return;
        if (c.ValueKind == JsonValueKind.String)
        {
            var text = c.GetString();
            if (string.IsNullOrEmpty(text)) return;
            w.WriteStartObject();
            w.WriteString("text"u8, text);
            w.WriteEndObject();
            if (HasCacheControl(m.Extra)) WriteCachePoint(w);
            return;
        }
        if (c.ValueKind != JsonValueKind.Array) return;
        foreach (var part in c.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("text", out var t) || t.ValueKind != JsonValueKind.String) continue;
            if (t.GetString() is not { Length: > 0 } text) continue;
            w.WriteStartObject();
            w.WriteString("text"u8, text);
            w.WriteEndObject();
            if (part.TryGetProperty("cache_control", out var cc) && cc.ValueKind == JsonValueKind.Object) WriteCachePoint(w);
        }
    }

    private static void WriteUserBlocks(Utf8JsonWriter w, ChatMessage m)
    {
        if (m.Content is not { } c) return;
        if (c.ValueKind == JsonValueKind.String)
        {
            w.WriteStartObject();
            w.WriteString("text"u8, c.GetString());
            w.WriteEndObject();
            return;
        }
        if (c.ValueKind != JsonValueKind.Array) return;
        foreach (var part in c.EnumerateArray()) WriteContentPart(w, part);
    }

    private static void WriteContentPart(Utf8JsonWriter w, JsonElement part)
    {
        if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type)) return;
        if (type.ValueEquals("text"))
        {
            if (!part.TryGetProperty("text", out var t) || t.ValueKind != JsonValueKind.String) return;
            w.WriteStartObject();
            w.WriteString("text"u8, t.GetString());
            w.WriteEndObject();
        }
        else if (type.ValueEquals("image_url"))
        {
            var image = part.GetProperty("image_url");
            var url = image.ValueKind == JsonValueKind.String ? image.GetString() : image.TryGetProperty("url", out var u) ? u.GetString() : null;
            var mimeOverride = image.ValueKind == JsonValueKind.Object && image.TryGetProperty("format", out var f) ? f.GetString() : null;
            WriteMedia(w, url, mimeOverride);
        }
        else if (type.ValueEquals("file"))
        {
            var file = part.GetProperty("file");
            var data = file.TryGetProperty("file_data", out var fd) ? fd.GetString() : null;
            var mimeOverride = file.TryGetProperty("format", out var f) ? f.GetString() : null;
            if (data is null)
                throw LlmError.Invalid("bedrock takes files as bytes: send file.file_data as a base64 data: URI (file_id is not supported)", "messages").ToException();
            WriteMedia(w, data, mimeOverride);
        }
        else
        {
            throw LlmError.Invalid($"content part type `{type.GetString()}` is not supported by bedrock; send text, image_url or file parts", "messages").ToException();
        }
        if (part.TryGetProperty("cache_control", out var cc) && cc.ValueKind == JsonValueKind.Object) WriteCachePoint(w);
    }

    /// <summary>An image or document from a base64 <c>data:</c> URI (Converse takes bytes, not URLs).</summary>
    private static void WriteMedia(Utf8JsonWriter w, string? url, string? mimeOverride)
    {
        if (url is null || !url.StartsWith("data:", StringComparison.Ordinal))
        {
            throw LlmError.Invalid("bedrock takes images and documents as bytes: send them as base64 data: URIs (data:image/png;base64,...); LLMux does not download http(s) URLs", "messages").ToException();
        }
        var comma = url.IndexOf(',');
        var header = comma > 5 ? url[5..comma] : "";
        if (comma < 0 || !header.EndsWith(";base64", StringComparison.Ordinal))
            throw LlmError.Invalid("a data: URI for bedrock must be base64-encoded (data:<mime>;base64,<data>)", "messages").ToException();
        var mime = (mimeOverride ?? header[..^";base64".Length]).ToLowerInvariant();
        var data = url.AsSpan(comma + 1);

        if (mime.StartsWith("image/", StringComparison.Ordinal))
        {
            var format = mime[6..] switch
            {
                "jpg" or "jpeg" => "jpeg",
                "png" => "png",
                "gif" => "gif",
                "webp" => "webp",
                var other => throw LlmError.Invalid($"image type `{other}` is not supported by bedrock; send png, jpeg, gif or webp", "messages").ToException(),
            };
            w.WriteStartObject();
            w.WriteStartObject("image"u8);
            w.WriteString("format"u8, format);
            w.WriteStartObject("source"u8);
            w.WriteString("bytes"u8, data);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            return;
        }
        var docFormat = DocumentFormat(mime)
            ?? throw LlmError.Invalid($"file type `{mime}` is not supported by bedrock; send pdf, csv, doc, docx, xls, xlsx, html, txt or md", "messages").ToException();
        w.WriteStartObject();
        w.WriteStartObject("document"u8);
        w.WriteString("format"u8, docFormat);
        w.WriteString("name"u8, DocumentName(data, docFormat));
        w.WriteStartObject("source"u8);
        w.WriteString("bytes"u8, data);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>LiteLLM's stable name: sha256 of the first 64 KiB of the base64 text plus its length, 16 hex digits.</summary>
    private static string DocumentName(ReadOnlySpan<char> base64, string format)
    {
        const int sampleBytes = 64 * 1024;
        var normalized = Encoding.UTF8.GetBytes(string.Concat(base64.ToString().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)));
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(normalized, 0, Math.Min(normalized.Length, sampleBytes));
        hash.AppendData(Encoding.UTF8.GetBytes(normalized.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        return string.Concat("DocumentPDFmessages_", Convert.ToHexStringLower(hash.GetHashAndReset())[..16], "_", format);
    }

    private static string? DocumentFormat(string mime) => mime switch
    {
        "application/pdf" => "pdf",
        "text/csv" => "csv",
        "application/msword" => "doc",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
        "application/vnd.ms-excel" => "xls",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
        "text/html" => "html",
        "text/plain" => "txt",
        "text/markdown" => "md",
        _ => null,
    };

    private static void WriteToolResult(Utf8JsonWriter w, ChatMessage m)
    {
        w.WriteStartObject();
        w.WriteStartObject("toolResult"u8);
        w.WriteString("toolUseId"u8, m.ToolCallId ?? m.Name ?? "");
        w.WriteStartArray("content"u8);
        if (m.Content is { ValueKind: JsonValueKind.Array } parts)
        {
            foreach (var part in parts.EnumerateArray())
            {
                if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("type", out var t) && t.ValueEquals("image_url")) WriteContentPart(w, part);
                else if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var tx) && tx.ValueKind == JsonValueKind.String)
                {
                    w.WriteStartObject();
                    w.WriteString("text"u8, tx.GetString());
                    w.WriteEndObject();
                }
            }
        }
        else
        {
            w.WriteStartObject();
            w.WriteString("text"u8, m.TextContent() ?? "");
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteAssistantBlocks(Utf8JsonWriter w, ChatMessage m)
    {
        if (m.ThinkingBlocks is { ValueKind: JsonValueKind.Array } blocks)
        {
            foreach (var b in blocks.EnumerateArray())
            {
                if (b.ValueKind != JsonValueKind.Object) continue;
                w.WriteStartObject();
                w.WriteStartObject("reasoningContent"u8);
                if (b.TryGetProperty("type", out var bt) && bt.ValueEquals("redacted_thinking"))
                {
                    w.WriteString("redactedContent"u8, b.TryGetProperty("data", out var d) ? d.GetString() : "");
                }
                else
                {
                    w.WriteStartObject("reasoningText"u8);
                    w.WriteString("text"u8, b.TryGetProperty("thinking", out var th) ? th.GetString() : "");
                    if (b.TryGetProperty("signature", out var sig) && sig.ValueKind == JsonValueKind.String) w.WriteString("signature"u8, sig.GetString());
                    w.WriteEndObject();
                }
                w.WriteEndObject();
                w.WriteEndObject();
            }
        }
        if (m.Content is { ValueKind: JsonValueKind.String } s)
        {
            var text = s.GetString();
            if (!string.IsNullOrWhiteSpace(text))
            {
                w.WriteStartObject();
                w.WriteString("text"u8, text);
                w.WriteEndObject();
            }
        }
        else if (m.Content is { ValueKind: JsonValueKind.Array } parts)
        {
            foreach (var part in parts.EnumerateArray())
            {
                if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(t.GetString()))
                {
                    w.WriteStartObject();
                    w.WriteString("text"u8, t.GetString());
                    w.WriteEndObject();
                }
            }
        }
        if (m.ToolCalls is not { Count: > 0 } calls) return;
        foreach (var call in calls)
        {
            var name = BedrockToolNames.Sanitise(call.Function?.Name ?? "");
            var inputs = ArgumentObjects(call.Function?.Arguments);
            for (var i = 0; i < inputs.Count; i++)
            {
                w.WriteStartObject();
                w.WriteStartObject("toolUse"u8);
                // Several JSON objects in one arguments string are several calls (LiteLLM): id, id_1, id_2…
                w.WriteString("toolUseId"u8, i == 0 ? call.Id ?? "" : string.Concat(call.Id, "_", i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                w.WriteString("name"u8, name);
                w.WritePropertyName("input"u8);
                if (inputs[i] is { } input) input.WriteTo(w);
                else { w.WriteStartObject(); w.WriteEndObject(); }
                w.WriteEndObject();
                w.WriteEndObject();
            }
        }
    }

    /// <summary>Tool-call arguments as JSON objects (usually one); empty or invalid arguments give one <c>{}</c> (null).</summary>
    private static List<JsonElement?> ArgumentObjects(string? arguments)
    {
        var list = new List<JsonElement?>(1);
        if (!string.IsNullOrWhiteSpace(arguments))
        {
            try
            {
                var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(arguments), new JsonReaderOptions { AllowMultipleValues = true });
                while (reader.Read())
                {
                    if (reader.TokenType != JsonTokenType.StartObject) { list.Clear(); break; }
                    list.Add(JsonElement.ParseValue(ref reader));
                }
            }
            catch (JsonException)
            {
                list.Clear();
            }
        }
        if (list.Count == 0) list.Add(null);
        return list;
    }

    private static bool HasCacheControl(Dictionary<string, JsonElement>? extra) =>
        extra is not null && extra.TryGetValue("cache_control", out var cc) && cc.ValueKind == JsonValueKind.Object;

    private static void WriteCachePoint(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteStartObject("cachePoint"u8);
        w.WriteString("type"u8, "default"u8);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    // ---- inferenceConfig ----

    private static void WriteInferenceConfig(Utf8JsonWriter w, LlmContext context, ChatRequest chat, int? thinkingBudget)
    {
        int? maxTokens = null;
        if (!context.IsDropped("max_completion_tokens") && chat.MaxCompletionTokens is { } mct) maxTokens = mct;
        else if (!context.IsDropped("max_tokens") && chat.MaxTokens is { } mt) maxTokens = mt;
        if (maxTokens is null && thinkingBudget is { } budget) maxTokens = budget + 4096;

        var stops = context.IsDropped("stop") ? [] : chat.StopSequences();
        var hasStops = false;
        foreach (var s in stops) if (s.Length > 0) hasStops = true;
        var temperature = context.IsDropped("temperature") ? null : chat.Temperature;
        var topP = context.IsDropped("top_p") ? null : chat.TopP;
        if (maxTokens is null && temperature is null && topP is null && !hasStops) return;

        w.WriteStartObject("inferenceConfig"u8);
        if (maxTokens is { } max) w.WriteNumber("maxTokens"u8, max);
        if (temperature is { } temp) w.WriteNumber("temperature"u8, temp);
        if (topP is { } p) w.WriteNumber("topP"u8, p);
        if (hasStops)
        {
            w.WriteStartArray("stopSequences"u8);
            foreach (var s in stops) if (s.Length > 0) w.WriteStringValue(s);
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    // ---- toolConfig ----

    private static void WriteToolConfig(Utf8JsonWriter w, LlmContext context, ChatRequest chat, bool jsonMode, bool forcedAllowed)
    {
        var tools = context.IsDropped("tools") ? null : chat.Tools;
        var hasTools = tools is { Count: > 0 };
        if (!hasTools && !jsonMode) return;

        w.WriteStartObject("toolConfig"u8);
        w.WriteStartArray("tools"u8);
        if (hasTools)
        {
            foreach (var tool in tools!)
            {
                if (tool.Function is not { } fn) continue;
                var name = BedrockToolNames.Sanitise(fn.Name ?? "");
                WriteToolSpec(w, name, string.IsNullOrEmpty(fn.Description) ? name : fn.Description, fn.Parameters);
                if (tool.Extra is { } extra && extra.TryGetValue("cache_control", out var cc) && cc.ValueKind == JsonValueKind.Object) WriteCachePoint(w);
            }
        }
        if (jsonMode) WriteToolSpec(w, JsonToolName, "Respond with a JSON object.", JsonSchemaOf(chat.ResponseFormat!.Value));
        w.WriteEndArray();

        if (jsonMode)
        {
            // LiteLLM forces the JSON tool unless thinking is on (Anthropic refuses forced tools with thinking).
            if (forcedAllowed) WriteNamedChoice(w, JsonToolName);
            else WriteChoice(w, "auto"u8);
        }
        else if (!context.IsDropped("tool_choice") && chat.ToolChoice is { } choice && choice.ValueKind != JsonValueKind.Null)
        {
            WriteToolChoice(w, context, choice, forcedAllowed);
        }
        w.WriteEndObject();
    }

    private static void WriteToolChoice(Utf8JsonWriter w, LlmContext context, JsonElement choice, bool forcedAllowed)
    {
        if (choice.ValueKind == JsonValueKind.String)
        {
            if (choice.ValueEquals("auto")) WriteChoice(w, "auto"u8);
            else if (choice.ValueEquals("required")) WriteChoice(w, forcedAllowed ? "any"u8 : "auto"u8);
            else if (choice.ValueEquals("none"))
            {
                // Converse has no "none": LiteLLM drops it with drop_params and refuses it otherwise.
                if (!context.DropParams)
                {
                    throw new LlmError
                    {
                        Kind = ErrorKind.UnsupportedParam,
                        Message = "tool_choice `none` is not supported by bedrock (Converse has auto, any and tool); remove it, or set drop_params: true to drop it with a warning",
                        Param = "tool_choice",
                        Code = "unsupported_parameter",
                        Provider = "bedrock",
                    }.ToException();
                }
                context.AddDroppedParam("tool_choice");
            }
            return;
        }
        if (choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("function", out var fn) && fn.TryGetProperty("name", out var n))
        {
            if (forcedAllowed) WriteNamedChoice(w, BedrockToolNames.Sanitise(n.GetString() ?? ""));
            else WriteChoice(w, "auto"u8);
        }
    }

    private static void WriteChoice(Utf8JsonWriter w, ReadOnlySpan<byte> kind)
    {
        w.WriteStartObject("toolChoice"u8);
        w.WriteStartObject(kind);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteNamedChoice(Utf8JsonWriter w, string name)
    {
        w.WriteStartObject("toolChoice"u8);
        w.WriteStartObject("tool"u8);
        w.WriteString("name"u8, name);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static JsonElement? JsonSchemaOf(JsonElement responseFormat)
    {
        if (responseFormat.TryGetProperty("json_schema", out var js) && js.ValueKind == JsonValueKind.Object
            && js.TryGetProperty("schema", out var schema) && schema.ValueKind == JsonValueKind.Object)
            return schema;
        return null;
    }

    private static void WriteToolSpec(Utf8JsonWriter w, string name, string description, JsonElement? parameters)
    {
        w.WriteStartObject();
        w.WriteStartObject("toolSpec"u8);
        w.WriteString("name"u8, name);
        w.WriteString("description"u8, description);
        w.WriteStartObject("inputSchema"u8);
        w.WritePropertyName("json"u8);
        BedrockToolSchema.Write(w, parameters);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    // ---- additionalModelRequestFields ----

    /// <summary>The thinking budget when thinking is on for a Claude model; <paramref name="thinkingJson"/> is an explicit non-budget block (adaptive).</summary>
    private static int? WriteableThinking(LlmContext context, ChatRequest chat, BedrockModel model, out JsonElement? thinkingJson)
    {
        thinkingJson = null;
        JsonElement thinking = default;
        var hasThinking = !context.IsDropped("thinking") && chat.Extra is { } extra && extra.TryGetValue("thinking", out thinking) && thinking.ValueKind == JsonValueKind.Object;
        if (hasThinking)
        {
            if (!model.SupportsThinking) { Unsupported(context, "thinking", model); return null; }
            if (thinking.TryGetProperty("type", out var type) && type.ValueEquals("enabled"))
            {
                var budget = thinking.TryGetProperty("budget_tokens", out var b) && b.TryGetInt32(out var v) ? v : 1024;
                return Math.Max(1024, budget);
            }
            if (thinking.TryGetProperty("type", out var t2) && t2.ValueEquals("adaptive")) thinkingJson = thinking;
            return null;
        }
        if (context.IsDropped("reasoning_effort") || chat.ReasoningEffort is not { } effort || !model.SupportsThinking) return null;
        return effort switch
        {
            "minimal" or "low" => 1024,
            "medium" => 2048,
            "high" => 4096,
            _ => null,
        };
    }

    private static void WriteAdditionalFields(Utf8JsonWriter w, LlmContext context, ChatRequest chat, BedrockModel model, JsonElement? thinkingJson, int? thinkingBudget)
    {
        var extra = chat.Extra;
        JsonElement clientFields = default;
        var hasClientFields = !context.IsDropped("additionalModelRequestFields") && extra is not null
            && extra.TryGetValue("additionalModelRequestFields", out clientFields) && clientFields.ValueKind == JsonValueKind.Object;

        var started = false;
        void Start()
        {
            if (started) return;
            started = true;
            w.WriteStartObject("additionalModelRequestFields"u8);
        }

        if (hasClientFields)
        {
            Start();
            foreach (var p in clientFields.EnumerateObject()) p.WriteTo(w);
        }

        if (!context.IsDropped("top_k") && extra is not null && extra.TryGetValue("top_k", out var topK) && topK.ValueKind == JsonValueKind.Number)
        {
            if (model.IsAnthropic) { Start(); w.WritePropertyName("top_k"u8); topK.WriteTo(w); }
            else if (model.IsNova)
            {
                Start();
                w.WriteStartObject("inferenceConfig"u8);
                w.WritePropertyName("topK"u8);
                topK.WriteTo(w);
                w.WriteEndObject();
            }
            else context.AddDroppedParam("top_k");
        }

        if (thinkingBudget is { } budget)
        {
            Start();
            w.WriteStartObject("thinking"u8);
            w.WriteString("type"u8, "enabled"u8);
            w.WriteNumber("budget_tokens"u8, budget);
            w.WriteEndObject();
        }
        else if (thinkingJson is not null)
        {
            // Adaptive: the model sizes its own reasoning; client-side fields such as `display` are not Bedrock's.
            Start();
            w.WriteStartObject("thinking"u8);
            w.WriteString("type"u8, "adaptive"u8);
            w.WriteEndObject();
        }

        if (!context.IsDropped("reasoning_effort") && chat.ReasoningEffort is { } effort && !model.SupportsThinking)
        {
            if (model.IsGptOss) { Start(); w.WriteString("reasoning_effort"u8, effort); }
            else if (model.IsNova2)
            {
                if (effort is not ("low" or "medium" or "high"))
                    throw LlmError.Invalid($"reasoning_effort `{effort}` is not supported by {model.BaseModel}; use low, medium or high", "reasoning_effort").ToException();
                Start();
                w.WriteStartObject("reasoningConfig"u8);
                w.WriteString("type"u8, "enabled"u8);
                w.WriteString("maxReasoningEffort"u8, effort);
                w.WriteEndObject();
            }
            else Unsupported(context, "reasoning_effort", model);
        }

        if (!context.IsDropped("parallel_tool_calls") && chat.ParallelToolCalls is { } parallel && chat.Tools is { Count: > 0 })
        {
            if (model.IsAnthropic)
            {
                Start();
                w.WriteStartObject("tool_choice"u8);
                w.WriteBoolean("disable_parallel_tool_use"u8, !parallel);
                w.WriteEndObject();
            }
            else context.AddDroppedParam("parallel_tool_calls");
        }
        if (started) w.WriteEndObject();
    }

    /// <summary>A mapped parameter this model family cannot take: dropped with drop_params, else a 400.</summary>
    private static void Unsupported(LlmContext context, string param, BedrockModel model)
    {
        if (context.DropParams || context.IsHint(param))
        {
            context.AddDroppedParam(param);
            return;
        }
        throw new LlmError
        {
            Kind = ErrorKind.UnsupportedParam,
            Message = $"parameter `{param}` is not supported by bedrock model {model.BaseModel}; remove it, or set drop_params: true to drop it with a warning",
            Param = param,
            Code = "unsupported_parameter",
            Provider = "bedrock",
        }.ToException();
    }

    private static void WritePassThroughBlocks(Utf8JsonWriter w, LlmContext context, ChatRequest chat)
    {
        if (!context.IsDropped("service_tier") && chat.Extra is { } e0 && e0.TryGetValue("service_tier", out var tier) && tier.ValueKind == JsonValueKind.String)
        {
            w.WriteStartObject("serviceTier"u8);
            w.WriteString("type"u8, tier.ValueEquals("auto") ? "default" : tier.GetString());
            w.WriteEndObject();
        }
        if (chat.Extra is not { } extra) return;
        foreach (var name in PassThrough)
        {
            if (context.IsDropped(name) || !extra.TryGetValue(name, out var value) || value.ValueKind != JsonValueKind.Object) continue;
            w.WritePropertyName(name);
            value.WriteTo(w);
        }
    }

    private static readonly string[] PassThrough = ["requestMetadata", "guardrailConfig", "performanceConfig"];
}
