using System.Text.Json;
using System.Text.Json.Nodes;
using LLMux.Pipeline.Errors;

namespace LLMux.Providers.Gemini;

/// <summary>
/// JSON Schema → what Gemini accepts, as LiteLLM converts it: the OpenAPI subset (<c>response_schema</c> and tool
/// parameters) or the lighter clean-up for <c>response_json_schema</c>. Runs once per request, off the stream path.
/// </summary>
internal static class GeminiSchemaConverter
{
    private static readonly HashSet<string> OpenApiKeys =
    [
        "type", "format", "title", "description", "nullable", "default", "items", "minItems", "maxItems", "enum", "properties",
        "propertyOrdering", "required", "minProperties", "maxProperties", "minimum", "maximum", "minLength", "maxLength",
        "pattern", "example", "anyOf",
    ];

    private static readonly string[] TypeArrayMemberKeys = ["properties", "required", "additionalProperties", "items", "minItems", "maxItems", "minProperties", "maxProperties"];

    /// <summary>The OpenAPI-subset schema (<c>_build_vertex_schema</c>); <paramref name="propertyOrdering"/> for structured output.</summary>
    public static JsonNode ToOpenApi(JsonElement schema, bool propertyOrdering, string param)
    {
        var root = Prepare(schema, param);
        var node = Clean(root, openApi: true, param);
        if (propertyOrdering) AddPropertyOrdering(node);
        return node;
    }

    /// <summary>The JSON-Schema flavour (<c>_build_json_schema</c>): refs inlined, null unions made nullable, keywords kept.</summary>
    public static JsonNode ToJsonSchema(JsonElement schema, string param)
    {
        var root = Prepare(schema, param);
        return Clean(root, openApi: false, param);
    }

    private static JsonNode Prepare(JsonElement schema, string param)
    {
        var node = JsonNode.Parse(schema.GetRawText()) ?? new JsonObject();
        if (node is not JsonObject obj) throw LlmError.Invalid($"`{param}` must be a JSON object schema", param).ToException();
        var defs = new JsonObject();
        foreach (var key in (string[])["$defs", "definitions"])
        {
            if (obj[key] is JsonObject d)
            {
                foreach (var (name, value) in d) defs[name] = value?.DeepClone();
                obj.Remove(key);
            }
        }
        return defs.Count == 0 ? obj : ResolveRefs(obj, defs, []);
    }

    private static JsonNode ResolveRefs(JsonNode node, JsonObject defs, List<string> resolving)
    {
        if (node is JsonArray arr)
        {
            for (var i = 0; i < arr.Count; i++)
                if (arr[i] is { } item) arr[i] = ResolveRefs(item.DeepClone(), defs, resolving);
            return arr;
        }
        if (node is not JsonObject obj) return node;
        if (obj["$ref"] is JsonValue r && r.TryGetValue<string>(out var reference))
        {
            var name = reference[(reference.LastIndexOf('/') + 1)..];
            if (defs[name] is not { } target || resolving.Contains(name)) return obj; // circular or unknown: left as it is
            resolving.Add(name);
            var resolved = ResolveRefs(target.DeepClone(), defs, resolving);
            resolving.RemoveAt(resolving.Count - 1);
            return resolved;
        }
        foreach (var key in obj.Select(static p => p.Key).ToList())
        {
            if (obj[key] is { } child) obj[key] = ResolveRefs(child.DeepClone(), defs, resolving);
        }
        return obj;
    }

