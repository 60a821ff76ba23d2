using System.Text.Json;

namespace LLMux.Governance.Limits;

/// <summary>A key's rpm and tpm limits, as flags: which of them a limit type applies to.</summary>
[Flags]
public enum LimitUnits
{
    None = 0,
    Rpm = 1,
    Tpm = 2,
}

/// <summary>
/// LiteLLM's <c>rpm_limit_type</c> / <c>tpm_limit_type</c>, read from a key's metadata where LiteLLM keeps them:
/// <c>guaranteed_throughput</c> (checked against the team when the key is written), <c>best_effort_throughput</c>, and
/// <c>dynamic</c> (the limit holds only while the model the key calls has failed more than
/// <see cref="GovernanceService.DynamicLimitFailures"/> times this minute).
/// </summary>
public static class KeyLimitTypes
{
    public const string Guaranteed = "guaranteed_throughput";
    public const string Dynamic = "dynamic";

    /// <summary>The units whose limit type in <paramref name="metadata"/> (a JSON object) is <paramref name="type"/>.</summary>
    public static LimitUnits UnitsOf(string? metadata, string type)
    {
        if (metadata is null || !metadata.Contains(type, StringComparison.Ordinal)) return LimitUnits.None;
        try
        {
            using var doc = JsonDocument.Parse(metadata);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return LimitUnits.None;
            var found = LimitUnits.None;
            if (Is(doc.RootElement, "rpm_limit_type", type)) found |= LimitUnits.Rpm;
            if (Is(doc.RootElement, "tpm_limit_type", type)) found |= LimitUnits.Tpm;
            return found;
        }
        catch (JsonException)
        {
            return LimitUnits.None;
        }

        static bool Is(JsonElement o, string name, string type) =>
            o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.ValueEquals(type);
    }
}
