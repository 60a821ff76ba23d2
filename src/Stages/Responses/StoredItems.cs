using System.Text.Json;

namespace LLMux.Stages.Responses;

/// <summary>Reading the item arrays of a <see cref="StoredResponse"/>: their ids (for an item index) and one item by id.</summary>
public static class StoredItems
{
    /// <summary>The <c>id</c> of every top-level item of the given JSON arrays.</summary>
    public static string[] Ids(params ReadOnlySpan<byte[]> arrays)
    {
        List<string>? ids = null;
        foreach (var array in arrays)
        {
            if (array.Length == 0) continue;
            try
            {
                var reader = new Utf8JsonReader(array);
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray) continue;
                while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                {
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var isId = reader.ValueTextEquals("id"u8);
                        reader.Read();
                        if (isId && reader.TokenType == JsonTokenType.String) (ids ??= []).Add(reader.GetString()!);
                        else reader.Skip();
                    }
                }
            }
            catch (JsonException)
            {
                // Not an item array (a store written by something else): nothing in it can be referenced.
            }
        }
        return ids is null ? [] : [.. ids];
    }

    /// <summary>The item with <paramref name="itemId"/> among the response's input and output items, as JSON; null if it holds none.</summary>
    public static byte[]? Find(StoredResponse response, string itemId)
    {
        foreach (var array in (ReadOnlySpan<byte[]>)[response.InputItems, response.OutputItems])
        {
            if (array.Length == 0) continue;
            using var doc = JsonDocument.Parse(array);
            foreach (var item in doc.RootElement.EnumerateArray())
                if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String && id.ValueEquals(itemId))
                    return System.Text.Encoding.UTF8.GetBytes(item.GetRawText());
        }
        return null;
    }
}
