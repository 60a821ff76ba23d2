using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;

namespace LLMux.Stages.Messages;

/// <summary>
/// Writes a validated Anthropic Messages request as an OpenAI chat-completions body, so that the standard
/// pipeline (validate, route, capability check, transform) serves it for any provider. Mapping follows
/// LiteLLM's <c>/v1/messages</c> adapter; see docs/parity/messages.md for where and why we differ.
/// </summary>
internal static class MessagesRequestTranslator
{
    /// <summary>Top-level Anthropic fields this translator maps; any other field is forwarded as it is.</summary>
    private static readonly HashSet<string> Mapped =
    [
        "model", "messages", "system", "max_tokens", "metadata", "stop_sequences", "stream", "temperature", "top_p",
        "tools", "tool_choice", "thinking", "output_format", "service_tier",
    ];

    /// <summary>Anthropic-only hints that do not change what a correct answer is: dropped (with a warning) where the model cannot use them.</summary>
    private static readonly string[] ClaudeOnlyHints = ["context_management", "output_config", "inference_geo", "speed", "diagnostics", "cache_control"];

    /// <summary>Anthropic-only features whose absence would change the answer: refused unless drop_params.</summary>
    private static readonly string[] ClaudeOnlyFeatures = ["mcp_servers", "container"];

    /// <summary>Chat parameters this translator derives from Anthropic hints; a provider without them drops them with a warning.</summary>
    private static readonly string[] DerivedHints = ["reasoning_effort", "thinking", "service_tier", "user"];

