using System.Text.Json;

namespace LLMux.Governance.Limits;

/// <summary>
/// A key's limits that LiteLLM calls <c>dynamic</c> (<c>rpm_limit_type</c> / <c>tpm_limit_type</c> in its metadata):
/// the key may go past them while the model it calls is healthy; they hold as soon as one of the model's deployments
/// has failed more than <see cref="GovernanceService.DynamicLimitFailures"/> times this minute.
/// </summary>
[Flags]
public enum DynamicLimits
{
    None = 0,
    Rpm = 1,
    Tpm = 2,
}

/// <summary>Reads <see cref="DynamicLimits"/> from a key's metadata.</summary>
public static class DynamicLimitTypes
{
    /// <summary>The dynamic limits a key's metadata JSON names (none when it is not an object or names none).</summary>
    public static DynamicLimits Of(string? metadata)
    {
        if (metadata is null || !metadata.Contains("dynamic", StringComparison.Ordinal)) return DynamicLimits.None;
        try
        {
            using var doc = JsonDocument.Parse(metadata);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return DynamicLimits.None;
            var found = DynamicLimits.None;
            if (Is(doc.RootElement, "rpm_limit_type")) found |= DynamicLimits.Rpm;
            if (Is(doc.RootElement, "tpm_limit_type")) found |= DynamicLimits.Tpm;
            return found;
        }
        catch (JsonException)
        {
            return DynamicLimits.None;
        }

        static bool Is(JsonElement o, string name) =>
            o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.ValueEquals("dynamic");
    }
}
