using System.Text.Json;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Modes;

/// <summary>
/// A checked <c>/v1/moderations</c> request: <c>input</c> a string, an array of strings, or an array of
/// <c>{type: text, text}</c> / <c>{type: image_url, image_url: {url}}</c> parts; <c>model</c> optional.
/// </summary>
public sealed class ModerationRequest
{
    public string? Model { get; init; }
    public required IReadOnlyList<string> Params { get; init; }

    private static readonly HashSet<string> NotParams = ["model", "input", "metadata", .. GatewayRequestFields.Names];

    public static ModerationRequest Parse(ReadOnlyMemory<byte> body)
    {
        if (body.IsEmpty) throw LlmError.Invalid("request body is empty; send a JSON object").ToException();
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            throw LlmError.Invalid($"request body is not valid JSON: {ex.Message}", null, "invalid_json").ToException(ex);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw LlmError.Invalid("request body must be a JSON object").ToException();
            string? model = null;
            if (root.TryGetProperty("model", out var m) && m.ValueKind != JsonValueKind.Null)
            {
                if (m.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(m.GetString())) throw LlmError.Invalid("`model` must be a model name", "model").ToException();
                model = m.GetString();
            }
            CheckInput(root);
            var present = new List<string>();
            foreach (var p in root.EnumerateObject())
                if (p.Value.ValueKind != JsonValueKind.Null && !NotParams.Contains(p.Name)) present.Add(p.Name);
            return new ModerationRequest { Model = model, Params = present };
        }
    }

    private static void CheckInput(JsonElement root)
    {
        const string Shape = "`input` must be a string, an array of strings, or an array of {type: text, text} / {type: image_url, image_url: {url}} parts";
        if (!root.TryGetProperty("input", out var input) || input.ValueKind == JsonValueKind.Null) throw LlmError.Invalid("`input` is required: " + Shape[10..], "input").ToException();
        if (input.ValueKind == JsonValueKind.String) return;
        if (input.ValueKind != JsonValueKind.Array || input.GetArrayLength() == 0) throw LlmError.Invalid(Shape, "input").ToException();
        var i = 0;
        foreach (var e in input.EnumerateArray())
        {
            var at = $"input[{i++}]";
            if (e.ValueKind == JsonValueKind.String) continue;
            if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String) throw LlmError.Invalid(Shape, at).ToException();
            if (type.ValueEquals("text") && e.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String) continue;
            if (type.ValueEquals("image_url") && e.TryGetProperty("image_url", out var img) && img.ValueKind == JsonValueKind.Object
                && img.TryGetProperty("url", out var url) && url.ValueKind == JsonValueKind.String) continue;
            throw LlmError.Invalid(Shape, at).ToException();
        }
    }
}
