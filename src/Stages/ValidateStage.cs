using System.Text.Json;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;

namespace LLMux.Stages;

/// <summary>
/// Reads the inbound body into the wire model and checks it before anything else happens: a request that
/// fails here never reaches a router or an upstream.
/// </summary>
public sealed class ValidateStage : ILlmStage
{
    private static readonly HashSet<string> Roles = ["system", "developer", "user", "assistant", "tool", "function"];

    public ValueTask InvokeAsync(LlmContext context, StageDelegate next)
    {
        // A Messages passthrough was validated by Anthropic's rules at the endpoint; its body is not an OpenAI request.
        if (context.MessagesPassthrough) return next(context);
        // A native /v1/responses passthrough was validated by the Responses endpoint; its body is not a chat request.
        if (context.Mode == LlmMode.Responses) return next(context);
        if (context.Mode == LlmMode.Embeddings) ValidateEmbedding(context);
        else if (context.Mode == LlmMode.Chat) ValidateChat(context);
        // The other modes (completion, rerank, moderation, images, audio) were validated by their endpoints (ModeRequest).
        return next(context);
    }

    private static T Parse<T>(ReadOnlyMemory<byte> body, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info) where T : class
    {
        if (body.IsEmpty) throw LlmError.Invalid("request body is empty; send a JSON object").ToException();
        try
        {
            return JsonSerializer.Deserialize(body.Span, info) ?? throw LlmError.Invalid("request body must be a JSON object, not null").ToException();
        }
        catch (JsonException ex)
        {
            throw JsonError(ex).ToException(ex);
        }
        catch (InvalidOperationException ex)
        {
            // Invalid UTF-8 surfaces as InvalidOperationException from some converters.
            throw LlmError.Invalid($"request body is not valid UTF-8 JSON: {ex.Message}").ToException(ex);
        }
    }

    internal static LlmError JsonError(JsonException ex)
    {
        var path = ex.Path is { Length: > 2 } p && p.StartsWith("$.", StringComparison.Ordinal) ? p[2..] : null;
        if (path is not null && ex.Message.Contains("could not be converted", StringComparison.Ordinal))
        {
            return LlmError.Invalid($"`{path}` has the wrong type: {Describe(ex)}", path, "invalid_type");
        }
        if (ex.Message.Contains("maximum configured depth", StringComparison.Ordinal))
        {
            return LlmError.Invalid("request body nests too deeply (more than 64 levels)", path);
        }
        return LlmError.Invalid($"request body is not valid JSON: {ex.Message}", path, "invalid_json");
    }

    private static string Describe(JsonException ex)
    {
        var m = ex.Message;
        var cut = m.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? m[..cut] : m;
    }

    private static void ValidateChat(LlmContext context)
    {
        var r = Parse(context.Body, WireJson.Default.ChatRequest);
        context.Chat = r;
        ReadTimeout(context, r.Extra);
        RequireModel(r.Model);
        context.UseModel(r.Model!);
        context.IsStream = r.IsStream;

        if (r.Messages is null) throw LlmError.Invalid("`messages` is required: a non-empty array of messages", "messages").ToException();
        if (r.Messages.Count == 0) throw LlmError.Invalid("`messages` must not be empty", "messages").ToException();
        for (var i = 0; i < r.Messages.Count; i++) ValidateMessage(r.Messages[i], i);

        if (r.Temperature is { } t && (t < 0 || t > 2 || double.IsNaN(t))) throw LlmError.Invalid("`temperature` must be between 0 and 2", "temperature").ToException();
        if (r.TopP is { } tp && (tp < 0 || tp > 1)) throw LlmError.Invalid("`top_p` must be between 0 and 1", "top_p").ToException();
        if (r.MaxTokens is { } mt && mt < 1) throw LlmError.Invalid("`max_tokens` must be an integer of at least 1", "max_tokens").ToException();
        if (r.MaxCompletionTokens is { } mct && mct < 1) throw LlmError.Invalid("`max_completion_tokens` must be an integer of at least 1", "max_completion_tokens").ToException();
        if (r.N is { } n && (n < 1 || n > 128)) throw LlmError.Invalid("`n` must be between 1 and 128", "n").ToException();
        if (r.PresencePenalty is { } pp && (pp < -2 || pp > 2)) throw LlmError.Invalid("`presence_penalty` must be between -2 and 2", "presence_penalty").ToException();
        if (r.FrequencyPenalty is { } fp && (fp < -2 || fp > 2)) throw LlmError.Invalid("`frequency_penalty` must be between -2 and 2", "frequency_penalty").ToException();
        if (r.TopLogprobs is { } tl && (tl < 0 || tl > 20)) throw LlmError.Invalid("`top_logprobs` must be between 0 and 20", "top_logprobs").ToException();
        if (r.Stop is { } stop) ValidateStop(stop);
        ValidateTools(r);
        if (r.ResponseFormat is { } rf) ValidateResponseFormat(rf);
    }

