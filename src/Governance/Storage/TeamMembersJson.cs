using System.Buffers;
using System.Text;
using System.Text.Json;
using LLMux.Governance.Entities;

namespace LLMux.Governance.Storage;

/// <summary><c>members_with_roles</c> as LiteLLM writes it: <c>[{"role","user_id","user_email"}]</c>.</summary>
internal static class TeamMembersJson
{
    public static string Write(IReadOnlyList<TeamMember> members)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var w = new Utf8JsonWriter(buffer)) Write(w, members);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static void Write(Utf8JsonWriter w, IReadOnlyList<TeamMember> members)
    {
        w.WriteStartArray();
        foreach (var m in members)
        {
            w.WriteStartObject();
            w.WriteString("role", m.Role);
            if (m.UserId is null) w.WriteNull("user_id"); else w.WriteString("user_id", m.UserId);
            if (m.UserEmail is null) w.WriteNull("user_email"); else w.WriteString("user_email", m.UserEmail);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    public static IReadOnlyList<TeamMember> Read(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var list = new List<TeamMember>();
        foreach (var e in doc.RootElement.EnumerateArray())
            list.Add(new TeamMember(e.GetProperty("role").GetString() ?? "user", Opt(e, "user_id"), Opt(e, "user_email")));
        return list;
    }

    private static string? Opt(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
