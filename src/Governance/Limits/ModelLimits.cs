using System.Buffers;
using System.Text;
using System.Text.Json;

namespace LLMux.Governance.Limits;

/// <summary>
/// A key's per-model limits (LiteLLM's <c>model_rpm_limit</c> / <c>model_tpm_limit</c>, <c>{"gpt-4o": 10}</c>): model
/// name → requests or tokens per minute. Counted per key and model (LiteLLM v3's <c>model_per_key</c> descriptor).
/// </summary>
public static class ModelLimits
{
    public static readonly IReadOnlyDictionary<string, long> None = new Dictionary<string, long>(StringComparer.Ordinal);

    /// <summary>The name a limit is found under: the name the client sent, else the model group; null when neither has one.</summary>
    public static string? NameFor(IReadOnlyDictionary<string, long> rpm, IReadOnlyDictionary<string, long> tpm, string? alias, string? model)
    {
        if (alias is not null && (rpm.ContainsKey(alias) || tpm.ContainsKey(alias))) return alias;
        if (model is not null && (rpm.ContainsKey(model) || tpm.ContainsKey(model))) return model;
        return null;
    }

    /// <summary>The limit under <paramref name="name"/>, or null.</summary>
    public static long? Of(IReadOnlyDictionary<string, long> limits, string name) => limits.TryGetValue(name, out var n) ? n : null;

    public static string Write(IReadOnlyDictionary<string, long> limits)
    {
        var buffer = new ArrayBufferWriter<byte>(32);
        using (var w = new Utf8JsonWriter(buffer)) Write(w, limits);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static void Write(Utf8JsonWriter w, IReadOnlyDictionary<string, long> limits)
    {
        w.WriteStartObject();
        foreach (var (model, n) in limits) w.WriteNumber(model, n);
        w.WriteEndObject();
    }

    public static IReadOnlyDictionary<string, long> ReadColumn(string? json)
    {
        if (string.IsNullOrEmpty(json) || json == "{}") return None;
        using var doc = JsonDocument.Parse(json);
        return Read(doc.RootElement, out _) ?? None;
    }

    /// <summary>Reads an admin body's value or the column; <paramref name="problem"/> names what is wrong.</summary>
    public static IReadOnlyDictionary<string, long>? Read(JsonElement e, out string? problem)
    {
        problem = null;
        if (e.ValueKind != JsonValueKind.Object) { problem = "must be a JSON object of model name → limit per minute, like {\"gpt-4o\": 10}"; return null; }
        var map = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var p in e.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt64(out var n)) { problem = $"`{p.Name}` must be an integer"; return null; }
            if (n < 0) { problem = $"`{p.Name}` must be 0 or more"; return null; }
            map[p.Name] = n;
        }
        return map;
    }
}
