using System.Buffers;
using System.Text;
using System.Text.Json;

namespace LLMux.Governance.Auth;

/// <summary>
/// A key's <c>aliases</c> or a team's <c>model_aliases</c> (LiteLLM's <c>{"fast": "gpt-4o-mini"}</c>): a model name the
/// caller may send → the model it stands for. The request's <c>model</c> is replaced once, before routing, access
/// checks and budgets.
/// </summary>
public static class ModelAliases
{
    public static readonly IReadOnlyDictionary<string, string> None = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The key's aliases over its team's: a key's own alias wins a name both define. Null when neither has any.</summary>
    public static IReadOnlyDictionary<string, string>? Merge(IReadOnlyDictionary<string, string> key, IReadOnlyDictionary<string, string>? team)
    {
        if (team is null || team.Count == 0) return key.Count == 0 ? null : key;
        if (key.Count == 0) return team;
        var merged = new Dictionary<string, string>(team, StringComparer.Ordinal);
        foreach (var (alias, target) in key) merged[alias] = target;
        return merged;
    }

    /// <summary>Reads an admin body's value (or the column); <paramref name="problem"/> names what is wrong.</summary>
    public static IReadOnlyDictionary<string, string>? Read(JsonElement e, out string? problem)
    {
        problem = null;
        if (e.ValueKind != JsonValueKind.Object) { problem = "must be a JSON object of alias → model name, like {\"fast\": \"gpt-4o-mini\"}"; return null; }
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in e.EnumerateObject())
        {
            if (p.Name.Length == 0) { problem = "an alias must not be an empty string"; return null; }
            if (p.Value.ValueKind != JsonValueKind.String || p.Value.GetString() is not { Length: > 0 } target)
            {
                problem = $"`{p.Name}` must name a model (a non-empty string), like {{\"{p.Name}\": \"gpt-4o-mini\"}}";
                return null;
            }
            // An alias to itself would do nothing; say so rather than store it.
            if (string.Equals(target, p.Name, StringComparison.Ordinal)) { problem = $"`{p.Name}` is an alias of itself"; return null; }
            map[p.Name] = target;
        }
        return map;
    }

    public static string Write(IReadOnlyDictionary<string, string> aliases)
    {
        if (aliases.Count == 0) return "{}";
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var w = new Utf8JsonWriter(buffer)) Write(w, aliases);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static void Write(Utf8JsonWriter w, IReadOnlyDictionary<string, string> aliases)
    {
        w.WriteStartObject();
        foreach (var (alias, target) in aliases) w.WriteString(alias, target);
        w.WriteEndObject();
    }

    /// <summary>The stored column: tolerant of rows written by LiteLLM (a non-string value is skipped, not an error).</summary>
    public static IReadOnlyDictionary<string, string> ReadColumn(string? json)
    {
        if (string.IsNullOrEmpty(json) || json == "{}") return None;
        using var doc = JsonDocument.Parse(json);
        if (doc.RootElement.ValueKind != JsonValueKind.Object) return None;
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in doc.RootElement.EnumerateObject())
            if (p.Value.ValueKind == JsonValueKind.String && p.Value.GetString() is { Length: > 0 } target) map[p.Name] = target;
        return map.Count == 0 ? None : map;
    }
}
