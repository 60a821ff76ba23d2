using System.Text;
using System.Text.Json;

namespace LLMux.Providers.Anthropic;

/// <summary>
/// Writes a JSON schema for Anthropic's <c>output_format</c>, which refuses numeric, string and array bounds:
/// they are removed (recursively) and described in <c>description</c> as "Note: …", as the Anthropic SDK and LiteLLM do.
/// </summary>
internal static class AnthropicSchemaFilter
{
    private static readonly (string Key, string Label)[] Unsupported =
    [
        ("minItems", "minimum number of items"),
        ("maxItems", "maximum number of items"),
        ("minimum", "minimum value"),
        ("maximum", "maximum value"),
        ("exclusiveMinimum", "exclusive minimum value"),
        ("exclusiveMaximum", "exclusive maximum value"),
        ("minLength", "minimum length"),
        ("maxLength", "maximum length"),
    ];

    public static void Write(Utf8JsonWriter w, JsonElement schema)
    {
        if (schema.ValueKind != JsonValueKind.Object) { schema.WriteTo(w); return; }
        StringBuilder? note = null;
        foreach (var (key, label) in Unsupported)
        {
            if (!schema.TryGetProperty(key, out var v)) continue;
            note = note is null ? new StringBuilder("Note: ") : note.Append(", ");
            note.Append(label).Append(": ").Append(v.GetRawText());
        }
        w.WriteStartObject();
        if (note is not null)
        {
            note.Append('.');
            var existing = schema.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
            w.WriteString("description"u8, string.IsNullOrEmpty(existing) ? note.ToString() : existing + " " + note);
        }
        foreach (var prop in schema.EnumerateObject())
        {
            if (IsUnsupported(prop.Name) || (note is not null && prop.NameEquals("description"u8))) continue;
            w.WritePropertyName(prop.Name);
            var v = prop.Value;
            if ((prop.NameEquals("properties"u8) || prop.NameEquals("$defs"u8)) && v.ValueKind == JsonValueKind.Object)
            {
                w.WriteStartObject();
                foreach (var child in v.EnumerateObject())
                {
                    w.WritePropertyName(child.Name);
                    Write(w, child.Value);
                }
                w.WriteEndObject();
            }
            else if (prop.NameEquals("items"u8) && v.ValueKind == JsonValueKind.Object)
            {
                Write(w, v);
            }
            else if ((prop.NameEquals("anyOf"u8) || prop.NameEquals("allOf"u8) || prop.NameEquals("oneOf"u8)) && v.ValueKind == JsonValueKind.Array)
            {
                w.WriteStartArray();
                foreach (var item in v.EnumerateArray()) Write(w, item);
                w.WriteEndArray();
            }
            else
            {
                v.WriteTo(w);
            }
        }
        w.WriteEndObject();
    }

    private static bool IsUnsupported(string key)
    {
        foreach (var (k, _) in Unsupported)
        {
            if (k == key) return true;
        }
        return false;
    }
}
