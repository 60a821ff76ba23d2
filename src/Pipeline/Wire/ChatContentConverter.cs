using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace LLMux.Pipeline.Wire;

/// <summary>
/// A message's <c>content</c> as it is read and written: a string (the common case, kept as the string), or any other
/// value as an element. Public only because the source-generated <see cref="WireJson"/> is; read
/// <see cref="ChatMessage.Content"/>, <see cref="ChatMessage.ContentKind"/> or <see cref="ChatMessage.TextContent"/> instead.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public readonly record struct ChatContent(string? Text, JsonElement? Element);

/// <summary>
/// Reads a string <c>content</c> as the string alone (no <see cref="JsonDocument"/> per message); every other value,
/// <c>null</c> included, goes through the serializer's own <see cref="JsonElement"/>? handling, so it reads as it did.
/// </summary>
internal sealed class ChatContentConverter : JsonConverter<ChatContent>
{
    public override bool HandleNull => true;

    public override ChatContent Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String) return new ChatContent(reader.GetString(), null);
        return new ChatContent(null, JsonSerializer.Deserialize(ref reader, ElementInfo(options)));
    }

    public override void Write(Utf8JsonWriter writer, ChatContent value, JsonSerializerOptions options)
    {
        if (value.Text is { } text) writer.WriteStringValue(text);
        else if (value.Element is { } element) element.WriteTo(writer);
        else writer.WriteNullValue();
    }

    /// <summary>The element a string content would have been read as.</summary>
    internal static JsonElement ToElement(string text)
    {
        var reader = new Utf8JsonReader(JsonSerializer.SerializeToUtf8Bytes(text, WireJson.Default.String));
        return JsonElement.ParseValue(ref reader);
    }

    private static JsonTypeInfo<JsonElement?> ElementInfo(JsonSerializerOptions options) =>
        ReferenceEquals(options, WireJson.Default.Options) ? WireJson.Default.NullableJsonElement : (JsonTypeInfo<JsonElement?>)options.GetTypeInfo(typeof(JsonElement?));
}
