using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Gemini;

/// <summary>
/// Writes a Gemini <c>generateContent</c> body from an OpenAI chat request. Only Gemini fields are written:
/// every OpenAI parameter is translated or left out (never forwarded as it is).
/// </summary>
internal static class GeminiRequestWriter
{
    public static PooledBuffer Write(LlmContext context, string model, bool vertex)
    {
        var buffer = new PooledBuffer(Math.Max(1024, context.Body.Length + 256));
        try
        {
            using var w = new Utf8JsonWriter(buffer, JsonOut.Options);
            Write(w, context.Chat!, context, model, vertex);
            w.Flush();
            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    internal static void Write(Utf8JsonWriter w, ChatRequest r, LlmContext context, string model, bool vertex)
    {
        var messages = r.Messages ?? [];
        w.WriteStartObject();
        GeminiContentsWriter.WriteContents(w, messages, model);
        GeminiContentsWriter.WriteSystemInstruction(w, messages);
        WriteTools(w, r, context);
        WriteToolConfig(w, r, context);
        if (Extra(r, context, "safety_settings") is { ValueKind: JsonValueKind.Array } safety)
        {
            w.WritePropertyName("safetySettings"u8);
            safety.WriteTo(w);
        }
        WriteGenerationConfig(w, r, context, model);
        if (Extra(r, context, "cached_content") is { ValueKind: JsonValueKind.String } cached) w.WriteString("cachedContent"u8, cached.GetString());
        if (vertex) WriteLabels(w, r, context);
        w.WriteEndObject();
    }

    /// <summary>Vertex labels: the <c>labels</c> param, else the string values of <c>metadata.requester_metadata</c> (LiteLLM).</summary>
    private static void WriteLabels(Utf8JsonWriter w, ChatRequest r, LlmContext context)
    {
        if (Extra(r, context, "labels") is { ValueKind: JsonValueKind.Object } labels)
        {
            w.WritePropertyName("labels"u8);
            labels.WriteTo(w);
            return;
        }
        if (r.Extra is null || !r.Extra.TryGetValue("metadata", out var metadata) || metadata.ValueKind != JsonValueKind.Object
            || !metadata.TryGetProperty("requester_metadata", out var requester) || requester.ValueKind != JsonValueKind.Object) return;
        var open = false;
        foreach (var p in requester.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String) continue;
            if (!open) { w.WriteStartObject("labels"u8); open = true; }
            w.WriteString(p.Name, p.Value.GetString());
        }
        if (open) w.WriteEndObject();
    }

    private static JsonElement? Extra(ChatRequest r, LlmContext context, string name) =>
        r.Extra is { } extra && extra.TryGetValue(name, out var v) && v.ValueKind != JsonValueKind.Null && !context.IsDropped(name) ? v : null;

    private static bool Use(LlmContext context, string name) => !context.IsDropped(name);

    private static void WriteTools(Utf8JsonWriter w, ChatRequest r, LlmContext context)
    {
        var tools = Use(context, "tools") ? r.Tools : null;
        var functions = Use(context, "functions") && r.Functions is { ValueKind: JsonValueKind.Array } f ? f : (JsonElement?)null;
        var webSearch = Extra(r, context, "web_search_options") is not null;
        var functionCount = 0;
        if (tools is not null) foreach (var t in tools) if (t.Function is not null && t.Type is null or "function") functionCount++;
        if (functions is { } fs) functionCount += fs.GetArrayLength();

        if (r.ParallelToolCalls == false && functionCount > 1 && !context.DropParams && Use(context, "parallel_tool_calls"))
        {
            throw new LlmError
            {
                Kind = ErrorKind.UnsupportedParam,
                Message = "parallel_tool_calls: false cannot be honoured by Gemini when more than one tool is given; pass one tool, remove parallel_tool_calls, or set drop_params",
                Param = "parallel_tool_calls",
                Code = "unsupported_parameter",
            }.ToException();
        }

        var builtIns = 0;
        if (tools is not null) foreach (var t in tools) if (IsBuiltIn(t)) builtIns++;
        if (functionCount == 0 && builtIns == 0 && !webSearch) return;

        w.WriteStartArray("tools"u8);
        if (functionCount > 0)
        {
            w.WriteStartObject();
            w.WriteStartArray("function_declarations"u8);
            if (tools is not null)
            {
                for (var i = 0; i < tools.Count; i++)
                {
                    var fn = tools[i].Function;
                    if (fn is null || tools[i].Type is not (null or "function")) continue;
                    WriteDeclaration(w, fn.Name, fn.Description, fn.Parameters, $"tools[{i}].function.parameters");
                }
            }
            if (functions is { } list)
            {
                var i = 0;
                foreach (var fn in list.EnumerateArray())
                {
                    WriteDeclaration(w, Str(fn, "name"), Str(fn, "description"), fn.TryGetProperty("parameters", out var p) ? p : null, $"functions[{i++}].parameters");
                }
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        var wroteSearch = false;
        if (tools is not null)
        {
            foreach (var t in tools)
            {
                if (t.Type is "web_search" or "web_search_preview")
                {
                    if (!wroteSearch) WriteEmptyTool(w, "googleSearch");
                    wroteSearch = true;
                }
                else if (t.Type is null && t.Extra is { } extra)
                {
                    foreach (var (key, value) in extra)
                    {
                        var name = BuiltInName(key);
                        if (name is null) continue;
                        if (name == "googleSearch") { if (wroteSearch) continue; wroteSearch = true; }
                        w.WriteStartObject();
                        w.WritePropertyName(name);
                        value.WriteTo(w);
                        w.WriteEndObject();
                    }
                }
            }
        }
        if (webSearch && !wroteSearch) WriteEmptyTool(w, "googleSearch");
        w.WriteEndArray();
    }

    private static bool IsBuiltIn(ToolDefinition t)
    {
        if (t.Type is "web_search" or "web_search_preview") return true;
        if (t.Type is not null || t.Extra is null) return false;
        foreach (var (key, _) in t.Extra) if (BuiltInName(key) is not null) return true;
        return false;
    }

    /// <summary>Gemini built-in tools by the keys LiteLLM accepts.</summary>
    private static string? BuiltInName(string key) => key switch
    {
        "googleSearch" or "google_search" => "googleSearch",
        "googleSearchRetrieval" or "google_search_retrieval" => "googleSearchRetrieval",
        "enterpriseWebSearch" or "enterprise_web_search" => "enterpriseWebSearch",
        "urlContext" or "url_context" => "urlContext",
        "codeExecution" or "code_execution" => "codeExecution",
        "googleMaps" or "google_maps" => "googleMaps",
        "computerUse" or "computer_use" => "computerUse",
        _ => null,
    };

    private static void WriteEmptyTool(Utf8JsonWriter w, string name)
    {
        w.WriteStartObject();
        w.WriteStartObject(name);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteDeclaration(Utf8JsonWriter w, string? name, string? description, JsonElement? parameters, string param)
    {
        w.WriteStartObject();
        w.WriteString("name"u8, name ?? "");
        if (!string.IsNullOrEmpty(description)) w.WriteString("description"u8, description);
        if (parameters is { ValueKind: JsonValueKind.Object } p)
        {
            w.WritePropertyName("parameters"u8);
            GeminiSchemaConverter.ToOpenApi(p, propertyOrdering: false, param).WriteTo(w);
        }
        w.WriteEndObject();
    }

    private static void WriteToolConfig(Utf8JsonWriter w, ChatRequest r, LlmContext context)
    {
        if (!Use(context, "tool_choice") || r.ToolChoice is not { } choice || choice.ValueKind == JsonValueKind.Null) return;
        string mode;
        string? only = null;
        if (choice.ValueKind == JsonValueKind.String)
        {
            mode = choice.GetString() switch
            {
                "none" => "NONE",
                "auto" => "AUTO",
                "required" => "ANY",
                var other => throw LlmError.Invalid($"tool_choice `{other}` is not one of none, auto, required or a named function", "tool_choice").ToException(),
            };
        }
        else if (choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("function", out var fn) && Str(fn, "name") is { } name)
        {
            mode = "ANY";
            only = name;
        }
        else throw LlmError.Invalid("tool_choice must be none, auto, required or {\"type\":\"function\",\"function\":{\"name\":...}} for Gemini", "tool_choice").ToException();

        w.WriteStartObject("toolConfig"u8);
        w.WriteStartObject("functionCallingConfig"u8);
        w.WriteString("mode"u8, mode);
        if (only is not null)
        {
            w.WriteStartArray("allowed_function_names"u8);
            w.WriteStringValue(only);
            w.WriteEndArray();
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteGenerationConfig(Utf8JsonWriter w, ChatRequest r, LlmContext context, string model)
    {
        w.WriteStartObject("generationConfig"u8);
        if (r.Temperature is { } temperature && Use(context, "temperature")) w.WriteNumber("temperature"u8, temperature);
        else if (GeminiModels.IsGemini3(model)) w.WriteNumber("temperature"u8, 1.0); // LiteLLM: gemini-3 degrades below 1.0
        if (r.TopP is { } topP && Use(context, "top_p")) w.WriteNumber("top_p"u8, topP);
        if (Extra(r, context, "top_k") is { ValueKind: JsonValueKind.Number } topK)
        {
            w.WritePropertyName("top_k"u8);
            topK.WriteTo(w);
        }
        var maxTokens = (Use(context, "max_completion_tokens") ? r.MaxCompletionTokens : null) ?? (Use(context, "max_tokens") ? r.MaxTokens : null);
        if (maxTokens is { } max) w.WriteNumber("max_output_tokens"u8, max);
        if (r.N is { } n && Use(context, "n")) w.WriteNumber("candidate_count"u8, n);
        if (Use(context, "stop"))
        {
            var stops = r.StopSequences();
            if (stops.Count > 0)
            {
                w.WriteStartArray("stop_sequences"u8);
                foreach (var s in stops) w.WriteStringValue(s);
                w.WriteEndArray();
            }
        }
        if (!GeminiModels.LacksPenalties(model))
        {
            if (r.PresencePenalty is { } pp && Use(context, "presence_penalty")) w.WriteNumber("presence_penalty"u8, pp);
            if (r.FrequencyPenalty is { } fp && Use(context, "frequency_penalty")) w.WriteNumber("frequency_penalty"u8, fp);
        }
        if (r.Seed is { } seed && Use(context, "seed")) w.WriteNumber("seed"u8, seed);
        if (r.Logprobs is { } logprobs && Use(context, "logprobs")) w.WriteBoolean("responseLogprobs"u8, logprobs);
        if (r.TopLogprobs is { } top && Use(context, "top_logprobs")) w.WriteNumber("logprobs"u8, top);
        WriteResponseFormat(w, r, context, model);
        WriteModalities(w, r, context);
        var thinking = GeminiThinking.Resolve(model, Use(context, "reasoning_effort") ? r.ReasoningEffort : null, Extra(r, context, "thinking"));
        if (thinking is { } t) GeminiThinking.Write(w, t);
        w.WriteEndObject();
    }

    private static void WriteResponseFormat(Utf8JsonWriter w, ChatRequest r, LlmContext context, string model)
    {
        if (!Use(context, "response_format") || r.ResponseFormat is not { ValueKind: JsonValueKind.Object } format) return;
        var type = Str(format, "type");
        switch (type)
        {
            case "text":
                w.WriteString("response_mime_type"u8, "text/plain"u8);
                return;
            case "json_object":
                w.WriteString("response_mime_type"u8, "application/json"u8);
                return;
            case "json_schema":
                w.WriteString("response_mime_type"u8, "application/json"u8);
                if (format.TryGetProperty("json_schema", out var js) && js.ValueKind == JsonValueKind.Object
                    && js.TryGetProperty("schema", out var schema) && schema.ValueKind == JsonValueKind.Object)
                {
                    if (GeminiModels.SupportsJsonSchema(model))
                    {
                        w.WritePropertyName("response_json_schema"u8);
                        GeminiSchemaConverter.ToJsonSchema(schema, "response_format.json_schema.schema").WriteTo(w);
                    }
                    else
                    {
                        w.WritePropertyName("response_schema"u8);
                        GeminiSchemaConverter.ToOpenApi(schema, propertyOrdering: true, "response_format.json_schema.schema").WriteTo(w);
                    }
                }
                return;
            default:
                throw LlmError.Invalid($"response_format type `{type}` is not one of text, json_object, json_schema", "response_format").ToException();
        }
    }

    private static void WriteModalities(Utf8JsonWriter w, ChatRequest r, LlmContext context)
    {
        var modalities = Extra(r, context, "modalities");
        var audio = Extra(r, context, "audio");
        if (modalities is not { ValueKind: JsonValueKind.Array } && audio is null) return;
        var wroteAudio = false;
        w.WriteStartArray("responseModalities"u8);
        if (modalities is { ValueKind: JsonValueKind.Array } list)
        {
            foreach (var m in list.EnumerateArray())
            {
                var name = m.ValueKind == JsonValueKind.String ? m.GetString() : null;
                var upper = name switch { "text" => "TEXT", "image" => "IMAGE", "audio" => "AUDIO", _ => "MODALITY_UNSPECIFIED" };
                if (upper == "AUDIO") { if (wroteAudio) continue; wroteAudio = true; }
                w.WriteStringValue(upper);
            }
        }
        if (audio is not null && !wroteAudio) w.WriteStringValue("AUDIO");
        w.WriteEndArray();
        if (audio is { ValueKind: JsonValueKind.Object } a)
        {
            if (Str(a, "format") is { } f && f != "pcm16")
                throw LlmError.Invalid($"audio.format `{f}` is not supported by Gemini; use pcm16", "audio").ToException();
            if (Str(a, "voice") is { } voice)
            {
                w.WriteStartObject("speechConfig"u8);
                w.WriteStartObject("voiceConfig"u8);
                w.WriteStartObject("prebuiltVoiceConfig"u8);
                w.WriteString("voiceName"u8, voice);
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteEndObject();
            }
        }
    }

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
