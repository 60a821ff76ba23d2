using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Pipeline.Wire;

namespace LLMux.Stages.Responses;

/// <summary>
/// Writes a validated Responses request as an OpenAI chat-completions body, so that the one chat request phase
/// (validate, route, capability check, transform) serves it for any provider. Follows LiteLLM's bridge where it
/// is right and OpenAI's wire where LiteLLM is not (docs/parity/responses.md): named tool choices keep their
/// name, reasoning never becomes user text, <c>custom</c> tools become one-string functions, consecutive
/// assistant items form one assistant turn.
/// </summary>
internal static class ResponsesRequestTranslator
{
    /// <summary>Fields the bridge implements itself or maps; everything else is named below or dropped with a warning.</summary>
    private static readonly HashSet<string> Handled =
    [
        "model", "input", "instructions", "tools", "tool_choice", "parallel_tool_calls", "max_output_tokens", "temperature", "top_p",
        "user", "metadata", "stream", "stream_options", "text", "reasoning", "store", "include", "previous_response_id", "background",
        "top_logprobs", "service_tier", "truncation",
    ];

    /// <summary>Tools OpenAI runs (or defines) itself; a chat provider has none of them.</summary>
    internal static readonly HashSet<string> HostedTools =
    [
        "web_search", "web_search_preview", "web_search_preview_2025_03_11", "web_search_2025_08_26", "file_search", "code_interpreter",
        "image_generation", "computer_use_preview", "computer", "mcp", "tool_search", "namespace",
    ];

