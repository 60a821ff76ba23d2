using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace LLMux.Providers.Common;

/// <summary>OpenAI's <c>encoding_format: base64</c> for providers that answer float arrays.</summary>
public static class EmbeddingVectors
{
    /// <summary>The float32 values, little-endian, base64-encoded (what the OpenAI SDKs decode).</summary>
    public static JsonElement Base64(JsonElement values)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("base64 embeddings need a little-endian machine");
        var floats = new float[values.GetArrayLength()];
        var i = 0;
        foreach (var v in values.EnumerateArray()) floats[i++] = v.GetSingle();
        var bytes = MemoryMarshal.AsBytes(floats.AsSpan());
        var buffer = new ArrayBufferWriter<byte>(bytes.Length * 4 / 3 + 8);
        using (var w = new Utf8JsonWriter(buffer)) w.WriteBase64StringValue(bytes);
        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        return doc.RootElement.Clone();
    }
}