    /// <summary>LiteLLM's per-request <c>timeout</c> (seconds) in the body; the <c>x-litellm-timeout</c> header was read by the host.</summary>
    private static void ReadTimeout(LlmContext context, Dictionary<string, JsonElement>? extra)
    {
        if (extra is null || !extra.TryGetValue("timeout", out var t) || t.ValueKind == JsonValueKind.Null) return;
        if (t.ValueKind != JsonValueKind.Number || !t.TryGetDouble(out var seconds) || seconds <= 0 || seconds > 86_400)
            throw LlmError.Invalid("`timeout` must be a positive number of seconds", "timeout").ToException();
        context.RequestTimeout = TimeSpan.FromSeconds(seconds);
    }

    private static void RequireModel(string? model)
    {
        if (string.IsNullOrWhiteSpace(model)) throw LlmError.Invalid("`model` is required: the name of a configured model (GET /v1/models lists them)", "model").ToException();
    }

    // The JSON paths below (messages[i], messages[i].content[k], tools[i]) are built only when a check fails: a valid
    // request allocates no string per message, content part or tool.
    private static string MessageAt(int i) => $"messages[{i}]";

    private static void ValidateMessage(ChatMessage? m, int i)
    {
        if (m is null) throw LlmError.Invalid($"`{MessageAt(i)}` must be an object with a `role`", MessageAt(i)).ToException();
        if (m.Role is null) throw LlmError.Invalid($"`{MessageAt(i)}.role` is required (system, developer, user, assistant, tool or function)", $"{MessageAt(i)}.role").ToException();
        if (!Roles.Contains(m.Role)) throw LlmError.Invalid($"`{MessageAt(i)}.role` is `{m.Role}`; it must be one of system, developer, user, assistant, tool, function", $"{MessageAt(i)}.role").ToException();

        var hasToolCalls = m.ToolCalls is { Count: > 0 } || m.FunctionCall is { ValueKind: JsonValueKind.Object };
        // The kind is read without building the element: a string content stays a string (no document per message).
        var kind = m.ContentKind;
        if (kind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            if (m.Role == "assistant" && (hasToolCalls || m.ThinkingBlocks is not null || m.ReasoningContent is not null)) return;
            if (m.Role == "assistant") return; // An empty assistant turn is allowed by OpenAI.
            throw LlmError.Invalid($"`{MessageAt(i)}.content` is required for role `{m.Role}`", $"{MessageAt(i)}.content").ToException();
        }
        if (kind == JsonValueKind.String) { ValidateToolMessage(m, i); return; }
        var c = m.Content!.Value;
        if (kind != JsonValueKind.Array) throw LlmError.Invalid($"`{MessageAt(i)}.content` must be a string or an array of content parts", $"{MessageAt(i)}.content").ToException();
        var k = 0;
        foreach (var part in c.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
                throw LlmError.Invalid($"`{MessageAt(i)}.content[{k}]` must be an object with a string `type` (text, image_url, input_audio, file)", $"{MessageAt(i)}.content[{k}]").ToException();
            if (type.ValueEquals("text") && (!part.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String))
                throw LlmError.Invalid($"`{MessageAt(i)}.content[{k}].text` must be a string", $"{MessageAt(i)}.content[{k}].text").ToException();
            if (type.ValueEquals("image_url") && (!part.TryGetProperty("image_url", out var img)
                || !(img.ValueKind == JsonValueKind.String || (img.ValueKind == JsonValueKind.Object && img.TryGetProperty("url", out var url) && url.ValueKind == JsonValueKind.String))))
                throw LlmError.Invalid($"`{MessageAt(i)}.content[{k}].image_url.url` must be a string (an http(s) URL or a data URI)", $"{MessageAt(i)}.content[{k}].image_url").ToException();
            k++;
        }
        ValidateToolMessage(m, i);
    }

    private static void ValidateToolMessage(ChatMessage m, int i)
    {
        if (m.Role == "tool" && string.IsNullOrEmpty(m.ToolCallId))
            throw LlmError.Invalid($"`{MessageAt(i)}.tool_call_id` is required for role `tool`", $"{MessageAt(i)}.tool_call_id").ToException();
    }

