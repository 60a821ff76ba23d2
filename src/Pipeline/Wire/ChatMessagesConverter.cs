using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace LLMux.Pipeline.Wire;

/// <summary>
/// Reads <c>messages</c> one message at a time, each as a root value of its own. Read through the serializer's
/// collection converter, the array and every message object are frames on a read stack that is allocated per request;
/// read here, a message's own fields (strings and <see cref="JsonElement"/>s) need no frame, so a plain chat request
/// parses without that stack. Errors keep the paths they had (<c>$.messages[1].role</c>). Written as the serializer
/// writes the list.
/// </summary>
internal sealed class ChatMessagesConverter : JsonConverter<List<ChatMessage>>
{
    public override List<ChatMessage>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException(); // the serializer adds "could not be converted" and the path
        var info = MessageInfo(options);
        var messages = new List<ChatMessage>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            try
            {
                messages.Add(JsonSerializer.Deserialize(ref reader, info)!);
            }
            catch (JsonException ex) when (ex.Path is { } path && path.StartsWith('$'))
            {
                var at = $"$.messages[{messages.Count}]{path.AsSpan(1)}";
                var message = ex.Message.Replace($"Path: {path} |", $"Path: {at} |", StringComparison.Ordinal);
                throw new JsonException(message, at, ex.LineNumber, ex.BytePositionInLine, ex.InnerException ?? ex);
            }
        }
        return messages;
    }

    public override void Write(Utf8JsonWriter writer, List<ChatMessage> value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(writer, value, ListInfo(options));

    private static JsonTypeInfo<ChatMessage> MessageInfo(JsonSerializerOptions options) =>
        ReferenceEquals(options, WireJson.Default.Options) ? WireJson.Default.ChatMessage : (JsonTypeInfo<ChatMessage>)options.GetTypeInfo(typeof(ChatMessage));

    private static JsonTypeInfo<List<ChatMessage>> ListInfo(JsonSerializerOptions options) =>
        ReferenceEquals(options, WireJson.Default.Options) ? WireJson.Default.ListChatMessage : (JsonTypeInfo<List<ChatMessage>>)options.GetTypeInfo(typeof(List<ChatMessage>));
}
