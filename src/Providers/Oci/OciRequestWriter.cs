using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Oci;

/// <summary>
/// An OpenAI chat request → OCI <c>ChatDetails</c> (LiteLLM's OCIChatConfig.transform_request): GENERIC for every
/// vendor but Cohere (messages with TEXT/IMAGE parts, FUNCTION tools and tool calls), COHERE for <c>cohere.*</c>
/// models (the last user message as <c>message</c>, the turns before it as <c>chatHistory</c>, system text as
/// <c>preambleOverride</c>, tools as <c>parameterDefinitions</c>).
/// </summary>
internal static class OciRequestWriter
{
    public static bool IsCohere(string model) => model.StartsWith("cohere.", StringComparison.OrdinalIgnoreCase);

    public static OciChatDetails Build(LlmContext context)
    {
        var deployment = context.Deployment!;
        var r = context.Chat!;
        var model = deployment.UpstreamModel;
        return new OciChatDetails
        {
            CompartmentId = OciCredentials.CompartmentId(deployment),
            ServingMode = ServingMode(deployment, model),
            ChatRequest = IsCohere(model) ? Cohere(context, r) : Generic(context, r),
        };
    }

    private static OciServingMode ServingMode(Deployment deployment, string model)
    {
        var type = deployment.Setting("oci_serving_mode") ?? "ON_DEMAND";
        return type switch
        {
            "ON_DEMAND" => new OciServingMode { ServingType = type, ModelId = model },
            "DEDICATED" => new OciServingMode { ServingType = type, EndpointId = deployment.Setting("oci_endpoint_id") ?? model },
            _ => throw LlmError.Invalid($"{OciSpec.Name}: oci_serving_mode must be ON_DEMAND or DEDICATED, not `{type}`", "oci_serving_mode").ToException(),
        };
    }

    private static OciChatRequest Generic(LlmContext context, ChatRequest r)
    {
        var messages = new List<OciMessage>(r.Messages!.Count);
        foreach (var m in r.Messages) messages.Add(GenericMessage(m));
        return new OciChatRequest
        {
            ApiFormat = "GENERIC",
            Messages = messages,
            IsStream = r.IsStream,
            // OCI reports usage in a stream only when asked; LLMux always asks, so that a stream is priced.
            StreamOptions = r.IsStream ? new OciStreamOptions { IsIncludeUsage = true } : null,
            MaxTokens = Keep(context, "max_completion_tokens") && r.MaxCompletionTokens is { } mct ? mct : Keep(context, "max_tokens") ? r.MaxTokens : null,
            Temperature = Keep(context, "temperature") ? r.Temperature : null,
            TopP = Keep(context, "top_p") ? r.TopP : null,
            Seed = Keep(context, "seed") ? r.Seed : null,
            FrequencyPenalty = Keep(context, "frequency_penalty") ? r.FrequencyPenalty : null,
            PresencePenalty = Keep(context, "presence_penalty") ? r.PresencePenalty : null,
            NumGenerations = Keep(context, "n") ? r.N : null,
            Stop = Keep(context, "stop") && r.StopSequences() is { Count: > 0 } stops ? stops : null,
            LogProbs = Keep(context, "logprobs") && r.Logprobs == true ? 1 : null,
            LogitBias = Keep(context, "logit_bias") ? r.LogitBias : null,
            Tools = Keep(context, "tools") && r.Tools is { Count: > 0 } tools ? GenericTools(tools) : null,
            ToolChoice = Keep(context, "tool_choice") ? ToolChoice(r.ToolChoice) : null,
            ResponseFormat = Keep(context, "response_format") ? GenericResponseFormat(r.ResponseFormat) : null,
        };
    }

    private static OciMessage GenericMessage(ChatMessage m)
    {
        var role = m.Role switch
        {
            "system" or "developer" => "SYSTEM",
            "user" => "USER",
            "assistant" => "ASSISTANT",
            "tool" => "TOOL",
            _ => throw LlmError.Invalid($"{OciSpec.Name}: role `{m.Role}` has no OCI equivalent", "messages").ToException(),
        };
        if (role == "ASSISTANT" && m.ToolCalls is { Count: > 0 } calls)
        {
            var list = new List<OciToolCall>(calls.Count);
            foreach (var c in calls)
                list.Add(new OciToolCall { Id = c.Id, Name = c.Function?.Name, Arguments = c.Function?.Arguments ?? "{}" });
            return new OciMessage { Role = role, ToolCalls = list, Content = TextParts(m.TextContent()) };
        }
        if (role == "TOOL")
        {
            if (string.IsNullOrEmpty(m.ToolCallId)) throw LlmError.Invalid($"{OciSpec.Name}: a tool message needs tool_call_id", "messages").ToException();
            return new OciMessage { Role = role, ToolCallId = m.ToolCallId, Content = [new OciContent { Type = "TEXT", Text = m.TextContent() ?? "" }] };
        }
        return new OciMessage { Role = role, Content = Parts(m.Content) };
    }