    private static JsonNode Clean(JsonNode node, bool openApi, string param)
    {
        if (node is not JsonObject obj) return node;
        obj.Remove("strict");
        if (openApi) obj.Remove("$schema");

        // anyOf with a null member: the others become nullable (Gemini has no null type).
        if (obj["anyOf"] is JsonArray anyOf)
        {
            var hadNull = false;
            var members = new JsonArray();
            foreach (var m in anyOf)
            {
                if (m is JsonObject mo && mo["type"] is JsonValue tv && tv.TryGetValue<string>(out var t) && t == "null") { hadNull = true; continue; }
                var member = m?.DeepClone() as JsonObject ?? new JsonObject();
                if (member.Count == 0) member["type"] = "object";
                if (member["items"] is JsonObject { Count: 0 } && IsType(member, "array")) member.Remove("items");
                members.Add((JsonNode)member);
            }
            if (hadNull)
            {
                if (members.Count == 0) throw LlmError.Invalid($"`{param}` has an anyOf that allows only null; Gemini cannot express it", param).ToException();
                foreach (var m in members) ((JsonObject)m!)["nullable"] = true;
            }
            obj["anyOf"] = members;
        }

        // type: ["string","null"] → nullable scalar; several types → anyOf of single types.
        if (obj["type"] is JsonArray types)
        {
            var names = new List<string>();
            var nullable = false;
            foreach (var t in types)
            {
                var s = t?.GetValue<string>();
                if (s == "null") nullable = true;
                else if (s is not null) names.Add(s);
            }
            obj.Remove("type");
            if (names.Count == 1)
            {
                obj["type"] = names[0];
                if (nullable) obj["nullable"] = true;
            }
            else if (names.Count > 1)
            {
                var members = new JsonArray();
                foreach (var n in names)
                {
                    var member = new JsonObject { ["type"] = n };
                    if (n is "object" or "array")
                    {
                        foreach (var k in TypeArrayMemberKeys)
                            if (obj[k] is { } v) member[k] = v.DeepClone();
                    }
                    if (nullable) member["nullable"] = true;
                    members.Add((JsonNode)member);
                }
                foreach (var k in TypeArrayMemberKeys) obj.Remove(k);
                obj["anyOf"] = members;
            }
            else if (nullable) obj["nullable"] = true;
        }

        if (obj["enum"] is JsonArray en)
        {
            var isString = IsType(obj, "string") || (obj["anyOf"] is JsonArray ao && ao.Any(static m => m is JsonObject mo && IsType(mo, "string")));
            if (!isString && openApi) obj.Remove("enum");
            else
            {
                for (var i = 0; i < en.Count; i++)
                    if (en[i] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length == 0) en[i] = null;
            }
        }

        if (obj["items"] is JsonObject { Count: 0 }) obj["items"] = new JsonObject { ["type"] = "object" };
        if (obj["required"] is null && obj.ContainsKey("required")) obj.Remove("required");
        if (obj["properties"] is JsonObject { Count: 0 })
        {
            obj.Remove("properties");
            obj.Remove("required");
        }
        if (obj.ContainsKey("properties")) obj["type"] = "object";
        else if (!obj.ContainsKey("type") && !obj.ContainsKey("anyOf") && !obj.ContainsKey("oneOf") && !obj.ContainsKey("allOf")) obj["type"] = "object";

        if (obj["properties"] is JsonObject props)
        {
            foreach (var key in props.Select(static p => p.Key).ToList())
                if (props[key] is { } child) props[key] = Clean(child.DeepClone(), openApi, param);
        }
        if (obj["items"] is JsonNode items) obj["items"] = Clean(items.DeepClone(), openApi, param);
        if (obj["anyOf"] is JsonArray any)
        {
            for (var i = 0; i < any.Count; i++)
                if (any[i] is { } m) any[i] = Clean(m.DeepClone(), openApi, param);
        }
        if (!openApi)
        {
            foreach (var key in (string[])["additionalProperties", "oneOf", "allOf"])
                if (obj[key] is JsonObject sub) obj[key] = Clean(sub.DeepClone(), openApi, param);
            return obj;
        }

        if (obj["anyOf"] is JsonArray keep)
        {
            // A node with anyOf keeps only anyOf; its title and description move into each member.
            foreach (var m in keep)
            {
                if (m is not JsonObject mo) continue;
                foreach (var k in (string[])["title", "description"])
                    if (obj[k] is { } v && !mo.ContainsKey(k)) mo[k] = v.DeepClone();
            }
            var only = new JsonObject { ["anyOf"] = keep.DeepClone() };
            return only;
        }
        foreach (var key in obj.Select(static p => p.Key).ToList())
        {
            if (!OpenApiKeys.Contains(key)) obj.Remove(key);
        }
        if (obj["format"] is JsonValue f && !(obj.ContainsKey("enum") || (f.TryGetValue<string>(out var fs) && fs == "date-time"))) obj.Remove("format");
        return obj;
    }

    private static bool IsType(JsonObject obj, string type) => obj["type"] is JsonValue v && v.TryGetValue<string>(out var s) && s == type;

    private static void AddPropertyOrdering(JsonNode node)
    {
        if (node is not JsonObject obj) return;
        if (obj["properties"] is JsonObject props)
        {
            if (!obj.ContainsKey("propertyOrdering"))
            {
                var order = new JsonArray();
                foreach (var (key, _) in props) order.Add((JsonNode)JsonValue.Create(key));
                obj["propertyOrdering"] = order;
            }
            foreach (var (_, child) in props) if (child is not null) AddPropertyOrdering(child);
        }
        if (obj["items"] is JsonNode items) AddPropertyOrdering(items);
        if (obj["anyOf"] is JsonArray any) foreach (var m in any) if (m is not null) AddPropertyOrdering(m);
    }
}
