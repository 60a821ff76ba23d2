using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace LLMux.Governance.Budgets;

/// <summary>
/// One entry of a key's <c>model_max_budget</c> (LiteLLM's <c>{"gpt-4o": {"budget_limit": 10, "time_period": "1d"}}</c>):
/// the most the key may spend on that model per window. Without a window the budget counts all time. On a key an entry
/// may also carry <c>rpm_limit</c> / <c>tpm_limit</c>: the key's limits on that model when its <c>model_rpm_limit</c> /
/// <c>model_tpm_limit</c> name none (LiteLLM's order); such an entry may have no budget at all.
/// </summary>
public sealed record ModelBudget(decimal? MaxBudget, string? Duration, long? RpmLimit = null, long? TpmLimit = null)
{
    public static readonly IReadOnlyDictionary<string, ModelBudget> None = new Dictionary<string, ModelBudget>(StringComparer.Ordinal);

    /// <summary>The budget for <paramref name="model"/>: by its name, else by its name without the provider prefix (LiteLLM's lookup).</summary>
    public static KeyValuePair<string, ModelBudget>? For(IReadOnlyDictionary<string, ModelBudget> budgets, string model)
    {
        if (budgets.Count == 0) return null;
        if (budgets.TryGetValue(model, out var b) && b.MaxBudget is not null) return new(model, b);
        var slash = model.LastIndexOf('/');
        if (slash >= 0 && budgets.TryGetValue(model[(slash + 1)..], out b) && b.MaxBudget is not null) return new(model[(slash + 1)..], b);
        return null;
    }

    /// <summary>The model name without its provider prefix (<c>openai/gpt-4o</c> → <c>gpt-4o</c>): how the spend logs record the upstream model.</summary>
    public static string Bare(string model)
    {
        var slash = model.LastIndexOf('/');
        return slash >= 0 ? model[(slash + 1)..] : model;
    }

    /// <summary>
    /// The window the spend belongs to: windows step by <see cref="Duration"/> from <paramref name="anchor"/> (the key's
    /// creation), so every replica and every restart agree on it without storing it. Null without a duration.
    /// </summary>
    public (DateTimeOffset Start, DateTimeOffset End)? WindowAt(DateTimeOffset anchor, DateTimeOffset now)
    {
        if (!BudgetDuration.TryParse(Duration, out var d)) return null;
        if (now < anchor) return (anchor, d.After(anchor));
        DateTimeOffset start;
        if (d.Of == BudgetDuration.Unit.Month)
        {
            var months = ((now.Year - anchor.Year) * 12) + now.Month - anchor.Month;
            var steps = Math.Max(0, months / d.Count);
            start = anchor.AddMonths(steps * d.Count);
            while (start > now && steps > 0) start = anchor.AddMonths(--steps * d.Count);
            while (d.After(start) <= now) start = d.After(start);
        }
        else
        {
            var length = d.After(anchor) - anchor;
            start = anchor + (length * Math.Floor((now - anchor) / length));
            if (d.After(start) <= now) start = d.After(start);
        }
        return (start, d.After(start));
    }

    /// <summary>The column's text: LiteLLM's input shape.</summary>
    public static string Write(IReadOnlyDictionary<string, ModelBudget> budgets)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var w = new Utf8JsonWriter(buffer)) Write(w, budgets);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static void Write(Utf8JsonWriter w, IReadOnlyDictionary<string, ModelBudget> budgets)
    {
        w.WriteStartObject();
        foreach (var (model, b) in budgets)
        {
            w.WriteStartObject(model);
            if (b.MaxBudget is { } max) w.WriteNumber("budget_limit", max); else w.WriteNull("budget_limit");
            if (b.Duration is null) w.WriteNull("time_period"); else w.WriteString("time_period", b.Duration);
            if (b.RpmLimit is { } rpm) w.WriteNumber("rpm_limit", rpm);
            if (b.TpmLimit is { } tpm) w.WriteNumber("tpm_limit", tpm);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    /// <summary>
    /// Reads the column (or an admin body's value); <paramref name="problem"/> names what is wrong. Per-model rate limits
    /// are a key's only (<paramref name="allowRates"/>): a team's, user's or budget row's entry refuses them.
    /// </summary>
    public static IReadOnlyDictionary<string, ModelBudget>? Read(JsonElement e, out string? problem, bool allowRates = true)
    {
        problem = null;
        if (e.ValueKind != JsonValueKind.Object) { problem = "must be a JSON object of model name → {\"budget_limit\": USD, \"time_period\": \"1d\"}"; return null; }
        var map = new Dictionary<string, ModelBudget>(StringComparer.Ordinal);
        foreach (var p in e.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.Object) { problem = $"`{p.Name}` must be an object like {{\"budget_limit\": 10, \"time_period\": \"1d\"}}"; return null; }
            decimal? max = null;
            string? duration = null;
            long? rpm = null, tpm = null;
            foreach (var f in p.Value.EnumerateObject())
            {
                switch (f.Name)
                {
                    case "budget_limit" or "max_budget":
                        if (f.Value.ValueKind == JsonValueKind.Null) break;
                        if (f.Value.ValueKind == JsonValueKind.String && decimal.TryParse(f.Value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var s)) max = s;
                        else if (f.Value.ValueKind == JsonValueKind.Number && f.Value.TryGetDecimal(out var n)) max = n;
                        else { problem = $"`{p.Name}.{f.Name}` must be a number (USD)"; return null; }
                        if (max < 0) { problem = $"`{p.Name}.{f.Name}` must be 0 or more"; return null; }
                        break;
                    case "time_period" or "budget_duration":
                        if (f.Value.ValueKind == JsonValueKind.Null) break;
                        if (f.Value.ValueKind != JsonValueKind.String || !BudgetDuration.TryParse(f.Value.GetString(), out _)) { problem = $"`{p.Name}.{f.Name}` must be {BudgetDuration.Expected}"; return null; }
                        duration = f.Value.GetString();
                        break;
                    case "tpm_limit" or "rpm_limit":
                        if (f.Value.ValueKind == JsonValueKind.Null) break;
                        if (!allowRates) { problem = $"`{p.Name}.{f.Name}`: per-model rate limits belong on a key's model_max_budget (or its model_rpm_limit / model_tpm_limit); remove it here"; return null; }
                        if (f.Value.ValueKind != JsonValueKind.Number || !f.Value.TryGetInt64(out var perMinute) || perMinute < 0) { problem = $"`{p.Name}.{f.Name}` must be a whole number, 0 or more (per minute)"; return null; }
                        if (f.Name == "rpm_limit") rpm = perMinute; else tpm = perMinute;
                        break;
                    default:
                        problem = $"`{p.Name}.{f.Name}` is not a field of a model budget (budget_limit, time_period{(allowRates ? ", rpm_limit, tpm_limit" : "")})";
                        return null;
                }
            }
            if (max is null && rpm is null && tpm is null) { problem = $"`{p.Name}.budget_limit` is required" + (allowRates ? " (or rpm_limit / tpm_limit)" : ""); return null; }
            map[p.Name] = new ModelBudget(max, duration, rpm, tpm);
        }
        return map;
    }

    public static IReadOnlyDictionary<string, ModelBudget> ReadColumn(string? json)
    {
        if (string.IsNullOrEmpty(json) || json == "{}") return None;
        using var doc = JsonDocument.Parse(json);
        return Read(doc.RootElement, out _) ?? None;
    }
}
