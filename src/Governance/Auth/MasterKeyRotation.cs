using System.Text.Json;

namespace LLMux.Governance.Auth;

/// <summary>
/// A rotation of the master key (<c>/key/regenerate</c> with <c>new_master_key</c>), kept in the store's settings so that
/// it holds on every replica and across restarts: the hash of the key now in force, and the hashes of every master key
/// it replaced. A replica whose <c>general_settings.master_key</c> is one of those replaced keys uses the rotated key
/// (its configured key is refused); a replica configured with the rotated key uses it; a replica configured with any
/// other key uses that key — the configuration stays the root of trust, and changing it is how an operator who lost the
/// rotated key gets back in. Hashes only: no raw master key is ever stored.
/// </summary>
public sealed record MasterKeyRotation(string Active, IReadOnlyList<string> Replaced, DateTimeOffset RotatedAt)
{
    /// <summary>The setting's name in <c>llmux_settings</c>.</summary>
    public const string Setting = "master_key";

    /// <summary>The hash of the master key in force on a replica whose configured master key hashes to <paramref name="configured"/>.</summary>
    public string InForce(string configured) => configured == Active || Replaced.Contains(configured) ? Active : configured;

    /// <summary>Whether this rotation applies to a replica configured with <paramref name="configured"/>'s key.</summary>
    public bool Overrides(string configured) => configured != Active && Replaced.Contains(configured);

    /// <summary>
    /// The rotation that makes <paramref name="next"/> the master key: every key this one replaced, the key it made active,
    /// and the keys in force and configured on the replica that rotates, all replaced.
    /// </summary>
    public static MasterKeyRotation Next(MasterKeyRotation? current, string inForce, string configured, string next, DateTimeOffset now)
    {
        var replaced = new List<string>();
        void Add(string hash)
        {
            if (hash != next && !replaced.Contains(hash)) replaced.Add(hash);
        }
        if (current is not null)
        {
            foreach (var h in current.Replaced) Add(h);
            Add(current.Active);
        }
        Add(inForce);
        Add(configured);
        return new MasterKeyRotation(next, replaced, now);
    }

    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("active", Active);
            w.WriteStartArray("replaced");
            foreach (var h in Replaced) w.WriteStringValue(h);
            w.WriteEndArray();
            w.WriteString("rotated_at", RotatedAt.UtcDateTime);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>The stored setting; null when unset or unreadable (then the configured key is in force).</summary>
    public static MasterKeyRotation? Parse(string? json)
    {
        if (string.IsNullOrEmpty(json)) return null;
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            var replaced = new List<string>();
            foreach (var h in root.GetProperty("replaced").EnumerateArray()) replaced.Add(h.GetString()!);
            return new MasterKeyRotation(root.GetProperty("active").GetString()!, replaced, new DateTimeOffset(root.GetProperty("rotated_at").GetDateTime(), TimeSpan.Zero));
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }
}