    private static List<OciContent>? TextParts(string? text) => string.IsNullOrEmpty(text) ? null : [new OciContent { Type = "TEXT", Text = text }];

    private static List<OciContent> Parts(JsonElement? content)
    {
        if (content is not { } c || c.ValueKind == JsonValueKind.Null) return [];
        if (c.ValueKind == JsonValueKind.String) return [new OciContent { Type = "TEXT", Text = c.GetString() }];
        var parts = new List<OciContent>();
        foreach (var part in c.EnumerateArray())
        {
            var type = part.TryGetProperty("type", out var t) ? t.GetString() : null;
            switch (type)
            {
                case "text":
                    parts.Add(new OciContent { Type = "TEXT", Text = part.TryGetProperty("text", out var text) ? text.GetString() : "" });
                    break;
                case "image_url":
                    var image = part.GetProperty("image_url");
                    var url = image.ValueKind == JsonValueKind.String ? image.GetString() : image.TryGetProperty("url", out var u) ? u.GetString() : null;
                    var detail = image.ValueKind == JsonValueKind.Object && image.TryGetProperty("detail", out var d) ? d.GetString()?.ToUpperInvariant() : null;
                    if (url is null) throw LlmError.Invalid($"{OciSpec.Name}: image_url needs a url", "messages").ToException();
                    parts.Add(new OciContent { Type = "IMAGE", ImageUrl = new OciImageUrl { Url = url, Detail = detail } });
                    break;
                default:
                    throw LlmError.Invalid($"{OciSpec.Name}: content part `{type}` is not supported (OCI takes text and image_url)", "messages").ToException();
            }
        }
        return parts;
    }

    private static List<object> GenericTools(List<ToolDefinition> tools)
    {
        var list = new List<object>(tools.Count);
        foreach (var t in tools)
        {
            if (t.Type != "function" || t.Function?.Name is not { } name) throw LlmError.Invalid($"{OciSpec.Name} takes function tools only", "tools").ToException();
            list.Add(new OciTool { Name = name, Description = t.Function.Description ?? "", Parameters = t.Function.Parameters });
        }
        return list;
    }

    /// <summary>OpenAI's <c>tool_choice</c> → OCI's ToolChoice object (<c>AUTO</c>, <c>NONE</c>, <c>REQUIRED</c>, <c>FUNCTION</c> + name).</summary>
    private static OciToolChoice? ToolChoice(JsonElement? choice)
    {
        if (choice is not { } c) return null;
        if (c.ValueKind == JsonValueKind.String)
        {
            return c.GetString() switch
            {
                "auto" => new OciToolChoice { Type = "AUTO" },
                "none" => new OciToolChoice { Type = "NONE" },
                "required" => new OciToolChoice { Type = "REQUIRED" },
                var other => throw LlmError.Invalid($"{OciSpec.Name}: tool_choice `{other}` is not one of auto, none, required", "tool_choice").ToException(),
            };
        }
        if (c.ValueKind == JsonValueKind.Object && c.TryGetProperty("function", out var f) && f.TryGetProperty("name", out var n))
            return new OciToolChoice { Type = "FUNCTION", Name = n.GetString() };
        return null;
    }

    private static OciResponseFormat? GenericResponseFormat(JsonElement? format)
    {
        if (format is not { ValueKind: JsonValueKind.Object } f || !f.TryGetProperty("type", out var type)) return null;
        switch (type.GetString())
        {
            case "text": return new OciResponseFormat { Type = "TEXT" };
            case "json_object": return new OciResponseFormat { Type = "JSON_OBJECT" };
            case "json_schema":
                var js = f.TryGetProperty("json_schema", out var s) ? s : default;
                return new OciResponseFormat
                {
                    Type = "JSON_SCHEMA",
                    JsonSchema = new OciJsonSchema
                    {
                        Name = js.ValueKind == JsonValueKind.Object && js.TryGetProperty("name", out var name) ? name.GetString() ?? "response" : "response",
                        Description = js.ValueKind == JsonValueKind.Object && js.TryGetProperty("description", out var d) ? d.GetString() : null,
                        Schema = js.ValueKind == JsonValueKind.Object && js.TryGetProperty("schema", out var schema) ? schema : null,
                        IsStrict = js.ValueKind == JsonValueKind.Object && js.TryGetProperty("strict", out var strict) && strict.ValueKind is JsonValueKind.True or JsonValueKind.False ? strict.GetBoolean() : null,
                    },
                };
            default: return null;
        }
    }

