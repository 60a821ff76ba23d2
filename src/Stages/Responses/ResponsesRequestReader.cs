using System.Text.Json;
using LLMux.Pipeline.Errors;

namespace LLMux.Stages.Responses;

/// <summary>
/// Parses and validates a <c>POST /v1/responses</c> body by OpenAI's rules before anything is routed or sent:
/// a request that fails here never reaches an upstream. Errors name the field as OpenAI does (<c>input[2].call_id</c>).
/// </summary>
internal static class ResponsesRequestReader
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 64 };

    /// <summary>Item types the API defines (input or output). Those a bridged provider cannot take are handled by the translator.</summary>
    internal static readonly HashSet<string> ItemTypes =
    [
        "message", "function_call", "function_call_output", "reasoning", "custom_tool_call", "custom_tool_call_output", "item_reference",
        "web_search_call", "file_search_call", "computer_call", "computer_call_output", "code_interpreter_call", "image_generation_call",
        "local_shell_call", "local_shell_call_output", "shell_call", "shell_call_output", "apply_patch_call", "apply_patch_call_output",
        "mcp_call", "mcp_list_tools", "mcp_approval_request", "mcp_approval_response", "compaction", "tool_search_call", "tool_search_output",
    ];

    private static readonly HashSet<string> Roles = ["user", "assistant", "system", "developer"];

    /// <summary>The parsed body; the caller disposes it. <paramref name="tokenCount"/> relaxes what input_tokens does not need.</summary>
    public static JsonDocument Parse(ReadOnlyMemory<byte> body, bool tokenCount = false)
    {
        if (body.IsEmpty) throw Invalid("request body is empty; send a JSON object with model and input", null);
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
            Validate(doc.RootElement, tokenCount);
            return doc;
        }
        catch
        {
            doc.Dispose();
            throw;
        }
    }

    private static void Validate(JsonElement root, bool tokenCount)
    {
        if (root.ValueKind != JsonValueKind.Object) throw Invalid("request body must be a JSON object", null);
        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.String || model.GetString()!.Trim().Length == 0)
            throw Invalid("Missing required parameter: 'model' (the name of a configured model; GET /v1/models lists them).", "model", "missing_required_parameter");

        var hasPrevious = OptionalString(root, "previous_response_id");
        if (root.TryGetProperty("input", out var input) && input.ValueKind != JsonValueKind.Null)
        {
            if (input.ValueKind == JsonValueKind.Array)
            {
                var i = 0;
                foreach (var item in input.EnumerateArray()) ValidateItem(item, new ItemPath(i++));
            }
            else if (input.ValueKind != JsonValueKind.String)
            {
                throw Invalid($"Invalid type for 'input': expected a string or an array of input items, but got {Kind(input)} instead.", "input", "invalid_type");
            }
        }
        else if (!hasPrevious && !tokenCount)
        {
            throw Invalid("Missing required parameter: 'input' (a string, or an array of input items).", "input", "missing_required_parameter");
        }

        OptionalString(root, "instructions");
        if (root.TryGetProperty("conversation", out var conv) && conv.ValueKind != JsonValueKind.Null && hasPrevious)
            throw Invalid("Mutually exclusive parameters: 'previous_response_id' and 'conversation'; send only one.", "conversation", "invalid_value");
        if (root.TryGetProperty("max_output_tokens", out var mot) && mot.ValueKind != JsonValueKind.Null
            && (mot.ValueKind != JsonValueKind.Number || !mot.TryGetInt64(out var m) || m < 1))
            throw Invalid("Invalid 'max_output_tokens': must be an integer of at least 1.", "max_output_tokens", "invalid_value");
        Range(root, "temperature", 0, 2);
        Range(root, "top_p", 0, 1);
        if (root.TryGetProperty("top_logprobs", out var tl) && tl.ValueKind != JsonValueKind.Null
            && (tl.ValueKind != JsonValueKind.Number || !tl.TryGetInt32(out var t) || t < 0 || t > 20))
            throw Invalid("Invalid 'top_logprobs': must be an integer between 0 and 20.", "top_logprobs", "invalid_value");
        foreach (var flag in (ReadOnlySpan<string>)["stream", "store", "background", "parallel_tool_calls"])
            if (root.TryGetProperty(flag, out var b) && b.ValueKind is not (JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null))
                throw Invalid($"Invalid type for '{flag}': expected a boolean, but got {Kind(b)} instead.", flag, "invalid_type");
        if (root.TryGetProperty("include", out var include) && include.ValueKind != JsonValueKind.Null)
        {
            if (include.ValueKind != JsonValueKind.Array) throw Invalid("Invalid type for 'include': expected an array of strings.", "include", "invalid_type");
            foreach (var v in include.EnumerateArray())
                if (v.ValueKind != JsonValueKind.String) throw Invalid("Invalid type for 'include': expected an array of strings.", "include", "invalid_type");
        }
        if (root.TryGetProperty("metadata", out var metadata) && metadata.ValueKind != JsonValueKind.Null) ValidateMetadata(metadata);
        foreach (var obj in (ReadOnlySpan<string>)["text", "reasoning", "stream_options"])
            if (root.TryGetProperty(obj, out var o) && o.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
                throw Invalid($"Invalid type for '{obj}': expected an object, but got {Kind(o)} instead.", obj, "invalid_type");
        if (root.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.Object && text.TryGetProperty("format", out var format)
            && format.ValueKind == JsonValueKind.Object && Str(format, "type") == "json_schema"
            && (!format.TryGetProperty("schema", out var schema) || schema.ValueKind != JsonValueKind.Object || Str(format, "name") is null))
            throw Invalid("Invalid 'text.format': a json_schema format needs `name` and an object `schema`.", "text.format", "invalid_value");
        ValidateTools(root);
    }

    private static void ValidateItem(JsonElement item, ItemPath at)
    {
        if (item.ValueKind != JsonValueKind.Object) throw Invalid($"Invalid type for '{at}': expected an object, but got {Kind(item)} instead.", at.ToString(), "invalid_type");
        var type = Str(item, "type");
        if (type is null)
        {
            if (!item.TryGetProperty("role", out _)) throw Invalid($"Missing required parameter: '{at}.type'.", $"{at}.type", "missing_required_parameter");
            type = "message"; // EasyInputMessage: a bare {role, content}
        }
        if (!ItemTypes.Contains(type))
            throw Invalid($"Invalid value: '{type}'. Supported values for '{at}.type' are: message, function_call, function_call_output, reasoning, custom_tool_call, custom_tool_call_output, item_reference and OpenAI's built-in tool call items.", $"{at}.type", "invalid_value");
        switch (type)
        {
            case "message":
                var role = Str(item, "role");
                if (role is null || !Roles.Contains(role))
                    throw Invalid($"Invalid value for '{at}.role': must be one of user, assistant, system, developer.", $"{at}.role", "invalid_value");
                if (!item.TryGetProperty("content", out var content) || content.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
                    throw Invalid($"Invalid type for '{at}.content': expected a string or an array of content parts.", $"{at}.content", "invalid_type");
                if (content.ValueKind == JsonValueKind.Array)
                {
                    var k = 0;
                    foreach (var part in content.EnumerateArray()) ValidatePart(part, at.Part("content", k++));
                }
                break;
            case "function_call":
                Require(item, "call_id", at);
                Require(item, "name", at);
                Require(item, "arguments", at);
                break;
            case "custom_tool_call":
                Require(item, "call_id", at);
                Require(item, "name", at);
                Require(item, "input", at);
                break;
            case "function_call_output":
            case "custom_tool_call_output":
                Require(item, "call_id", at);
                if (!item.TryGetProperty("output", out var output) || output.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
                    throw Invalid($"Invalid type for '{at}.output': expected a string or an array of content parts.", $"{at}.output", "invalid_type");
                if (output.ValueKind == JsonValueKind.Array)
                {
                    var k = 0;
                    foreach (var part in output.EnumerateArray()) ValidatePart(part, at.Part("output", k++));
                }
                break;
            case "item_reference":
                Require(item, "id", at);
                break;
            case "reasoning":
                if (item.TryGetProperty("summary", out var summary) && summary.ValueKind is not (JsonValueKind.Array or JsonValueKind.Null))
                    throw Invalid($"Invalid type for '{at}.summary': expected an array.", $"{at}.summary", "invalid_type");
                break;
        }
    }

    private static void ValidatePart(JsonElement part, ItemPath at)
    {
        var type = part.ValueKind == JsonValueKind.Object ? Str(part, "type") : null;
        switch (type)
        {
            case "input_text" or "output_text":
                if (!part.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
                    throw Invalid($"Invalid type for '{at}.text': expected a string.", $"{at}.text", "invalid_type");
                break;
            case "input_image":
                if (Str(part, "image_url") is null && Str(part, "file_id") is null)
                    throw Invalid($"Missing required parameter: '{at}.image_url' (or file_id).", $"{at}.image_url", "missing_required_parameter");
                break;
            case "input_file":
                if (Str(part, "file_id") is null && Str(part, "file_data") is null && Str(part, "file_url") is null)
                    throw Invalid($"Missing required parameter: '{at}.file_data' (or file_id, file_url).", $"{at}.file_data", "missing_required_parameter");
                break;
            case "refusal" or "input_audio" or "summary_text" or "reasoning_text":
                break;
            default:
                throw Invalid($"Invalid value for '{at}.type': expected input_text, input_image, input_file or output_text.", $"{at}.type", "invalid_value");
        }
    }

    private static void ValidateTools(JsonElement root)
    {
        if (!root.TryGetProperty("tools", out var tools) || tools.ValueKind == JsonValueKind.Null) return;
        if (tools.ValueKind != JsonValueKind.Array) throw Invalid("Invalid type for 'tools': expected an array of tools.", "tools", "invalid_type");
        var i = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            var at = new ItemPath(i++, "tools");
            if (tool.ValueKind != JsonValueKind.Object || Str(tool, "type") is not { } type)
                throw Invalid($"Missing required parameter: '{at}.type'.", $"{at}.type", "missing_required_parameter");
            if (type is "function" or "custom")
            {
                if (Str(tool, "name") is not { Length: > 0 })
                    throw Invalid($"Missing required parameter: '{at}.name'.", $"{at}.name", "missing_required_parameter");
                if (type == "function" && tool.TryGetProperty("parameters", out var p) && p.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
                    throw Invalid($"Invalid type for '{at}.parameters': expected a JSON schema object.", $"{at}.parameters", "invalid_type");
            }
        }
    }

    private static void ValidateMetadata(JsonElement metadata)
    {
        if (metadata.ValueKind != JsonValueKind.Object) throw Invalid("Invalid type for 'metadata': expected an object of string values.", "metadata", "invalid_type");
        var n = 0;
        foreach (var p in metadata.EnumerateObject())
        {
            if (++n > 16) throw Invalid("Invalid 'metadata': at most 16 key-value pairs.", "metadata", "invalid_value");
            if (p.Name.Length > 64) throw Invalid($"Invalid 'metadata': key '{p.Name[..16]}…' is longer than 64 characters.", "metadata", "invalid_value");
            if (p.Value.ValueKind != JsonValueKind.String || p.Value.GetString()!.Length > 512)
                throw Invalid($"Invalid 'metadata.{p.Name}': values are strings of at most 512 characters.", "metadata", "invalid_value");
        }
    }

    private static void Require(JsonElement item, string name, ItemPath at)
    {
        if (!item.TryGetProperty(name, out var v) || v.ValueKind != JsonValueKind.String)
            throw Invalid($"Missing required parameter: '{at}.{name}'.", $"{at}.{name}", "missing_required_parameter");
    }

    private static bool OptionalString(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return false;
        if (v.ValueKind != JsonValueKind.String) throw Invalid($"Invalid type for '{name}': expected a string, but got {Kind(v)} instead.", name, "invalid_type");
        return true;
    }

    private static void Range(JsonElement root, string name, double min, double max)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var d) || d < min || d > max)
            throw Invalid($"Invalid '{name}': must be a number between {min} and {max}.", name, "invalid_value");
    }

    internal static string? Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    /// <summary>
    /// Where an input item (or tool, or content part) sits, as OpenAI names it (<c>input[2].content[0]</c>); the string is
    /// built only when an error names it, so a valid request allocates no path per item.
    /// </summary>
    private readonly struct ItemPath(int index, string root = "input", string? array = null, int part = 0)
    {
        public ItemPath Part(string name, int k) => new(index, root, name, k);

        public override string ToString() => array is null ? $"{root}[{index}]" : $"{root}[{index}].{array}[{part}]";
    }

    internal static LlmException Invalid(string message, string? param, string? code = null) => LlmError.Invalid(message, param, code).ToException();
}
