using System.Text.Json;
using LLMux.Pipeline.Capabilities;
using LLMux.Providers;

namespace LLMux.Host.Capabilities;

/// <summary>The capability matrix as JSON (<c>GET /v1/capabilities</c>).</summary>
internal static class CapabilityJsonWriter
{
    public static void Write(Utf8JsonWriter w, ProviderCatalog catalog)
    {
        w.WriteStartObject();
        w.WriteString("object", "list");
        w.WriteStartArray("data");
        foreach (var s in CapabilityMatrix.Specs(catalog)) WriteProvider(w, s);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    public static void WriteProvider(Utf8JsonWriter w, ProviderSpec s)
    {
        w.WriteStartObject();
        w.WriteString("provider", s.Name);
        w.WriteString("display_name", s.DisplayName);
        w.WriteStartArray("aliases");
        foreach (var a in s.Aliases) w.WriteStringValue(a);
        w.WriteEndArray();
        WriteNullable(w, "default_api_base", s.DefaultApiBase);
        WriteNullable(w, "api_key_env", s.ApiKeyEnv);
        WriteNullable(w, "api_base_env", s.ApiBaseEnv);
        w.WriteString("auth", CapabilityMatrix.AuthName(s.Auth));
        w.WriteString("stream_format", CapabilityMatrix.StreamName(s.StreamFormat));
        w.WriteBoolean("forwards_unknown_fields", s.ForwardsUnknownFields);
        w.WriteStartObject("modes");
        foreach (var m in CapabilityMatrix.AllModes) w.WriteString(m.Name(), s.Supports(m) ? "supported" : "rejected");
        w.WriteEndObject();
        w.WriteStartArray("notes");
        foreach (var n in s.Notes) w.WriteStringValue(n);
        w.WriteEndArray();
        w.WriteStartObject("params");
        foreach (var mode in CapabilityMatrix.TableModes(s))
        {
            w.WriteStartObject(mode.Name());
            foreach (var c in CapabilityMatrix.Cells(s, mode))
            {
                w.WriteStartObject(c.Param);
                w.WriteString("support", CapabilityMatrix.KindName(c.Kind));
                if (c.MappedTo is not null) w.WriteString("maps_to", c.MappedTo);
                if (c.Note is not null) w.WriteString("note", c.Note);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null) w.WriteNull(name);
        else w.WriteString(name, value);
    }
}
