using System.Buffers;
using System.Text;
using System.Text.Json;

namespace LLMux.Governance.Storage;

/// <summary>String lists kept as JSON arrays in one text column (SQLite has no array type; PostgreSQL's jsonb reads the same text).</summary>
internal static class JsonColumns
{
    public static string Write(IReadOnlyList<string> values)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            foreach (var v in values) w.WriteStringValue(v);
            w.WriteEndArray();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static IReadOnlyList<string> ReadList(string? json)
    {
        if (string.IsNullOrEmpty(json)) return [];
        using var doc = JsonDocument.Parse(json);
        var list = new List<string>(doc.RootElement.GetArrayLength());
        foreach (var e in doc.RootElement.EnumerateArray()) if (e.GetString() is { } s) list.Add(s);
        return list;
    }
}