    private static void ValidateStop(JsonElement stop)
    {
        if (stop.ValueKind is JsonValueKind.String or JsonValueKind.Null) return;
        if (stop.ValueKind == JsonValueKind.Array)
        {
            foreach (var s in stop.EnumerateArray())
                if (s.ValueKind != JsonValueKind.String) throw LlmError.Invalid("`stop` must be a string or an array of strings", "stop").ToException();
            return;
        }
        throw LlmError.Invalid("`stop` must be a string or an array of strings", "stop").ToException();
    }

    private static void ValidateTools(ChatRequest r)
    {
        if (r.Tools is { } tools)
        {
            for (var i = 0; i < tools.Count; i++)
            {
                var t = tools[i];
                if (t is null || t.Type is null) throw LlmError.Invalid($"`tools[{i}].type` is required (\"function\")", $"tools[{i}].type").ToException();
                if (t.Type == "function" && string.IsNullOrEmpty(t.Function?.Name))
                    throw LlmError.Invalid($"`tools[{i}].function.name` is required", $"tools[{i}].function.name").ToException();
                if (t.Function?.Parameters is { } p && p.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
                    throw LlmError.Invalid($"`tools[{i}].function.parameters` must be a JSON Schema object", $"tools[{i}].function.parameters").ToException();
            }
        }
        if (r.ToolChoice is not { } choice || choice.ValueKind == JsonValueKind.Null) return;
        if (choice.ValueKind == JsonValueKind.String)
        {
            if (choice.ValueEquals("none") || choice.ValueEquals("auto") || choice.ValueEquals("required")) return;
            throw LlmError.Invalid("`tool_choice` must be none, auto, required or {\"type\":\"function\",\"function\":{\"name\":...}}", "tool_choice").ToException();
        }
        if (choice.ValueKind != JsonValueKind.Object)
            throw LlmError.Invalid("`tool_choice` must be a string or an object", "tool_choice").ToException();
        if (!choice.TryGetProperty("function", out var fn) || fn.ValueKind != JsonValueKind.Object || !fn.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
            throw LlmError.Invalid("`tool_choice.function.name` is required when tool_choice is an object", "tool_choice").ToException();
        var wanted = name.GetString();
        if (r.Tools is { } ts)
        {
            foreach (var t in ts) if (t.Function?.Name == wanted) return;
        }
        throw LlmError.Invalid($"`tool_choice` names the function `{wanted}`, which is not in `tools`", "tool_choice").ToException();
    }

    private static void ValidateResponseFormat(JsonElement rf)
    {
        if (rf.ValueKind == JsonValueKind.Null) return;
        if (rf.ValueKind != JsonValueKind.Object || !rf.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            throw LlmError.Invalid("`response_format` must be an object with a `type` (text, json_object, json_schema)", "response_format").ToException();
        if (type.ValueEquals("json_schema") && (!rf.TryGetProperty("json_schema", out var js) || js.ValueKind != JsonValueKind.Object))
            throw LlmError.Invalid("`response_format.json_schema` is required when type is json_schema", "response_format.json_schema").ToException();
    }

    private static void ValidateEmbedding(LlmContext context)
    {
        var r = Parse(context.Body, WireJson.Default.EmbeddingRequest);
        context.Embedding = r;
        ReadTimeout(context, r.Extra);
        RequireModel(r.Model);
        context.UseModel(r.Model!);
        if (r.Input is not { } input || input.ValueKind == JsonValueKind.Null)
            throw LlmError.Invalid("`input` is required: a string or an array of strings or token arrays", "input").ToException();
        if (input.ValueKind == JsonValueKind.String) { }
        else if (input.ValueKind == JsonValueKind.Array)
        {
            if (input.GetArrayLength() == 0) throw LlmError.Invalid("`input` must not be empty", "input").ToException();
            foreach (var e in input.EnumerateArray())
                if (e.ValueKind is not (JsonValueKind.String or JsonValueKind.Number or JsonValueKind.Array))
                    throw LlmError.Invalid("`input` must be a string, an array of strings, or token arrays", "input").ToException();
        }
        else throw LlmError.Invalid("`input` must be a string, an array of strings, or token arrays", "input").ToException();
        if (r.EncodingFormat is { } ef && ef != "float" && ef != "base64")
            throw LlmError.Invalid("`encoding_format` must be float or base64", "encoding_format").ToException();
        if (r.Dimensions is { } d && d < 1) throw LlmError.Invalid("`dimensions` must be at least 1", "dimensions").ToException();
    }
}
