using System.Buffers;
using System.Text.Json;
using LLMux.Pipeline.Json;
using Microsoft.Extensions.AI;
using Wire = LLMux.Pipeline.Wire;

namespace LLMux.Stages.Hosting;

/// <summary>Turns M.E.AI messages and options into an OpenAI chat request (the wire model LLMux routes).</summary>
internal static class ChatRequestMapper
{
    /// <summary>M.E.AI's serializer settings without indentation: arguments and results go on the wire as compact JSON.</summary>
    internal static readonly JsonSerializerOptions Compact = CreateCompact();

    private static JsonSerializerOptions CreateCompact()
    {
        var o = new JsonSerializerOptions(AIJsonUtilities.DefaultOptions) { WriteIndented = false };
        o.MakeReadOnly();
        return o;
    }

    public static Wire.ChatRequest ToRequest(IEnumerable<ChatMessage> messages, ChatOptions? options, string? defaultModel, object? client)
    {
        var request = options?.RawRepresentationFactory?.Invoke((IChatClient)client!) as Wire.ChatRequest ?? new Wire.ChatRequest();
        request.Model ??= options?.ModelId ?? defaultModel
            ?? throw new InvalidOperationException("no model: set ChatOptions.ModelId, or give LLMuxChatClient a default model");
        if (options?.ModelId is { } id) request.Model = id;

        var list = request.Messages ?? [];
        if (options?.Instructions is { Length: > 0 } instructions) list.Add(new Wire.ChatMessage { Role = "system", Content = Json(w => w.WriteStringValue(instructions)) });
        foreach (var m in messages) AddMessage(list, m);
        request.Messages = list;

        if (options is null) return request;
        if (options.Temperature is { } t) request.Temperature = t;
        if (options.TopP is { } tp) request.TopP = tp;
        if (options.MaxOutputTokens is { } mt) request.MaxTokens = mt;
        if (options.FrequencyPenalty is { } fp) request.FrequencyPenalty = fp;
        if (options.PresencePenalty is { } pp) request.PresencePenalty = pp;
        if (options.Seed is { } seed) request.Seed = seed;
        if (options.StopSequences is { Count: > 0 } stops) request.Stop = Json(w => { w.WriteStartArray(); foreach (var s in stops) w.WriteStringValue(s); w.WriteEndArray(); });
        if (options.AllowMultipleToolCalls is { } parallel) request.ParallelToolCalls = parallel;
        if (options.Reasoning?.Effort is { } effort && effort != ReasoningEffort.None) request.ReasoningEffort = effort switch
        {
            ReasoningEffort.Low => "low",
            ReasoningEffort.Medium => "medium",
            _ => "high",
        };
        if (options.TopK is { } topK) Extra(request)["top_k"] = Json(w => w.WriteNumberValue(topK));
        AddTools(request, options);
        if (options.ResponseFormat is { } format) request.ResponseFormat = ResponseFormat(format);
        if (options.AdditionalProperties is { Count: > 0 } extra)
        {
            foreach (var (key, value) in extra) Extra(request)[key] = JsonSerializer.SerializeToElement(value, Compact.GetTypeInfo(typeof(object)));
        }
        return request;
    }

    private static Dictionary<string, JsonElement> Extra(Wire.ChatRequest request) => request.Extra ??= new Dictionary<string, JsonElement>(StringComparer.Ordinal);

    private static void AddTools(Wire.ChatRequest request, ChatOptions options)
    {
        if (options.Tools is not { Count: > 0 } tools) return;
        var defs = request.Tools ?? [];
        foreach (var tool in tools)
        {
            if (tool is not AIFunctionDeclaration f) continue; // hosted tools (web search, code interpreter) have no chat-completions form
            defs.Add(new Wire.ToolDefinition
            {
                Type = "function",
                Function = new Wire.FunctionDefinition { Name = f.Name, Description = string.IsNullOrEmpty(f.Description) ? null : f.Description, Parameters = f.JsonSchema },
            });
        }
        if (defs.Count == 0) return;
        request.Tools = defs;
        request.ToolChoice = options.ToolMode switch
        {
            NoneChatToolMode => Json(static w => w.WriteStringValue("none")),
            RequiredChatToolMode { RequiredFunctionName: { } name } => Json(w =>
            {
                w.WriteStartObject();
                w.WriteString("type", "function");
                w.WriteStartObject("function");
                w.WriteString("name", name);
                w.WriteEndObject();
                w.WriteEndObject();
            }),
            RequiredChatToolMode => Json(static w => w.WriteStringValue("required")),
            AutoChatToolMode => Json(static w => w.WriteStringValue("auto")),
            _ => request.ToolChoice,
        };
    }