    public static ResponsesTranslation Translate(JsonElement root, IReadOnlyList<JsonElement> history, ResponsesTarget target, IReadOnlyDictionary<string, JsonElement>? referenced = null)
    {
        var buffer = new PooledBuffer(4096);
        List<string>? warnings = null;
        var tools = new BridgeTools();
        try
        {
            var inputItems = InputItems(root);
            var explicitNoDrop = (root.TryGetProperty("drop_params", out var dp) && dp.ValueKind == JsonValueKind.False) || target.DeploymentDropParams == false;
            using (var w = new Utf8JsonWriter(buffer, JsonOut.Options))
            {
                w.WriteStartObject();
                w.WritePropertyName("model"u8);
                root.GetProperty("model").WriteTo(w);

                var offered = WriteTools(w, root, explicitNoDrop, tools, ref warnings);
                WriteMessages(w, root, history, inputItems, target, referenced);
                WriteToolChoice(w, root, offered, tools);
                if (offered.Count > 0 && root.TryGetProperty("parallel_tool_calls", out var ptc) && ptc.ValueKind is JsonValueKind.True or JsonValueKind.False)
                    w.WriteBoolean("parallel_tool_calls"u8, ptc.ValueKind == JsonValueKind.True);
                if (root.TryGetProperty("max_output_tokens", out var mot) && mot.ValueKind == JsonValueKind.Number)
                {
                    w.WritePropertyName("max_tokens"u8);
                    mot.WriteTo(w);
                }
                Copy(w, root, "temperature");
                Copy(w, root, "top_p");
                Copy(w, root, "user");
                Copy(w, root, "service_tier");
                if (root.TryGetProperty("top_logprobs", out var tlp) && tlp.ValueKind == JsonValueKind.Number)
                {
                    w.WriteBoolean("logprobs"u8, true);
                    w.WritePropertyName("top_logprobs"u8);
                    tlp.WriteTo(w);
                }
                if (root.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True)
                {
                    w.WriteBoolean("stream"u8, true);
                    // usage reaches a stream only in the final usage chunk; response.completed needs it.
                    w.WriteStartObject("stream_options"u8);
                    w.WriteBoolean("include_usage"u8, true);
                    w.WriteEndObject();
                }
                WriteText(w, root, ref warnings);
                WriteReasoning(w, root);
                if (root.TryGetProperty("truncation", out var tr) && tr.ValueKind == JsonValueKind.String && tr.ValueEquals("auto"))
                    (warnings ??= []).Add("truncation");
                foreach (var property in root.EnumerateObject())
                {
                    if (GatewayRequestFields.Set.Contains(property.Name)) { property.WriteTo(w); continue; }
                    if (Handled.Contains(property.Name) || property.Value.ValueKind == JsonValueKind.Null) continue;
                    if (property.Name is "prompt" or "conversation")
                        throw ResponsesRequestReader.Invalid(
                            $"'{property.Name}' refers to state kept by OpenAI ({(property.Name == "prompt" ? "a stored prompt" : "a conversation")}); {target.ProviderName ?? "this model's provider"} is served through LLMux's bridge, which has none. Send the text in `input`/`instructions`, or chain turns with `previous_response_id`",
                            property.Name, "unsupported_parameter");
                    (warnings ??= []).Add(property.Name); // prompt_cache_key, client_metadata, max_tool_calls, ... and anything newer than this bridge
                }
                w.WriteEndObject();
            }
            return new ResponsesTranslation(buffer, tools, inputItems, warnings);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    private static void Copy(Utf8JsonWriter w, JsonElement root, string name)
    {
        if (root.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null)
        {
            w.WritePropertyName(name);
            v.WriteTo(w);
        }
    }

    /// <summary>The turn's input as items with ids (a string input is one user message), for the store and input_items.</summary>
    internal static byte[] InputItems(JsonElement root)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer, JsonOut.Options))
        {
            w.WriteStartArray();
            if (root.TryGetProperty("input", out var input))
            {
                if (input.ValueKind == JsonValueKind.String)
                {
                    w.WriteStartObject();
                    w.WriteString("id"u8, ResponseIds.Message());
                    w.WriteString("type"u8, "message"u8);
                    w.WriteString("role"u8, "user"u8);
                    w.WriteStartArray("content"u8);
                    w.WriteStartObject();
                    w.WriteString("type"u8, "input_text"u8);
                    w.WritePropertyName("text"u8);
                    input.WriteTo(w);
                    w.WriteEndObject();
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                else if (input.ValueKind == JsonValueKind.Array)
                {
                    foreach (var item in input.EnumerateArray())
                    {
                        if (item.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String && item.TryGetProperty("type", out _)) { item.WriteTo(w); continue; }
                        var type = ResponsesRequestReader.Str(item, "type") ?? "message";
                        w.WriteStartObject();
                        w.WriteString("id"u8, type switch
                        {
                            "function_call" => ResponseIds.FunctionCall(),
                            "custom_tool_call" => ResponseIds.CustomToolCall(),
                            "reasoning" => ResponseIds.Reasoning(),
                            _ => ResponseIds.Message(),
                        });
                        w.WriteString("type"u8, type);
                        foreach (var p in item.EnumerateObject())
                            if (p.Name is not ("id" or "type")) p.WriteTo(w);
                        w.WriteEndObject();
                    }
                }
            }
            w.WriteEndArray();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteMessages(Utf8JsonWriter w, JsonElement root, IReadOnlyList<JsonElement> history, byte[] inputItems, ResponsesTarget target, IReadOnlyDictionary<string, JsonElement>? referenced)
    {
        using var input = JsonDocument.Parse(inputItems);
        var items = new List<JsonElement>(history.Count + input.RootElement.GetArrayLength());
        items.AddRange(history);
        foreach (var item in input.RootElement.EnumerateArray()) items.Add(item);
        ResolveReferences(items, referenced);
        CheckCallIds(items, history.Count);

        w.WriteStartArray("messages"u8);
        if (root.TryGetProperty("instructions", out var instructions) && instructions.ValueKind == JsonValueKind.String && instructions.GetString()!.Length > 0)
        {
            w.WriteStartObject();
            w.WriteString("role"u8, "system"u8);
            w.WritePropertyName("content"u8);
            instructions.WriteTo(w);
            w.WriteEndObject();
        }
        var i = 0;
        while (i < items.Count)
        {
            var item = items[i];
            var type = ResponsesRequestReader.Str(item, "type") ?? "message";
            if (IsAssistantSide(item, type))
            {
                var end = i;
                while (end < items.Count && IsAssistantSide(items[end], ResponsesRequestReader.Str(items[end], "type") ?? "message")) end++;
                WriteAssistantTurn(w, items, i, end, target);
                i = end;
                continue;
            }
            switch (type)
            {
                case "message": WriteMessage(w, item); break;
                case "function_call_output":
                case "custom_tool_call_output":
                    WriteToolResult(w, item);
                    break;
                case "local_shell_call_output":
                case "shell_call_output":
                case "apply_patch_call_output":
                    WriteBuiltInResult(w, item, items);
                    break;
                // Built-in call items from an OpenAI-served history (web_search_call, ...): the provider has no such tool; left out.
            }
            i++;
        }
        w.WriteEndArray();
    }

    private static bool IsAssistantSide(JsonElement item, string type) =>
        type is "function_call" or "custom_tool_call" or "reasoning" || ClientBuiltInTools.IsCallItem(type)
        || (type == "message" && ResponsesRequestReader.Str(item, "role") == "assistant");

    /// <summary>The output of a client-run built-in as a tool message, linked to its call (a <c>local_shell_call_output</c> may name the call's item id).</summary>
    private static void WriteBuiltInResult(Utf8JsonWriter w, JsonElement item, List<JsonElement> items)
    {
        var id = ClientBuiltInTools.OutputCallId(item);
        foreach (var other in items)
        {
            if (ClientBuiltInTools.IsCallItem(ResponsesRequestReader.Str(other, "type")) && id is not null && ResponsesRequestReader.Str(other, "id") == id)
            {
                id = ResponsesRequestReader.Str(other, "call_id") ?? id;
                break;
            }
        }
        w.WriteStartObject();
        w.WriteString("role"u8, "tool"u8);
        w.WriteString("tool_call_id"u8, id);
        w.WriteString("content"u8, ClientBuiltInTools.ResultText(item));
        w.WriteEndObject();
    }

    /// <summary>item_reference items stand for an item of the chain, or of another response the caller stored (by id); one that names nothing is a 400.</summary>
    private static void ResolveReferences(List<JsonElement> items, IReadOnlyDictionary<string, JsonElement>? referenced)
    {
        for (var i = 0; i < items.Count; i++)
        {
            if (ResponsesRequestReader.Str(items[i], "type") != "item_reference") continue;
            var id = ResponsesRequestReader.Str(items[i], "id");
            var found = false;
            for (var j = 0; j < items.Count && !found; j++)
            {
                if (j == i || ResponsesRequestReader.Str(items[j], "type") == "item_reference" || ResponsesRequestReader.Str(items[j], "id") != id) continue;
                items[i] = items[j];
                found = true;
            }
            if (!found && id is not null && referenced is not null && referenced.TryGetValue(id, out var stored))
            {
                items[i] = stored;
                found = true;
            }
            if (!found)
                throw ResponsesRequestReader.Invalid($"Item with id '{id}' not found.", "input", "item_not_found");
        }
    }

    /// <summary>OpenAI refuses a tool output whose call_id matches no call before it.</summary>
    private static void CheckCallIds(List<JsonElement> items, int historyCount)
    {
        HashSet<string>? calls = null;
        for (var i = 0; i < items.Count; i++)
        {
            var type = ResponsesRequestReader.Str(items[i], "type");
            if (type is "function_call" or "custom_tool_call" || ClientBuiltInTools.IsCallItem(type))
            {
                if (ResponsesRequestReader.Str(items[i], "call_id") is { } id) (calls ??= new(StringComparer.Ordinal)).Add(id);
                if (type == "local_shell_call" && ResponsesRequestReader.Str(items[i], "id") is { } itemId) (calls ??= new(StringComparer.Ordinal)).Add(itemId);
            }
            else if (type is "function_call_output" or "custom_tool_call_output" || ClientBuiltInTools.IsOutputItem(type))
            {
                var id = (ClientBuiltInTools.IsOutputItem(type) ? ClientBuiltInTools.OutputCallId(items[i]) : ResponsesRequestReader.Str(items[i], "call_id")) ?? "";
                if (calls is null || !calls.Contains(id))
                    throw ResponsesRequestReader.Invalid($"No tool call found for function call output with call_id {id}.", $"input[{i - historyCount}].call_id", "invalid_value");
            }
        }
    }

    private static void WriteMessage(Utf8JsonWriter w, JsonElement item)
    {
        var role = ResponsesRequestReader.Str(item, "role")!;
        var content = item.GetProperty("content");
        w.WriteStartObject();
        // Chat providers other than OpenAI know no `developer` role; LiteLLM maps it to system as well.
        w.WriteString("role"u8, role == "developer" ? "system" : role);
        WriteContent(w, content);
        w.WriteEndObject();
    }

    private static void WriteContent(Utf8JsonWriter w, JsonElement content)
    {
        w.WritePropertyName("content"u8);
        if (content.ValueKind == JsonValueKind.String) { content.WriteTo(w); return; }
        if (SingleText(content) is { } only) { only.WriteTo(w); return; }
        w.WriteStartArray();
        foreach (var part in content.EnumerateArray()) WritePart(w, part);
        w.WriteEndArray();
    }

    /// <summary>The text of a content array that holds exactly one text part (sent as a plain string, which every provider takes).</summary>
    private static JsonElement? SingleText(JsonElement content)
    {
        if (content.GetArrayLength() != 1) return null;
        var part = content[0];
        return ResponsesRequestReader.Str(part, "type") is "input_text" or "output_text" ? part.GetProperty("text") : null;
    }

    private static void WritePart(Utf8JsonWriter w, JsonElement part)
    {
        switch (ResponsesRequestReader.Str(part, "type"))
        {
            case "input_text" or "output_text":
                w.WriteStartObject();
                w.WriteString("type"u8, "text"u8);
                w.WritePropertyName("text"u8);
                part.GetProperty("text").WriteTo(w);
                w.WriteEndObject();
                break;
            case "refusal":
                w.WriteStartObject();
                w.WriteString("type"u8, "text"u8);
                w.WriteString("text"u8, ResponsesRequestReader.Str(part, "refusal") ?? "");
                w.WriteEndObject();
                break;
            case "input_image":
                w.WriteStartObject();
                if (ResponsesRequestReader.Str(part, "image_url") is { } url)
                {
                    w.WriteString("type"u8, "image_url"u8);
                    w.WriteStartObject("image_url"u8);
                    w.WriteString("url"u8, url);
                    if (ResponsesRequestReader.Str(part, "detail") is { } detail) w.WriteString("detail"u8, detail);
                    w.WriteEndObject();
                }
                else
                {
                    w.WriteString("type"u8, "file"u8);
                    w.WriteStartObject("file"u8);
                    w.WriteString("file_id"u8, ResponsesRequestReader.Str(part, "file_id"));
                    w.WriteEndObject();
                }
                w.WriteEndObject();
                break;
            case "input_file":
                w.WriteStartObject();
                w.WriteString("type"u8, "file"u8);
                w.WriteStartObject("file"u8);
                if (ResponsesRequestReader.Str(part, "file_data") is { } data) w.WriteString("file_data"u8, data);
                else w.WriteString("file_id"u8, ResponsesRequestReader.Str(part, "file_id") ?? ResponsesRequestReader.Str(part, "file_url"));
                if (ResponsesRequestReader.Str(part, "filename") is { } name) w.WriteString("filename"u8, name);
                w.WriteEndObject();
                w.WriteEndObject();
                break;
            case "input_audio":
                w.WriteStartObject();
                w.WriteString("type"u8, "input_audio"u8);
                w.WritePropertyName("input_audio"u8);
                (part.TryGetProperty("input_audio", out var audio) ? audio : part).WriteTo(w);
                w.WriteEndObject();
                break;
        }
    }

    /// <summary>A run of assistant-side items (reasoning, assistant messages, tool calls) as one chat assistant message.</summary>
    private static void WriteAssistantTurn(Utf8JsonWriter w, List<JsonElement> items, int start, int end, ResponsesTarget target)
    {
        string? text = null;
        var calls = 0;
        List<JsonDocument>? thinking = null;
        try
        {
            for (var i = start; i < end; i++)
            {
                var item = items[i];
                var type = ResponsesRequestReader.Str(item, "type") ?? "message";
                if (type == "message")
                {
                    var content = item.GetProperty("content");
                    var t = content.ValueKind == JsonValueKind.String ? content.GetString() : JoinText(content);
                    if (!string.IsNullOrEmpty(t)) text = text is null ? t : text + "\n" + t;
                }
                else if (type == "reasoning")
                {
                    // Only the provider that signed the reasoning can use it; for any other it is left out, never shown as text.
                    if (ReasoningEnvelope.Decode(ResponsesRequestReader.Str(item, "encrypted_content"), target.ProviderName) is { } doc) (thinking ??= []).Add(doc);
                }
                else calls++;
            }
            if (text is null && calls == 0) return;
            w.WriteStartObject();
            w.WriteString("role"u8, "assistant"u8);
            if (text is null) w.WriteNull("content"u8);
            else w.WriteString("content"u8, text);
            if (calls > 0)
            {
                w.WriteStartArray("tool_calls"u8);
                for (var i = start; i < end; i++)
                {
                    var item = items[i];
                    var type = ResponsesRequestReader.Str(item, "type");
                    if (ClientBuiltInTools.IsCallItem(type))
                    {
                        w.WriteStartObject();
                        w.WriteString("id"u8, ResponsesRequestReader.Str(item, "call_id"));
                        w.WriteString("type"u8, "function"u8);
                        w.WriteStartObject("function"u8);
                        w.WriteString("name"u8, ClientBuiltInTools.FunctionNameOfItem(type));
                        w.WriteString("arguments"u8, ClientBuiltInTools.ArgumentsOf(item));
                        w.WriteEndObject();
                        w.WriteEndObject();
                        continue;
                    }
                    if (type is not ("function_call" or "custom_tool_call")) continue;
                    w.WriteStartObject();
                    w.WriteString("id"u8, ResponsesRequestReader.Str(item, "call_id"));
                    w.WriteString("type"u8, "function"u8);
                    w.WriteStartObject("function"u8);
                    var callName = ResponsesRequestReader.Str(item, "name");
                    w.WriteString("name"u8, ResponsesRequestReader.Str(item, "namespace") is { } ns ? ns + BridgeTools.NamespaceSeparator + callName : callName);
                    if (type == "function_call") w.WriteString("arguments"u8, ResponsesRequestReader.Str(item, "arguments"));
                    else w.WriteString("arguments"u8, CustomToolArguments(ResponsesRequestReader.Str(item, "input") ?? ""));
                    w.WriteEndObject();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            if (thinking is not null)
            {
                w.WriteStartArray("thinking_blocks"u8);
                foreach (var doc in thinking)
                    foreach (var block in doc.RootElement.GetProperty("b").EnumerateArray()) block.WriteTo(w);
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        finally
        {
            if (thinking is not null) foreach (var d in thinking) d.Dispose();
        }
    }

    /// <summary>A custom tool's raw input as the one-string function arguments the provider was offered.</summary>
    internal static string CustomToolArguments(string input)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(input.Length + 16);
        using (var w = new Utf8JsonWriter(buffer, JsonOut.Options))
        {
            w.WriteStartObject();
            w.WriteString("input"u8, input);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string JoinText(JsonElement content)
    {
        string? text = null;
        foreach (var part in content.EnumerateArray())
        {
            var t = ResponsesRequestReader.Str(part, "type") switch
            {
                "output_text" or "input_text" => ResponsesRequestReader.Str(part, "text"),
                "refusal" => ResponsesRequestReader.Str(part, "refusal"),
                _ => null,
            };
            if (!string.IsNullOrEmpty(t)) text = text is null ? t : text + t;
        }
        return text ?? "";
    }

    private static void WriteToolResult(Utf8JsonWriter w, JsonElement item)
    {
        w.WriteStartObject();
        w.WriteString("role"u8, "tool"u8);
        w.WriteString("tool_call_id"u8, ResponsesRequestReader.Str(item, "call_id"));
        var output = item.GetProperty("output");
        if (output.ValueKind == JsonValueKind.Array && output.GetArrayLength() > 0 && SingleText(output) is null)
        {
            w.WriteStartArray("content"u8);
            foreach (var part in output.EnumerateArray()) WritePart(w, part);
            w.WriteEndArray();
        }
        else if (output.ValueKind == JsonValueKind.Array)
        {
            w.WritePropertyName("content"u8);
            if (SingleText(output) is { } t) t.WriteTo(w);
            else w.WriteStringValue(""u8);
        }
        else
        {
            w.WritePropertyName("content"u8);
            output.WriteTo(w);
        }
        w.WriteEndObject();
    }

    /// <summary>Writes the chat tools; returns the names offered (for tool_choice). Hosted tools are left out with a warning, or refused under an explicit drop_params: false.</summary>
    private static HashSet<string> WriteTools(Utf8JsonWriter w, JsonElement root, bool explicitNoDrop, BridgeTools bridged, ref List<string>? warnings)
    {
        var offered = new HashSet<string>(StringComparer.Ordinal);
        if (!root.TryGetProperty("tools", out var tools) || tools.ValueKind != JsonValueKind.Array) return offered;
        var allowed = AllowedTools(root);
        var started = false;
        var i = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            var at = $"tools[{i++}]";
            var type = ResponsesRequestReader.Str(tool, "type")!;
            if (type == "namespace" && tool.TryGetProperty("tools", out var inner) && inner.ValueKind == JsonValueKind.Array)
            {
                // A namespace groups client-run tools: its functions are offered one by one under a prefixed name.
                var ns = ResponsesRequestReader.Str(tool, "name") ?? "";
                foreach (var member in inner.EnumerateArray())
                {
                    var memberType = ResponsesRequestReader.Str(member, "type");
                    if (memberType is not ("function" or "custom") || ResponsesRequestReader.Str(member, "name") is not { } memberName) { (warnings ??= []).Add($"tools.{ns}.{memberType}"); continue; }
                    var sent = bridged.AddNamespaced(ns, memberName);
                    if (allowed is not null && !allowed.Contains(memberName) && !allowed.Contains(sent)) continue;
                    WriteTool(w, member, memberType, sent, bridged, offered, ref started);
                }
                continue;
            }
            if (ClientBuiltInTools.Of(type) is var builtIn and not ClientTool.None)
            {
                // Client-run: the model only decides the call, so a chat provider can be offered it as a function.
                var sentName = ClientBuiltInTools.FunctionName(builtIn);
                if (allowed is not null && !allowed.Contains(type)) continue;
                if (NamedInTools(tools, sentName))
                {
                    (warnings ??= []).Add($"tools.{type} (a function of the same name is offered)");
                    continue;
                }
                if (!started) { w.WriteStartArray("tools"u8); started = true; }
                bridged.AddBuiltIn(sentName, builtIn);
                offered.Add(sentName);
                ClientBuiltInTools.WriteFunction(w, builtIn);
                continue;
            }
            if (type is not ("function" or "custom"))
            {
                if (explicitNoDrop)
                    throw ResponsesRequestReader.Invalid(
                        $"'{at}': `{type}` is a tool OpenAI hosts; this model is served through LLMux's chat bridge, whose provider has no such tool. Remove it, or allow drop_params to leave it out with a warning",
                        at, "unsupported_tool");
                (warnings ??= []).Add("tools." + type);
                continue;
            }
            var name = ResponsesRequestReader.Str(tool, "name")!;
            if (allowed is not null && !allowed.Contains(name)) continue;
            WriteTool(w, tool, type, name, bridged, offered, ref started);
        }
        if (started) w.WriteEndArray();
        return offered;
    }

    private static bool NamedInTools(JsonElement tools, string name)
    {
        foreach (var t in tools.EnumerateArray())
            if (ResponsesRequestReader.Str(t, "type") is "function" or "custom" && ResponsesRequestReader.Str(t, "name") == name) return true;
        return false;
    }

    private static void WriteTool(Utf8JsonWriter w, JsonElement tool, string type, string name, BridgeTools bridged, HashSet<string> offered, ref bool started)
    {
        if (!started) { w.WriteStartArray("tools"u8); started = true; }
        offered.Add(name);
        w.WriteStartObject();
        w.WriteString("type"u8, "function"u8);
        w.WriteStartObject("function"u8);
        w.WriteString("name"u8, name);
        if (type == "function")
        {
            if (tool.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String) { w.WritePropertyName("description"u8); d.WriteTo(w); }
            w.WritePropertyName("parameters"u8);
            if (tool.TryGetProperty("parameters", out var p) && p.ValueKind == JsonValueKind.Object) p.WriteTo(w);
            else { w.WriteStartObject(); w.WriteString("type"u8, "object"u8); w.WriteStartObject("properties"u8); w.WriteEndObject(); w.WriteEndObject(); }
            if (tool.TryGetProperty("strict", out var s) && s.ValueKind is JsonValueKind.True or JsonValueKind.False) w.WriteBoolean("strict"u8, s.ValueKind == JsonValueKind.True);
        }
        else
        {
            bridged.AddCustom(name);
            w.WriteString("description"u8, CustomToolDescription(tool));
            w.WriteStartObject("parameters"u8);
            w.WriteString("type"u8, "object"u8);
            w.WriteStartObject("properties"u8);
            w.WriteStartObject("input"u8);
            w.WriteString("type"u8, "string"u8);
            w.WriteString("description"u8, "The raw input for the tool, exactly in the format its description gives."u8);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartArray("required"u8);
            w.WriteStringValue("input"u8);
            w.WriteEndArray();
            w.WriteBoolean("additionalProperties"u8, false);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>A freeform tool's description with its input format (a grammar the model must follow) spelled out, since the function form cannot enforce it.</summary>
    private static string CustomToolDescription(JsonElement tool)
    {
        var description = ResponsesRequestReader.Str(tool, "description") ?? "";
        if (!tool.TryGetProperty("format", out var format) || format.ValueKind != JsonValueKind.Object || ResponsesRequestReader.Str(format, "type") != "grammar")
            return description + (description.Length > 0 ? "\n\n" : "") + "Pass the tool's raw text input as the string argument `input`.";
        return description + (description.Length > 0 ? "\n\n" : "")
            + $"Pass the tool's raw text input as the string argument `input`. The input must match this {ResponsesRequestReader.Str(format, "syntax") ?? "lark"} grammar:\n"
            + (ResponsesRequestReader.Str(format, "definition") ?? "");
    }

    /// <summary>The names an <c>allowed_tools</c> tool_choice restricts the model to, or null.</summary>
    private static HashSet<string>? AllowedTools(JsonElement root)
    {
        if (!root.TryGetProperty("tool_choice", out var choice) || choice.ValueKind != JsonValueKind.Object || ResponsesRequestReader.Str(choice, "type") != "allowed_tools") return null;
        var set = new HashSet<string>(StringComparer.Ordinal);
        if (choice.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array)
            foreach (var t in tools.EnumerateArray())
            {
                if (ResponsesRequestReader.Str(t, "name") is { } n) set.Add(n);
                else if (ClientBuiltInTools.Of(ResponsesRequestReader.Str(t, "type")) != ClientTool.None) set.Add(ResponsesRequestReader.Str(t, "type")!);
            }
        return set;
    }

    /// <summary>Flat tool choices become chat's nested ones with the name kept (LiteLLM loses it, #—); a choice is never widened.</summary>
    private static void WriteToolChoice(Utf8JsonWriter w, JsonElement root, HashSet<string> offered, BridgeTools bridged)
    {
        if (!root.TryGetProperty("tool_choice", out var choice) || choice.ValueKind == JsonValueKind.Null) return;
        if (choice.ValueKind == JsonValueKind.String)
        {
            var s = choice.GetString();
            if (s is not ("none" or "auto" or "required"))
                throw ResponsesRequestReader.Invalid($"Invalid value for 'tool_choice': '{s}'. Supported values are: none, auto, required, or a tool choice object.", "tool_choice", "invalid_value");
            if (offered.Count == 0 && s == "required")
                throw ResponsesRequestReader.Invalid("Invalid 'tool_choice': 'required' needs at least one function or custom tool the model can call.", "tool_choice", "invalid_value");
            if (offered.Count > 0) w.WriteString("tool_choice"u8, s);
            return;
        }
        if (choice.ValueKind != JsonValueKind.Object) throw ResponsesRequestReader.Invalid("Invalid type for 'tool_choice': expected a string or an object.", "tool_choice", "invalid_type");
        var type = ResponsesRequestReader.Str(choice, "type");
        switch (type)
        {
            case "function" or "custom":
                var name = ResponsesRequestReader.Str(choice, "name")
                    ?? (choice.TryGetProperty("function", out var f) ? ResponsesRequestReader.Str(f, "name") : null);
                if (name is null || !offered.Contains(name) || (type == "custom") != bridged.IsCustom(name))
                    throw ResponsesRequestReader.Invalid($"Invalid 'tool_choice': there is no {type} tool named '{name}' in 'tools'.", "tool_choice", "invalid_value");
                w.WriteStartObject("tool_choice"u8);
                w.WriteString("type"u8, "function"u8);
                w.WriteStartObject("function"u8);
                w.WriteString("name"u8, name);
                w.WriteEndObject();
                w.WriteEndObject();
                return;
            case "auto" or "none" or "required":
                if (offered.Count > 0) w.WriteString("tool_choice"u8, type);
                return;
            case "local_shell" or "shell" or "apply_patch":
                var sent = ClientBuiltInTools.FunctionName(ClientBuiltInTools.Of(type));
                if (bridged.BuiltInOf(sent) == ClientTool.None)
                    throw ResponsesRequestReader.Invalid($"Invalid 'tool_choice': there is no `{type}` tool in 'tools'.", "tool_choice", "invalid_value");
                w.WriteStartObject("tool_choice"u8);
                w.WriteString("type"u8, "function"u8);
                w.WriteStartObject("function"u8);
                w.WriteString("name"u8, sent);
                w.WriteEndObject();
                w.WriteEndObject();
                return;
            case "allowed_tools":
                var mode = ResponsesRequestReader.Str(choice, "mode") ?? "auto";
                if (offered.Count > 0) w.WriteString("tool_choice"u8, mode == "required" ? "required" : "auto");
                return;
            default:
                throw ResponsesRequestReader.Invalid(
                    $"Invalid 'tool_choice': `{type}` forces a tool OpenAI hosts, which this model's provider does not have (LLMux's chat bridge); choose a function or custom tool, or auto",
                    "tool_choice", "unsupported_tool");
        }
    }

    private static void WriteText(Utf8JsonWriter w, JsonElement root, ref List<string>? warnings)
    {
        if (!root.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.Object) return;
        if (text.TryGetProperty("verbosity", out var v) && v.ValueKind == JsonValueKind.String) (warnings ??= []).Add("text.verbosity");
        if (!text.TryGetProperty("format", out var format) || format.ValueKind != JsonValueKind.Object) return;
        switch (ResponsesRequestReader.Str(format, "type"))
        {
            case "json_object":
                w.WriteStartObject("response_format"u8);
                w.WriteString("type"u8, "json_object"u8);
                w.WriteEndObject();
                break;
            case "json_schema":
                w.WriteStartObject("response_format"u8);
                w.WriteString("type"u8, "json_schema"u8);
                w.WriteStartObject("json_schema"u8);
                w.WriteString("name"u8, ResponsesRequestReader.Str(format, "name"));
                if (ResponsesRequestReader.Str(format, "description") is { } d) w.WriteString("description"u8, d);
                w.WritePropertyName("schema"u8);
                format.GetProperty("schema").WriteTo(w);
                if (format.TryGetProperty("strict", out var s) && s.ValueKind is JsonValueKind.True or JsonValueKind.False) w.WriteBoolean("strict"u8, s.ValueKind == JsonValueKind.True);
                w.WriteEndObject();
                w.WriteEndObject();
                break;
        }
    }

    /// <summary><c>reasoning.effort</c> → <c>reasoning_effort</c>, which each provider maps to its thinking controls. <c>summary</c> needs no mapping: the bridge returns whatever reasoning the provider shows.</summary>
    private static void WriteReasoning(Utf8JsonWriter w, JsonElement root)
    {
        if (!root.TryGetProperty("reasoning", out var reasoning) || reasoning.ValueKind != JsonValueKind.Object) return;
        if (ResponsesRequestReader.Str(reasoning, "effort") is { } effort && effort != "none") w.WriteString("reasoning_effort"u8, effort);
    }
}
