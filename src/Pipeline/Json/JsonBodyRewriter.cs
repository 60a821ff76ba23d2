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

    public static void Rewrite(ReadOnlySpan<byte> body, IBufferWriter<byte> output, string? model, IReadOnlyCollection<string>? remove, bool forceIncludeUsage, JsonBodyEdits? edits = null)
    {
        if (edits is { IsEmpty: false })
        {
            RewriteWithEdits(body, output, model, remove, forceIncludeUsage, edits);
            return;
        }
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 256 });
        // One writer per thread, reset onto each output: a new writer per request is ≈ 100 B for nothing.
        var writer = t_writer ?? new Utf8JsonWriter(output, WriterOptions);
        t_writer = null;
        writer.Reset(output);
        try
        {
            RewritePlain(ref reader, body, writer, model, remove, forceIncludeUsage);
        }
        finally
        {
            writer.Reset(NoOutput);
            t_writer = writer;
        }
    }

    [ThreadStatic] private static Utf8JsonWriter? t_writer;
    private static readonly ArrayBufferWriter<byte> NoOutput = new(1);

    private static void RewritePlain(ref Utf8JsonReader reader, ReadOnlySpan<byte> body, Utf8JsonWriter writer, string? model, IReadOnlyCollection<string>? remove, bool forceIncludeUsage)
    {
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
        // Index loops for the usual shapes: enumerating through the interface boxes an enumerator per property.
        if (remove is string[] array)
        {
            for (var i = 0; i < array.Length; i++) if (reader.ValueTextEquals(array[i])) return true;
            return false;
        }
        if (remove is IReadOnlyList<string> list)
        {
            for (var i = 0; i < list.Count; i++) if (reader.ValueTextEquals(list[i])) return true;
            return false;
        }
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

    /// <summary>The same copy with renames, value rewrites and added fields (kept apart so the plain path stays lean).</summary>
    private static void RewriteWithEdits(ReadOnlySpan<byte> body, IBufferWriter<byte> output, string? model, IReadOnlyCollection<string>? remove, bool forceIncludeUsage, JsonBodyEdits edits)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 256 });
        using var writer = new Utf8JsonWriter(output, WriterOptions);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            throw new JsonException("request body must be a JSON object");
        var present = new HashSet<string>(StringComparer.Ordinal);
        // First pass: which names the client sent, so a rename never duplicates a field.
        var scan = reader;
        while (scan.Read() && scan.TokenType == JsonTokenType.PropertyName)
        {
            present.Add(scan.GetString()!);
            scan.Read();
            scan.Skip();
        }
        writer.WriteStartObject();
        var wroteModel = false;
        var wroteStreamOptions = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            if (model is not null && name == "model")
            {
                reader.Read();
                reader.Skip();
                writer.WriteString("model"u8, model);
                wroteModel = true;
                continue;
            }
            if (remove is { Count: > 0 } && IsRemoved(ref reader, remove)) { reader.Read(); reader.Skip(); continue; }
            if (forceIncludeUsage && name == "stream_options")
            {
                reader.Read();
                WriteStreamOptions(ref reader, body, writer);
                wroteStreamOptions = true;
                continue;
            }
            if (edits.Renames.TryGetValue(name, out var renamed))
            {
                if (present.Contains(renamed)) { reader.Read(); reader.Skip(); continue; }
                name = renamed;
            }
            writer.WritePropertyName(name);
            reader.Read();
            if (reader.TokenType == JsonTokenType.String && Rewritten(edits, name, ref reader) is { } replacement)
            {
                writer.WriteStringValue(replacement);
                continue;
            }
            WriteRawValue(ref reader, body, writer);
        }
        if (model is not null && !wroteModel) writer.WriteString("model"u8, model);
        if (forceIncludeUsage && !wroteStreamOptions)
        {
            writer.WriteStartObject("stream_options"u8);
            writer.WriteBoolean("include_usage"u8, true);
            writer.WriteEndObject();
        }
        foreach (var (field, raw) in edits.AddIfMissing)
        {
            if (present.Contains(field)) continue;
            writer.WritePropertyName(field);
            writer.WriteRawValue(raw, skipInputValidation: true);
        }
        writer.WriteEndObject();
        writer.Flush();
    }

    private static string? Rewritten(JsonBodyEdits edits, string field, ref Utf8JsonReader reader)
    {
        foreach (var (f, from, to) in edits.ValueRewrites)
        {
            if (f == field && reader.ValueTextEquals(from)) return to;
        }
        return null;
    }
}
