using System.Text.Json;

namespace LLMux.Providers.Bedrock;

/// <summary>
/// A tool's JSON schema as Converse accepts it (LiteLLM's rule): local <c>$ref</c>s into <c>$defs</c> /
/// <c>definitions</c> inlined, then only <c>type</c>, <c>properties</c> and <c>required</c> kept at the top.
/// </summary>
internal static class BedrockToolSchema
{
    private const int MaxDepth = 32;

    public static void Write(Utf8JsonWriter w, JsonElement? parameters)
    {
        w.WriteStartObject();
        if (parameters is not { ValueKind: JsonValueKind.Object } schema)
        {
            w.WriteString("type"u8, "object"u8);
            w.WriteStartObject("properties"u8);
            w.WriteEndObject();
            w.WriteEndObject();
            return;
        }
        JsonElement defs = default;
        var hasDefs = schema.TryGetProperty("$defs", out defs) || schema.TryGetProperty("definitions", out defs);
        if (schema.TryGetProperty("type", out var type)) { w.WritePropertyName("type"u8); type.WriteTo(w); }
        else w.WriteString("type"u8, "object"u8);
        w.WritePropertyName("properties"u8);
        if (schema.TryGetProperty("properties", out var props)) WriteInlined(w, props, hasDefs ? defs : null, 0);
        else { w.WriteStartObject(); w.WriteEndObject(); }
        if (schema.TryGetProperty("required", out var required)) { w.WritePropertyName("required"u8); required.WriteTo(w); }
        w.WriteEndObject();
    }

    private static void WriteInlined(Utf8JsonWriter w, JsonElement node, JsonElement? defs, int depth)
    {
        if (depth > MaxDepth || defs is null)
        {
            node.WriteTo(w);
            return;
        }
        switch (node.ValueKind)
        {
            case JsonValueKind.Object:
                if (node.TryGetProperty("$ref", out var r) && r.ValueKind == JsonValueKind.String && Resolve(r.GetString()!, defs.Value) is { } target)
                {
                    WriteInlined(w, target, defs, depth + 1);
                    return;
                }
                w.WriteStartObject();
                foreach (var p in node.EnumerateObject())
                {
                    if (p.NameEquals("$defs") || p.NameEquals("definitions")) continue;
                    w.WritePropertyName(p.Name);
                    WriteInlined(w, p.Value, defs, depth + 1);
                }
                w.WriteEndObject();
                return;
            case JsonValueKind.Array:
                w.WriteStartArray();
                foreach (var item in node.EnumerateArray()) WriteInlined(w, item, defs, depth + 1);
                w.WriteEndArray();
                return;
            default:
                node.WriteTo(w);
                return;
        }
    }

    private static JsonElement? Resolve(string reference, JsonElement defs)
    {
        var slash = reference.LastIndexOf('/');
        if (!reference.StartsWith("#/", StringComparison.Ordinal) || slash < 0) return null;
        return defs.TryGetProperty(reference[(slash + 1)..], out var d) ? d : null;
    }
}