    public static MessagesTranslation Translate(JsonElement root, MessagesTarget target)
    {
        var buffer = new PooledBuffer(4096);
        Dictionary<string, string>? toolNames = null;
        List<string>? dropped = null;
        List<string>? warnings = null;
        var dropParams = target.DropParams || (root.TryGetProperty("drop_params", out var dp) && dp.ValueKind == JsonValueKind.True);
        try
        {
            using var w = new Utf8JsonWriter(buffer, JsonOut.Options);
            w.WriteStartObject();
            w.WritePropertyName("model"u8);
            root.GetProperty("model").WriteTo(w);
            WriteMessages(w, root, target, ref toolNames);
            var maxTokens = root.GetProperty("max_tokens").GetInt64();
            if (target.MaxOutputTokens is { } limit && maxTokens > limit)
            {
                // An upper bound the model cannot reach anyway (Claude Code asks Claude's limits of every model).
                (warnings ??= []).Add($"max_tokens {maxTokens} lowered to {limit}, the model's output limit");
                maxTokens = limit;
            }
            w.WriteNumber("max_tokens"u8, maxTokens);
            if (root.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True)
            {
                w.WriteBoolean("stream"u8, true);
                // Output tokens reach the client only in the final usage chunk.
                w.WriteStartObject("stream_options"u8);
                w.WriteBoolean("include_usage"u8, true);
                w.WriteEndObject();
            }
            Copy(w, root, "temperature");
            Copy(w, root, "top_p");
            if (root.TryGetProperty("stop_sequences", out var stops) && stops.ValueKind == JsonValueKind.Array && stops.GetArrayLength() > 0)
            {
                w.WritePropertyName("stop"u8);
                stops.WriteTo(w);
            }
            if (root.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object
                && metadata.TryGetProperty("user_id", out var user) && user.ValueKind == JsonValueKind.String)
            {
                w.WritePropertyName("user"u8);
                user.WriteTo(w);
            }
            WriteServiceTier(w, root, target);
            WriteTools(w, root, target, dropParams, ref toolNames, ref dropped);
            var effortMapped = WriteThinking(w, root, target, maxTokens);
            WriteOutputFormat(w, root);
            if (!target.IsClaude && HasBlockCacheControl(root)) (dropped ??= []).Add("cache_control");
            foreach (var property in root.EnumerateObject())
            {
                if (Mapped.Contains(property.Name)) continue;
                if (!target.TakesAnthropicFields && Array.IndexOf(ClaudeOnlyFeatures, property.Name) >= 0)
                {
                    if (dropParams)
                    {
                        (dropped ??= []).Add(property.Name);
                        continue;
                    }
                    throw LlmError.Invalid(
                        $"{property.Name}: runs on Anthropic's side; {target.ProviderName ?? "this model's provider"} has no equivalent. Remove it, route this call to a Claude model on Anthropic, or set drop_params: true to drop it with a warning",
                        property.Name, "unsupported_parameter").ToException();
                }
                if (!target.TakesAnthropicFields && Array.IndexOf(ClaudeOnlyHints, property.Name) >= 0)
                {
                    if (property.Name == "output_config" && effortMapped && OnlyEffort(property.Value)) continue;
                    if (!(dropped?.Contains(property.Name) ?? false)) (dropped ??= []).Add(property.Name);
                    continue;
                }
                property.WriteTo(w); // top_k and other provider extras: the capability check decides
            }
            w.WriteEndObject();
            w.Flush();
            return new MessagesTranslation(buffer, toolNames, dropped, warnings, target.TakesAnthropicFields ? null : DerivedHints);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    private static bool OnlyEffort(JsonElement outputConfig)
    {
        if (outputConfig.ValueKind != JsonValueKind.Object) return false;
        foreach (var p in outputConfig.EnumerateObject()) if (p.Name != "effort") return false;
        return true;
    }

    /// <summary>Anthropic's <c>auto</c> / <c>standard_only</c> as OpenAI's <c>auto</c> / <c>default</c> (Bedrock's writer maps those on).</summary>
    private static void WriteServiceTier(Utf8JsonWriter w, JsonElement root, MessagesTarget target)
    {
        if (!root.TryGetProperty("service_tier", out var tier) || tier.ValueKind != JsonValueKind.String) return;
        if (target.TakesAnthropicFields)
        {
            w.WritePropertyName("service_tier"u8);
            tier.WriteTo(w);
            return;
        }
        if (tier.ValueEquals("auto")) w.WriteString("service_tier"u8, "auto"u8);
        else if (tier.ValueEquals("standard_only")) w.WriteString("service_tier"u8, "default"u8);
    }

    /// <summary>True when a system, message or tool block carries <c>cache_control</c> (dropped for models other than Claude).</summary>
    private static bool HasBlockCacheControl(JsonElement root)
    {
        if (root.TryGetProperty("system", out var system) && system.ValueKind == JsonValueKind.Array)
            foreach (var b in system.EnumerateArray()) if (b.TryGetProperty("cache_control", out _)) return true;
        if (root.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array)
            foreach (var t in tools.EnumerateArray()) if (t.TryGetProperty("cache_control", out _)) return true;
        foreach (var m in root.GetProperty("messages").EnumerateArray())
        {
            if (m.GetProperty("content") is not { ValueKind: JsonValueKind.Array } content) continue;
            foreach (var b in content.EnumerateArray()) if (b.TryGetProperty("cache_control", out _)) return true;
        }
        return false;
    }

    private static void Copy(Utf8JsonWriter w, JsonElement root, string name)
    {
        if (root.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null)
        {
            w.WritePropertyName(name);
            v.WriteTo(w);
        }
    }

    private static void WriteMessages(Utf8JsonWriter w, JsonElement root, MessagesTarget target, ref Dictionary<string, string>? toolNames)
    {
        w.WriteStartArray("messages"u8);
        if (root.TryGetProperty("system", out var system)) WriteSystem(w, system, target);
        foreach (var m in root.GetProperty("messages").EnumerateArray())
        {
            var content = m.GetProperty("content");
            var role = m.GetProperty("role");
            if (role.ValueEquals("user")) WriteUser(w, content, target);
            else if (role.ValueEquals("system")) WriteSystem(w, content, target); // Claude Code's mid-conversation system turns, in place
            else WriteAssistant(w, content, target, ref toolNames);
        }
        w.WriteEndArray();
    }

    private static void WriteSystem(Utf8JsonWriter w, JsonElement system, MessagesTarget target)
    {
        if (system.ValueKind == JsonValueKind.String)
        {
            if (system.GetString()!.Length == 0) return;
            w.WriteStartObject();
            w.WriteString("role"u8, "system"u8);
            w.WritePropertyName("content"u8);
            system.WriteTo(w);
            w.WriteEndObject();
            return;
        }
        if (system.ValueKind != JsonValueKind.Array) return;
        JsonElement only = default;
        var count = 0;
        foreach (var block in system.EnumerateArray())
        {
            if (IsBillingHeader(block)) continue;
            only = block;
            count++;
        }
        if (count == 0) return;
        w.WriteStartObject();
        w.WriteString("role"u8, "system"u8);
        if (count == 1 && !(target.IsClaude && only.TryGetProperty("cache_control", out _)))
        {
            w.WritePropertyName("content"u8);
            only.GetProperty("text").WriteTo(w);
        }
        else
        {
            w.WriteStartArray("content"u8);
            foreach (var block in system.EnumerateArray()) if (!IsBillingHeader(block)) WriteTextPart(w, block, target);
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    /// <summary>Claude Code's attribution line for Anthropic's billing, not a prompt (LiteLLM leaves it out too).</summary>
    private static bool IsBillingHeader(JsonElement block) =>
        block.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String && t.GetString()!.StartsWith("x-anthropic-billing-header:", StringComparison.Ordinal);

    private static void WriteTextPart(Utf8JsonWriter w, JsonElement block, MessagesTarget target)
    {
        w.WriteStartObject();
        w.WriteString("type"u8, "text"u8);
        w.WritePropertyName("text"u8);
        block.GetProperty("text").WriteTo(w);
        CopyCacheControl(w, block, target);
        w.WriteEndObject();
    }

    private static void CopyCacheControl(Utf8JsonWriter w, JsonElement block, MessagesTarget target)
    {
        // Only Claude honours prompt-cache markers; OpenAI-compatible servers may reject the unknown key.
        if (target.IsClaude && block.TryGetProperty("cache_control", out var cc) && cc.ValueKind == JsonValueKind.Object)
        {
            w.WritePropertyName("cache_control"u8);
            cc.WriteTo(w);
        }
    }

    /// <summary>A user turn: its tool results become tool messages first (OpenAI order), then the rest as one user message.</summary>
    private static void WriteUser(Utf8JsonWriter w, JsonElement content, MessagesTarget target)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            w.WriteStartObject();
            w.WriteString("role"u8, "user"u8);
            w.WritePropertyName("content"u8);
            content.WriteTo(w);
            w.WriteEndObject();
            return;
        }
        var others = 0;
        var textOnly = 0;
        foreach (var block in content.EnumerateArray())
        {
            if (TypeIs(block, "tool_result")) { WriteToolResult(w, block, target); continue; }
            if (!(TypeIs(block, "text") || TypeIs(block, "image") || TypeIs(block, "document"))) continue; // thinking in a user turn carries nothing
            others++;
            if (TypeIs(block, "text") && !(target.IsClaude && block.TryGetProperty("cache_control", out _))) textOnly++;
        }
        if (others == 0) return;
        w.WriteStartObject();
        w.WriteString("role"u8, "user"u8);
        if (others == 1 && textOnly == 1)
        {
            foreach (var block in content.EnumerateArray())
            {
                if (!TypeIs(block, "text")) continue;
                w.WritePropertyName("content"u8);
                block.GetProperty("text").WriteTo(w);
            }
        }
        else
        {
            w.WriteStartArray("content"u8);
            foreach (var block in content.EnumerateArray())
            {
                if (!TypeIs(block, "tool_result")) WriteUserPart(w, block, target);
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    private static void WriteUserPart(Utf8JsonWriter w, JsonElement block, MessagesTarget target)
    {
        var type = block.GetProperty("type");
        if (type.ValueEquals("text")) { WriteTextPart(w, block, target); return; }
        if (type.ValueEquals("image")) { WriteImagePart(w, block, target); return; }
        if (type.ValueEquals("document")) { WriteDocumentParts(w, block, target); return; }
        if (type.ValueEquals("tool_reference")) { WriteToolReference(w, block); return; }
        // thinking blocks in a user turn carry nothing for the model; anything else was refused by the reader.
    }

    /// <summary>
    /// A ToolSearch result names a tool whose full definition Anthropic then loads; elsewhere every tool is sent
    /// whole, so the reference becomes a line of text saying the tool is available.
    /// </summary>
    private static void WriteToolReference(Utf8JsonWriter w, JsonElement block)
    {
        w.WriteStartObject();
        w.WriteString("type"u8, "text"u8);
        w.WriteString("text"u8, "Tool loaded: " + (block.TryGetProperty("tool_name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : ""));
        w.WriteEndObject();
    }

    private static void WriteImagePart(Utf8JsonWriter w, JsonElement block, MessagesTarget target)
    {
        var source = block.GetProperty("source");
        w.WriteStartObject();
        w.WriteString("type"u8, "image_url"u8);
        w.WriteStartObject("image_url"u8);
        w.WritePropertyName("url"u8);
        if (source.GetProperty("type").ValueEquals("base64")) WriteDataUri(w, source);
        else source.GetProperty("url").WriteTo(w);
        w.WriteEndObject();
        CopyCacheControl(w, block, target);
        w.WriteEndObject();
    }

    /// <summary>PDFs as OpenAI <c>file</c> parts (which the Anthropic writer turns back into documents); text documents as text.</summary>
    private static void WriteDocumentParts(Utf8JsonWriter w, JsonElement block, MessagesTarget target)
    {
        var source = block.GetProperty("source");
        var type = source.GetProperty("type");
        if (type.ValueEquals("text"))
        {
            w.WriteStartObject();
            w.WriteString("type"u8, "text"u8);
            w.WritePropertyName("text"u8);
            source.GetProperty("data").WriteTo(w);
            CopyCacheControl(w, block, target);
            w.WriteEndObject();
            return;
        }
        if (type.ValueEquals("content"))
        {
            var inner = source.GetProperty("content");
            if (inner.ValueKind == JsonValueKind.String)
            {
                w.WriteStartObject();
                w.WriteString("type"u8, "text"u8);
                w.WritePropertyName("text"u8);
                inner.WriteTo(w);
                w.WriteEndObject();
                return;
            }
            foreach (var part in inner.EnumerateArray())
            {
                if (TypeIs(part, "text")) WriteTextPart(w, part, target);
                else if (TypeIs(part, "image")) WriteImagePart(w, part, target);
            }
            return;
        }
        w.WriteStartObject();
        w.WriteString("type"u8, "file"u8);
        w.WriteStartObject("file"u8);
        if (type.ValueEquals("base64"))
        {
            w.WritePropertyName("file_data"u8);
            WriteDataUri(w, source);
        }
        else
        {
            w.WritePropertyName("file_id"u8);
            source.GetProperty("url").WriteTo(w);
        }
        if (block.TryGetProperty("title", out var title) && title.ValueKind == JsonValueKind.String)
        {
            w.WritePropertyName("filename"u8);
            title.WriteTo(w);
        }
        w.WriteEndObject();
        CopyCacheControl(w, block, target);
        w.WriteEndObject();
    }

    /// <summary><c>data:{media_type};base64,{data}</c> from the raw JSON bytes, without a string of the (large) payload.</summary>
    private static void WriteDataUri(Utf8JsonWriter w, JsonElement source)
    {
        var mediaType = JsonMarshal.GetRawUtf8Value(source.GetProperty("media_type"));
        var data = JsonMarshal.GetRawUtf8Value(source.GetProperty("data"));
        // Both raw values are quoted JSON strings; their inner bytes are valid inside a JSON string as they are.
        var length = 1 + "data:"u8.Length + (mediaType.Length - 2) + ";base64,"u8.Length + (data.Length - 2) + 1;
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var span = rented.AsSpan();
            var pos = 0;
            span[pos++] = (byte)'"';
            "data:"u8.CopyTo(span[pos..]); pos += 5;
            mediaType[1..^1].CopyTo(span[pos..]); pos += mediaType.Length - 2;
            ";base64,"u8.CopyTo(span[pos..]); pos += 8;
            data[1..^1].CopyTo(span[pos..]); pos += data.Length - 2;
            span[pos++] = (byte)'"';
            w.WriteRawValue(span[..pos], skipInputValidation: true);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static void WriteToolResult(Utf8JsonWriter w, JsonElement block, MessagesTarget target)
    {
        w.WriteStartObject();
        w.WriteString("role"u8, "tool"u8);
        w.WritePropertyName("tool_call_id"u8);
        block.GetProperty("tool_use_id").WriteTo(w);
        if (!block.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
        {
            w.WriteString("content"u8, ""u8);
        }
        else if (content.ValueKind == JsonValueKind.String)
        {
            w.WritePropertyName("content"u8);
            content.WriteTo(w);
        }
        else if (content.GetArrayLength() == 1 && TypeIs(content[0], "text"))
        {
            w.WritePropertyName("content"u8);
            content[0].GetProperty("text").WriteTo(w);
        }
        else
        {
            w.WriteStartArray("content"u8);
            foreach (var part in content.EnumerateArray()) WriteUserPart(w, part, target);
            w.WriteEndArray();
        }
        CopyCacheControl(w, block, target);
        w.WriteEndObject();
    }

    /// <summary>An assistant turn: text → content, tool_use → tool_calls, thinking → thinking_blocks (Claude only).</summary>
    private static void WriteAssistant(Utf8JsonWriter w, JsonElement content, MessagesTarget target, ref Dictionary<string, string>? toolNames)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            w.WriteStartObject();
            w.WriteString("role"u8, "assistant"u8);
            w.WritePropertyName("content"u8);
            content.WriteTo(w);
            w.WriteEndObject();
            return;
        }
        string? text = null;
        int tools = 0, thinking = 0;
        foreach (var block in content.EnumerateArray())
        {
            var type = block.GetProperty("type");
            if (type.ValueEquals("text")) text = text is null ? block.GetProperty("text").GetString() : text + block.GetProperty("text").GetString();
            else if (type.ValueEquals("tool_use")) tools++;
            else if (ThinkingFor(block, target) is not null) thinking++;
        }
        if (string.IsNullOrEmpty(text) && tools == 0 && thinking == 0) return;

        w.WriteStartObject();
        w.WriteString("role"u8, "assistant"u8);
        if (string.IsNullOrEmpty(text)) w.WriteNull("content"u8);
        else w.WriteString("content"u8, text);
        if (tools > 0)
        {
            w.WriteStartArray("tool_calls"u8);
            foreach (var block in content.EnumerateArray())
            {
                if (!TypeIs(block, "tool_use")) continue;
                w.WriteStartObject();
                w.WritePropertyName("id"u8);
                block.GetProperty("id").WriteTo(w);
                w.WriteString("type"u8, "function"u8);
                w.WriteStartObject("function"u8);
                w.WriteString("name"u8, ToolNameShortener.Register(block.GetProperty("name").GetString()!, ref toolNames));
                w.WriteString("arguments"u8, block.GetProperty("input").GetRawText());
                w.WriteEndObject();
                CopyCacheControl(w, block, target);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        if (thinking > 0)
        {
            w.WriteStartArray("thinking_blocks"u8);
            foreach (var block in content.EnumerateArray())
            {
                if (ThinkingFor(block, target) is not { } signed) continue;
                var redacted = TypeIs(block, "redacted_thinking");
                w.WriteStartObject();
                w.WriteString("type"u8, redacted ? "redacted_thinking"u8 : "thinking"u8);
                if (redacted) w.WriteString("data"u8, signed);
                else
                {
                    w.WritePropertyName("thinking"u8);
                    block.GetProperty("thinking").WriteTo(w);
                    w.WriteString("signature"u8, signed);
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    /// <summary>
    /// The signature (or redacted data) a thinking block goes to <paramref name="target"/> with, or null when the
    /// block stays out: unsigned reasoning proves nothing to any model, and a signature only its own provider
    /// can verify (see <see cref="ReasoningSignature"/>).
    /// </summary>
    private static string? ThinkingFor(JsonElement block, in MessagesTarget target)
    {
        if (TypeIs(block, "thinking"))
            return block.TryGetProperty("signature", out var s) && s.ValueKind == JsonValueKind.String && s.GetString() is { Length: > 0 } sig
                ? ReasoningSignature.ForTarget(sig, target) : null;
        if (TypeIs(block, "redacted_thinking"))
            return block.GetProperty("data").GetString() is { Length: > 0 } data ? ReasoningSignature.ForTarget(data, target) : null;
        return null;
    }

    private static void WriteTools(Utf8JsonWriter w, JsonElement root, MessagesTarget target, bool dropParams, ref Dictionary<string, string>? toolNames, ref List<string>? dropped)
    {
        var webSearch = false;
        var any = false;
        if (root.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array && tools.GetArrayLength() > 0)
        {
            foreach (var tool in tools.EnumerateArray())
            {
                if (!AnthropicRequestReader.IsServerTool(tool)) { any = true; continue; }
                var type = tool.GetProperty("type").GetString()!;
                if (type.StartsWith("web_search", StringComparison.Ordinal)) { webSearch = true; continue; }
                if (!target.TakesAnthropicFields)
                {
                    if (dropParams) { (dropped ??= []).Add("tools." + type); continue; }
                    throw LlmError.Invalid(
                        $"tools: `{type}` is a tool that Anthropic defines and runs; {target.ProviderName ?? "this model's provider"} has no equivalent. Remove it, route this call to a Claude model on Anthropic, or set drop_params: true to drop it with a warning",
                        "tools", "unsupported_tool").ToException();
                }
                any = true;
            }
            if (any)
            {
                w.WriteStartArray("tools"u8);
                foreach (var tool in tools.EnumerateArray())
                {
                    if (AnthropicRequestReader.IsServerTool(tool))
                    {
                        // Claude targets: Anthropic-defined tools travel as they are; the Anthropic writer recognises their type.
                        if (target.TakesAnthropicFields && !tool.GetProperty("type").GetString()!.StartsWith("web_search", StringComparison.Ordinal)) tool.WriteTo(w);
                        continue;
                    }
                    w.WriteStartObject();
                    w.WriteString("type"u8, "function"u8);
                    w.WriteStartObject("function"u8);
                    w.WriteString("name"u8, ToolNameShortener.Register(tool.GetProperty("name").GetString()!, ref toolNames));
                    if (tool.TryGetProperty("description", out var description) && description.ValueKind == JsonValueKind.String)
                    {
                        w.WritePropertyName("description"u8);
                        description.WriteTo(w);
                    }
                    w.WritePropertyName("parameters"u8);
                    tool.GetProperty("input_schema").WriteTo(w);
                    w.WriteEndObject();
                    CopyCacheControl(w, tool, target);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
        }
        if (webSearch)
        {
            w.WriteStartObject("web_search_options"u8);
            w.WriteEndObject();
        }
        if (!any || !root.TryGetProperty("tool_choice", out var choice) || choice.ValueKind != JsonValueKind.Object) return;
        var kind = choice.GetProperty("type");
        w.WritePropertyName("tool_choice"u8);
        if (kind.ValueEquals("auto")) w.WriteStringValue("auto"u8);
        else if (kind.ValueEquals("any")) w.WriteStringValue("required"u8);
        else if (kind.ValueEquals("none")) w.WriteStringValue("none"u8);
        else
        {
            w.WriteStartObject();
            w.WriteString("type"u8, "function"u8);
            w.WriteStartObject("function"u8);
            w.WriteString("name"u8, ToolNameShortener.Register(choice.GetProperty("name").GetString()!, ref toolNames));
            w.WriteEndObject();
            w.WriteEndObject();
        }
        if (!kind.ValueEquals("none") && choice.TryGetProperty("disable_parallel_tool_use", out var dp) && dp.ValueKind == JsonValueKind.True)
            w.WriteBoolean("parallel_tool_calls"u8, false);
    }

    /// <summary>
    /// Claude keeps <c>thinking</c> (its budget kept below a lowered <c>max_tokens</c>); other models get
    /// <c>reasoning_effort</c>: <c>output_config.effort</c> when given, else by budget (LiteLLM's thresholds).
    /// True when <c>output_config.effort</c> was used for it.
    /// </summary>
    private static bool WriteThinking(Utf8JsonWriter w, JsonElement root, MessagesTarget target, long maxTokens)
    {
        string? effort = null;
        if (root.TryGetProperty("output_config", out var oc) && oc.ValueKind == JsonValueKind.Object
            && oc.TryGetProperty("effort", out var e) && e.ValueKind == JsonValueKind.String)
            effort = e.GetString() switch { "low" => "low", "medium" => "medium", "high" or "max" => "high", _ => null };
        if (!root.TryGetProperty("thinking", out var thinking) || thinking.ValueKind != JsonValueKind.Object) return false;
        var type = thinking.GetProperty("type");
        if (type.ValueEquals("disabled")) return false;
        if (target.IsClaude)
        {
            if (type.ValueEquals("enabled") && thinking.GetProperty("budget_tokens").GetInt64() >= maxTokens)
            {
                w.WriteStartObject("thinking"u8);
                w.WriteString("type"u8, "enabled"u8);
                w.WriteNumber("budget_tokens"u8, Math.Max(1024, maxTokens - 1));
                w.WriteEndObject();
                return false;
            }
            w.WritePropertyName("thinking"u8);
            thinking.WriteTo(w);
            return false;
        }
        if (effort is not null)
        {
            w.WriteString("reasoning_effort"u8, effort);
            return true;
        }
        if (!type.ValueEquals("enabled")) return false; // adaptive without an effort: the model decides, which is the default elsewhere
        var budget = thinking.GetProperty("budget_tokens").GetInt64();
        w.WriteString("reasoning_effort"u8, budget >= 10000 ? "high" : budget >= 5000 ? "medium" : budget >= 2000 ? "low" : "minimal");
        return false;
    }

    private static void WriteOutputFormat(Utf8JsonWriter w, JsonElement root)
    {
        if (!root.TryGetProperty("output_format", out var format) || format.ValueKind != JsonValueKind.Object) return;
        if (!format.TryGetProperty("type", out var type) || !type.ValueEquals("json_schema") || !format.TryGetProperty("schema", out var schema)) return;
        w.WriteStartObject("response_format"u8);
        w.WriteString("type"u8, "json_schema"u8);
        w.WriteStartObject("json_schema"u8);
        w.WriteString("name"u8, "structured_output"u8);
        w.WritePropertyName("schema"u8);
        schema.WriteTo(w);
        w.WriteBoolean("strict"u8, true);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static bool TypeIs(JsonElement e, string type) => e.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.ValueEquals(type);
}
