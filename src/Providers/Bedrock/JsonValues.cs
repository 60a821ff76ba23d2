using System.Buffers;
using System.Text.Json;

namespace LLMux.Providers.Bedrock;

/// <summary>Small detached <see cref="JsonElement"/>s for the wire model's JSON-typed fields.</summary>
internal static class JsonValues
{
    public static JsonElement String(string value) => Build(value, static (w, v) => w.WriteStringValue(v));

    public static JsonElement Number(long value) => Build(value, static (w, v) => w.WriteNumberValue(v));

    public static JsonElement Build<T>(T state, Action<Utf8JsonWriter, T> write)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var w = new Utf8JsonWriter(buffer, LLMux.Pipeline.Json.JsonOut.Options)) write(w, state);
        return JsonElement.Parse(buffer.WrittenSpan);
    }
}
