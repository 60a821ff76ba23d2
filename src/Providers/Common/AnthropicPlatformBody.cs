using System.Buffers;
using System.Text.Json;
using LLMux.Pipeline.Context;

namespace LLMux.Providers.Common;

/// <summary>
/// Rewrites an Anthropic Messages body for a platform (<see cref="AnthropicPlatform"/>): every field is copied as
/// raw bytes except <c>model</c>, <c>anthropic_version</c> and <c>anthropic_beta</c> (written by the platform's
/// rules), <c>stream</c> where the URL decides it, and the platform's unsupported hints. What was left out is
/// reported as one <c>x-llmux-warnings</c> entry, so the caller sees it and the request still succeeds.
/// </summary>
internal static class AnthropicPlatformBody
{
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true, Indented = false };

    /// <summary>Writes the platform body; <paramref name="betas"/> are the comma-separated values the client asked for.</summary>
    public static void Write(ReadOnlySpan<byte> body, IBufferWriter<byte> output, AnthropicPlatform platform, IReadOnlyList<string> betas, LlmContext? context, int? maxTokensIfMissing = null)
    {
        var kept = new List<string>(4);
        var droppedBetas = new List<string>(0);
        foreach (var value in betas) platform.Betas.Filter(value, kept, droppedBetas);
        List<string>? droppedFields = null;
        var sawMaxTokens = false;

        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 256 });
        using (var writer = new Utf8JsonWriter(output, WriterOptions))
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("request body must be a JSON object");
            writer.WriteStartObject();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("model"u8) || reader.ValueTextEquals("anthropic_version"u8)
                    || (!platform.KeepsStreamField && reader.ValueTextEquals("stream"u8)))
                {
                    reader.Read();
                    reader.Skip();
                    continue;
                }
                if (reader.ValueTextEquals("anthropic_beta"u8))
                {
                    // Betas written in the body join the header's, through the same filter.
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartArray)
                    {
                        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                            if (reader.TokenType == JsonTokenType.String) platform.Betas.Filter(reader.GetString()!, kept, droppedBetas);
                    }
                    else reader.Skip();
                    continue;
                }
                if (IsDropped(ref reader, platform.DroppedFields, out var name))
                {
                    (droppedFields ??= []).Add(name!);
                    reader.Read();
                    reader.Skip();
                    continue;
                }
                if (reader.ValueTextEquals("max_tokens"u8)) sawMaxTokens = true;
                if (reader.ValueIsEscaped) writer.WritePropertyName(reader.GetString()!);
                else writer.WritePropertyName(reader.ValueSpan);
                reader.Read();
                var start = (int)reader.TokenStartIndex;
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) reader.Skip();
                writer.WriteRawValue(body[start..(int)reader.BytesConsumed], skipInputValidation: true);
            }
            // A count_tokens body has no max_tokens, which InvokeModel requires; it does not change the input count.
            if (!sawMaxTokens && maxTokensIfMissing is { } max) writer.WriteNumber("max_tokens"u8, max);
            writer.WriteString("anthropic_version"u8, platform.AnthropicVersion);
            if (kept.Count > 0)
            {
                writer.WriteStartArray("anthropic_beta"u8);
                foreach (var b in kept) writer.WriteStringValue(b);
                writer.WriteEndArray();
            }
            writer.WriteEndObject();
        }
        if (context is null || (droppedBetas.Count == 0 && droppedFields is null)) return;
        var parts = new List<string>(2);
        if (droppedBetas.Count > 0) parts.Add($"anthropic-beta values {platform.Name} does not accept: {string.Join(", ", droppedBetas)}");
        if (droppedFields is not null) parts.Add($"fields {platform.Name} does not accept: {string.Join(", ", droppedFields)}");
        context.ResponseHeaders.Add(new("x-llmux-warnings", "dropped " + string.Join("; ", parts)));
    }

    private static bool IsDropped(ref Utf8JsonReader reader, IReadOnlyList<string> fields, out string? name)
    {
        for (var i = 0; i < fields.Count; i++)
        {
            if (reader.ValueTextEquals(fields[i])) { name = fields[i]; return true; }
        }
        name = null;
        return false;
    }
}