    private static OciChatRequest Cohere(LlmContext context, ChatRequest r)
    {
        var messages = r.Messages!;
        var lastUser = -1;
        for (var i = messages.Count - 1; i >= 0; i--) if (messages[i].Role == "user") { lastUser = i; break; }
        if (lastUser < 0) throw LlmError.Invalid($"{OciSpec.Name}: Cohere models need a user message", "messages").ToException();
        string? preamble = null;
        var history = new List<OciCohereMessage>();
        for (var i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            var text = m.TextContent() ?? "";
            switch (m.Role)
            {
                case "system" or "developer":
                    preamble = preamble is null ? text : preamble + "\n" + text;
                    break;
                case "user" when i != lastUser:
                    history.Add(new OciCohereMessage { Role = "USER", Message = text });
                    break;
                case "assistant":
                    List<OciCohereToolCall>? calls = null;
                    if (m.ToolCalls is { Count: > 0 } tc)
                    {
                        calls = new List<OciCohereToolCall>(tc.Count);
                        foreach (var c in tc) calls.Add(new OciCohereToolCall { Name = c.Function?.Name ?? "", Parameters = Arguments(c.Function?.Arguments) });
                    }
                    history.Add(new OciCohereMessage { Role = "CHATBOT", Message = text, ToolCalls = calls });
                    break;
                case "tool":
                    history.Add(new OciCohereMessage { Role = "TOOL", Message = text });
                    break;
            }
        }
        return new OciChatRequest
        {
            ApiFormat = "COHERE",
            Message = messages[lastUser].TextContent() ?? "",
            ChatHistory = history.Count == 0 ? null : history,
            PreambleOverride = preamble,
            IsStream = r.IsStream,
            MaxTokens = Keep(context, "max_completion_tokens") && r.MaxCompletionTokens is { } mct ? mct : Keep(context, "max_tokens") ? r.MaxTokens : null,
            Temperature = Keep(context, "temperature") ? r.Temperature : null,
            TopP = Keep(context, "top_p") ? r.TopP : null,
            TopK = Keep(context, "top_k") && r.Extra is { } extra && extra.TryGetValue("top_k", out var k) && k.TryGetInt32(out var kv) ? kv : null,
            Seed = Keep(context, "seed") ? r.Seed : null,
            FrequencyPenalty = Keep(context, "frequency_penalty") ? r.FrequencyPenalty : null,
            PresencePenalty = Keep(context, "presence_penalty") ? r.PresencePenalty : null,
            StopSequences = Keep(context, "stop") && r.StopSequences() is { Count: > 0 } stops ? stops : null,
            Tools = Keep(context, "tools") && r.Tools is { Count: > 0 } tools ? CohereTools(tools) : null,
            ResponseFormat = Keep(context, "response_format") ? CohereResponseFormat(r.ResponseFormat) : null,
        };
    }

    private static JsonElement? Arguments(string? json)
    {
        if (string.IsNullOrEmpty(json)) return null;
        try
        {
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static List<object> CohereTools(List<ToolDefinition> tools)
    {
        var list = new List<object>(tools.Count);
        foreach (var t in tools)
        {
            if (t.Type != "function" || t.Function?.Name is not { } name) throw LlmError.Invalid($"{OciSpec.Name} takes function tools only", "tools").ToException();
            var definitions = new Dictionary<string, OciCohereParameter>(StringComparer.Ordinal);
            if (t.Function.Parameters is { ValueKind: JsonValueKind.Object } schema && schema.TryGetProperty("properties", out var props) && props.ValueKind == JsonValueKind.Object)
            {
                var required = new HashSet<string>(StringComparer.Ordinal);
                if (schema.TryGetProperty("required", out var req) && req.ValueKind == JsonValueKind.Array)
                    foreach (var e in req.EnumerateArray()) if (e.GetString() is { } s) required.Add(s);
                foreach (var p in props.EnumerateObject())
                {
                    definitions[p.Name] = new OciCohereParameter
                    {
                        Description = p.Value.TryGetProperty("description", out var d) ? d.GetString() ?? "" : "",
                        Type = p.Value.TryGetProperty("type", out var ty) && ty.ValueKind == JsonValueKind.String ? ty.GetString()! : "string",
                        IsRequired = required.Contains(p.Name),
                    };
                }
            }
            list.Add(new OciCohereTool { Name = name, Description = t.Function.Description ?? "", ParameterDefinitions = definitions });
        }
        return list;
    }

    private static OciResponseFormat? CohereResponseFormat(JsonElement? format)
    {
        if (format is not { ValueKind: JsonValueKind.Object } f || !f.TryGetProperty("type", out var type)) return null;
        return type.GetString() switch
        {
            "text" => new OciResponseFormat { Type = "TEXT" },
            "json_object" => new OciResponseFormat { Type = "JSON_OBJECT" },
            "json_schema" => new OciResponseFormat
            {
                Type = "JSON_OBJECT",
                Schema = f.TryGetProperty("json_schema", out var js) && js.ValueKind == JsonValueKind.Object && js.TryGetProperty("schema", out var schema) ? schema : null,
            },
            _ => null,
        };
    }

    private static bool Keep(LlmContext context, string param) => !context.IsDropped(param);
}