    private static JsonElement ResponseFormat(ChatResponseFormat format) => format switch
    {
        ChatResponseFormatJson { Schema: { } schema } json => Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("type", "json_schema");
            w.WriteStartObject("json_schema");
            w.WriteString("name", json.SchemaName ?? "response");
            if (json.SchemaDescription is { } d) w.WriteString("description", d);
            w.WritePropertyName("schema");
            schema.WriteTo(w);
            w.WriteEndObject();
            w.WriteEndObject();
        }),
        ChatResponseFormatJson => Json(static w => { w.WriteStartObject(); w.WriteString("type", "json_object"); w.WriteEndObject(); }),
        _ => Json(static w => { w.WriteStartObject(); w.WriteString("type", "text"); w.WriteEndObject(); }),
    };

    private static void AddMessage(List<Wire.ChatMessage> list, ChatMessage m)
    {
        if (m.RawRepresentation is Wire.ChatMessage raw) { list.Add(raw); return; }
        var role = m.Role.Value;
        List<Wire.ToolCall>? calls = null;
        var parts = new List<AIContent>();
        string? reasoning = null;
        foreach (var c in m.Contents)
        {
            switch (c)
            {
                case FunctionCallContent call:
                    (calls ??= []).Add(new Wire.ToolCall
                    {
                        Id = call.CallId,
                        Type = "function",
                        Function = new Wire.FunctionCall { Name = call.Name, Arguments = JsonSerializer.Serialize(call.Arguments ?? new Dictionary<string, object?>(), Compact.GetTypeInfo(typeof(IDictionary<string, object?>))) },
                    });
                    break;
                case FunctionResultContent result:
                    list.Add(new Wire.ChatMessage { Role = "tool", ToolCallId = result.CallId, Content = Json(w => w.WriteStringValue(ResultText(result))) });
                    break;
                case TextReasoningContent r:
                    reasoning = reasoning is null ? r.Text : reasoning + r.Text;
                    break;
                case TextContent or DataContent or UriContent:
                    parts.Add(c);
                    break;
            }
        }
        if (parts.Count == 0 && calls is null) return;
        list.Add(new Wire.ChatMessage
        {
            Role = role,
            Name = m.AuthorName,
            Content = parts.Count == 0 ? null : Content(parts),
            ToolCalls = calls,
            ReasoningContent = role == "assistant" ? reasoning : null,
        });
    }

    private static string ResultText(FunctionResultContent result) => result.Result switch
    {
        null => result.Exception is { } ex ? "Error: " + ex.Message : "",
        string s => s,
        JsonElement e => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText(),
        var o => JsonSerializer.Serialize(o, Compact.GetTypeInfo(o.GetType())),
    };

    /// <summary>A plain string when every part is text (what every provider accepts), else OpenAI content parts.</summary>
    private static JsonElement Content(List<AIContent> parts)
    {
        var allText = true;
        foreach (var p in parts) allText &= p is TextContent;
        if (allText)
        {
            var text = parts.Count == 1 ? ((TextContent)parts[0]).Text : string.Concat(parts.Select(static p => ((TextContent)p).Text));
            return Json(w => w.WriteStringValue(text));
        }
        return Json(w =>
        {
            w.WriteStartArray();
            foreach (var p in parts)
            {
                w.WriteStartObject();
                switch (p)
                {
                    case TextContent t:
                        w.WriteString("type", "text");
                        w.WriteString("text", t.Text);
                        break;
                    case DataContent d when d.HasTopLevelMediaType("image"):
                        w.WriteString("type", "image_url");
                        w.WriteStartObject("image_url");
                        w.WriteString("url", d.Uri);
                        w.WriteEndObject();
                        break;
                    case DataContent d when d.HasTopLevelMediaType("audio"):
                        w.WriteString("type", "input_audio");
                        w.WriteStartObject("input_audio");
                        w.WriteString("data", d.Base64Data.Span);
                        w.WriteString("format", d.MediaType.EndsWith("wav", StringComparison.OrdinalIgnoreCase) ? "wav" : "mp3");
                        w.WriteEndObject();
                        break;
                    case DataContent d:
                        w.WriteString("type", "file");
                        w.WriteStartObject("file");
                        w.WriteString("file_data", d.Uri);
                        if (d.Name is { } name) w.WriteString("filename", name);
                        w.WriteEndObject();
                        break;
                    case UriContent u:
                        w.WriteString("type", "image_url");
                        w.WriteStartObject("image_url");
                        w.WriteString("url", u.Uri.ToString());
                        w.WriteEndObject();
                        break;
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
        });
    }

    public static JsonElement Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var w = new Utf8JsonWriter(buffer, JsonOut.Options)) write(w);
        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        return doc.RootElement.Clone();
    }
}
