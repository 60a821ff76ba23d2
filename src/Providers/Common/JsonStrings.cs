using System.Text.Json;

namespace LLMux.Providers.Common;

/// <summary>A .NET string as a JSON string element (message content of a translated answer).</summary>
public static class JsonStrings
{
    public static JsonElement Element(string s)
    {
        using var d = JsonDocument.Parse("\"" + JsonEncodedText.Encode(s, System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping) + "\"");
        return d.RootElement.Clone();
    }
}
