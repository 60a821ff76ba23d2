using System.Buffers;
using System.Text.Json;

namespace LLMux.Pipeline.Json;

/// <summary>
/// Copies a JSON object body token-for-token with a few top-level edits: the <c>model</c> replaced,
/// some fields removed, <c>stream_options.include_usage</c> forced on. Every other field is copied as raw
/// bytes, so unknown fields reach the upstream exactly as the client wrote them.
/// </summary>
public static class JsonBodyRewriter
{
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true, Indented = false };

    public static void Rewrite(ReadOnlySpan<byte> body, IBufferWriter<byte> output, string? model, IReadOnlyCollection<string>? remove, bool forceIncludeUsage)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 256 });
        using var writer = new Utf8JsonWriter(output, WriterOptions);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            throw new JsonException("request body must be a JSON object");
        writer.WriteStartObject();
        var wroteModel = false;
        var wroteStreamOptions = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (model is not null && reader.ValueTextEquals("model"u8))
            {
                reader.Skip();
                writer.WriteString("model"u8, model);
                wroteModel = true;
                continue;
            }
            if (remove is { Count: > 0 } && IsRemoved(ref reader, remove))
            {
                reader.Skip();
                continue;
            }
            if (forceIncludeUsage && reader.ValueTextEquals("stream_options"u8))
            {
                reader.Read();
                WriteStreamOptions(ref reader, body, writer);
                wroteStreamOptions = true;
                continue;
            }
            CopyProperty(ref reader, body, writer);
        }
        if (model is not null && !wroteModel) writer.WriteString("model"u8, model);
        if (forceIncludeUsage && !wroteStreamOptions)
        {
            writer.WriteStartObject("stream_options"u8);
            writer.WriteBoolean("include_usage"u8, true);
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
        writer.Flush();
    }

    private static bool IsRemoved(ref Utf8JsonReader reader, IReadOnlyCollection<string> remove)
    {
        foreach (var name in remove)
        {
            if (reader.ValueTextEquals(name)) return true;
        }
        return false;
    }

    /// <summary>Copies the property at the reader (positioned on its name) as raw bytes.</summary>
    private static void CopyProperty(ref Utf8JsonReader reader, ReadOnlySpan<byte> body, Utf8JsonWriter writer)
    {
        WriteName(ref reader, writer);
        reader.Read();
        WriteRawValue(ref reader, body, writer);
    }

    private static void WriteName(ref Utf8JsonReader reader, Utf8JsonWriter writer)
    {
        if (reader.ValueIsEscaped) writer.WritePropertyName(reader.GetString()!);
        else writer.WritePropertyName(reader.ValueSpan);
    }

    private static void WriteRawValue(ref Utf8JsonReader reader, ReadOnlySpan<byte> body, Utf8JsonWriter writer)
    {
        var start = (int)reader.TokenStartIndex;
        if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) reader.Skip();
        var end = (int)reader.BytesConsumed;
        writer.WriteRawValue(body[start..end], skipInputValidation: true);
    }

    private static void WriteStreamOptions(ref Utf8JsonReader reader, ReadOnlySpan<byte> body, Utf8JsonWriter writer)
    {
        writer.WriteStartObject("stream_options"u8);
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("include_usage"u8)) { reader.Read(); reader.Skip(); continue; }
                CopyProperty(ref reader, body, writer);
            }
        }
        else
        {
            reader.Skip();
        }
        writer.WriteBoolean("include_usage"u8, true);
        writer.WriteEndObject();
    }
}
