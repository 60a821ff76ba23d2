using System.Text.Json;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;

namespace LLMux.Stages.Completions;

/// <summary>
/// Reads and checks a <c>/v1/completions</c> body by OpenAI's rules before anything goes upstream: <c>prompt</c> a
/// string, an array of strings, a token array or an array of token arrays; ranges of <c>n</c>, <c>logprobs</c>,
/// <c>best_of</c>, <c>temperature</c>, <c>top_p</c>, penalties; <c>stop</c> at most 4 strings; <c>best_of</c> ≥ n and not with stream.
/// </summary>
internal static class CompletionRequestReader
{
    /// <summary>Required or structural fields: never checked against a provider's table.</summary>
    private static readonly HashSet<string> NotParams = ["model", "prompt", "metadata", .. GatewayRequestFields.Names];

    public static CompletionRequest Parse(ReadOnlyMemory<byte> body)
    {
        if (body.IsEmpty) throw LlmError.Invalid("request body is empty; send a JSON object").ToException();
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            throw ValidateStage.JsonError(ex).ToException(ex);
        }
        try
        {
            return Read(doc);
        }
        catch
        {
            doc.Dispose();
            throw;
        }
    }

    private static CompletionRequest Read(JsonDocument doc)
    {
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw LlmError.Invalid("request body must be a JSON object").ToException();
        if (!root.TryGetProperty("model", out var m) || m.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(m.GetString()))
            throw LlmError.Invalid("`model` is required: the name of a configured model (GET /v1/models lists them)", "model").ToException();

        var (prompts, tokens) = Prompts(root);
        var n = Int(root, "n", 1, 128) ?? 1;
        var stream = Bool(root, "stream") ?? false;
        var bestOf = Int(root, "best_of", 1, 20);
        if (bestOf is { } b)
        {
            if (b < n) throw LlmError.Invalid($"`best_of` ({b}) must be at least `n` ({n})", "best_of").ToException();
            if (stream && b > 1) throw LlmError.Invalid("`best_of` cannot be used with `stream`", "best_of").ToException();
        }
        Int(root, "logprobs", 0, 5);
        Int(root, "max_tokens", 0, int.MaxValue);
        Number(root, "temperature", 0, 2);
        Number(root, "top_p", 0, 1);
        Number(root, "presence_penalty", -2, 2);
        Number(root, "frequency_penalty", -2, 2);
        Bool(root, "echo");
        Int(root, "seed", long.MinValue, long.MaxValue);
        OfKind(root, "suffix", JsonValueKind.String, "a string");
        OfKind(root, "user", JsonValueKind.String, "a string");
        OfKind(root, "logit_bias", JsonValueKind.Object, "an object of token id → bias");
        Stop(root);
        var includeUsage = false;
        if (root.TryGetProperty("stream_options", out var so) && so.ValueKind != JsonValueKind.Null)
        {
            if (so.ValueKind != JsonValueKind.Object) throw LlmError.Invalid("`stream_options` must be an object", "stream_options").ToException();
            includeUsage = so.TryGetProperty("include_usage", out var iu) && iu.ValueKind == JsonValueKind.True;
        }

        var present = new List<string>();
        foreach (var p in root.EnumerateObject())
            if (p.Value.ValueKind != JsonValueKind.Null && !NotParams.Contains(p.Name)) present.Add(p.Name);

        return new CompletionRequest
        {
            Document = doc,
            Model = m.GetString()!,
            Prompts = prompts,
            TokenPrompts = tokens,
            Stream = stream,
            IncludeUsage = includeUsage,
            N = n,
            Params = present,
            DropParams = Bool(root, "drop_params"),
            AdditionalDropParams = Strings(root, "additional_drop_params"),
            AllowedOpenAIParams = Strings(root, "allowed_openai_params"),
            Timeout = Timeout(root),
        };
    }

    private static (List<JsonElement> Prompts, bool Tokens) Prompts(JsonElement root)
    {
        const string Shape = "`prompt` must be a string, an array of strings, an array of token ids, or an array of token-id arrays";
        if (!root.TryGetProperty("prompt", out var prompt) || prompt.ValueKind == JsonValueKind.Null)
            throw LlmError.Invalid("`prompt` is required: " + Shape[9..], "prompt").ToException();
        if (prompt.ValueKind == JsonValueKind.String) return ([prompt], false);
        if (prompt.ValueKind != JsonValueKind.Array) throw LlmError.Invalid(Shape, "prompt").ToException();
        if (prompt.GetArrayLength() == 0) throw LlmError.Invalid("`prompt` must not be an empty array", "prompt").ToException();
        var first = prompt[0].ValueKind;
        if (first == JsonValueKind.Number)
        {
            foreach (var t in prompt.EnumerateArray())
                if (t.ValueKind != JsonValueKind.Number || !t.TryGetInt32(out _)) throw LlmError.Invalid(Shape, "prompt").ToException();
            return ([prompt], true);
        }
        var list = new List<JsonElement>(prompt.GetArrayLength());
        var tokens = false;
        var i = 0;
        foreach (var e in prompt.EnumerateArray())
        {
            if (e.ValueKind == JsonValueKind.String && first == JsonValueKind.String) list.Add(e);
            else if (e.ValueKind == JsonValueKind.Array && first == JsonValueKind.Array && e.GetArrayLength() > 0)
            {
                foreach (var t in e.EnumerateArray())
                    if (t.ValueKind != JsonValueKind.Number || !t.TryGetInt32(out _)) throw LlmError.Invalid(Shape, $"prompt[{i}]").ToException();
                list.Add(e);
                tokens = true;
            }
            else throw LlmError.Invalid(Shape + " (one kind throughout)", $"prompt[{i}]").ToException();
            i++;
        }
        return (list, tokens);
    }

    private static void Stop(JsonElement root)
    {
        if (!root.TryGetProperty("stop", out var stop) || stop.ValueKind is JsonValueKind.Null or JsonValueKind.String) return;
        if (stop.ValueKind != JsonValueKind.Array) throw LlmError.Invalid("`stop` must be a string or an array of up to 4 strings", "stop").ToException();
        if (stop.GetArrayLength() > 4) throw LlmError.Invalid("`stop` takes at most 4 sequences", "stop").ToException();
        foreach (var s in stop.EnumerateArray())
            if (s.ValueKind != JsonValueKind.String) throw LlmError.Invalid("`stop` must be a string or an array of up to 4 strings", "stop").ToException();
    }

    private static long? Int(JsonElement root, string name, long min, long max)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out var i)) throw LlmError.Invalid($"`{name}` must be an integer", name, "invalid_type").ToException();
        if (i < min || i > max) throw LlmError.Invalid(max == int.MaxValue ? $"`{name}` must be at least {min}" : $"`{name}` must be between {min} and {max}", name).ToException();
        return i;
    }

    private static int? Int(JsonElement root, string name, int min, int max) => (int?)Int(root, name, (long)min, max);

    private static void Number(JsonElement root, string name, double min, double max)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return;
        if (v.ValueKind != JsonValueKind.Number) throw LlmError.Invalid($"`{name}` must be a number", name, "invalid_type").ToException();
        var d = v.GetDouble();
        if (d < min || d > max) throw LlmError.Invalid($"`{name}` must be between {min} and {max}", name).ToException();
    }

    private static bool? Bool(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw LlmError.Invalid($"`{name}` must be a boolean", name, "invalid_type").ToException(),
        };
    }

    private static void OfKind(JsonElement root, string name, JsonValueKind kind, string what)
    {
        if (root.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null && v.ValueKind != kind)
            throw LlmError.Invalid($"`{name}` must be {what}", name, "invalid_type").ToException();
    }

    private static List<string> Strings(JsonElement root, string name)
    {
        var list = new List<string>();
        if (root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array)
            foreach (var e in v.EnumerateArray()) if (e.ValueKind == JsonValueKind.String) list.Add(e.GetString()!);
        return list;
    }

    private static TimeSpan? Timeout(JsonElement root)
    {
        if (!root.TryGetProperty("timeout", out var t) || t.ValueKind == JsonValueKind.Null) return null;
        if (t.ValueKind != JsonValueKind.Number || !t.TryGetDouble(out var s) || s <= 0 || s > 86_400)
            throw LlmError.Invalid("`timeout` must be a positive number of seconds", "timeout").ToException();
        return TimeSpan.FromSeconds(s);
    }
}
