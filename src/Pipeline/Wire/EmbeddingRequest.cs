using System.Text.Json;
using System.Text.Json.Serialization;

namespace LLMux.Pipeline.Wire;

/// <summary>An OpenAI embeddings request; unknown fields kept in <see cref="Extra"/>.</summary>
public sealed class EmbeddingRequest
{
    [JsonPropertyName("model")] public string? Model { get; set; }
    /// <summary>A string, an array of strings, an array of token ids, or an array of token-id arrays.</summary>
    [JsonPropertyName("input")] public JsonElement? Input { get; set; }
    [JsonPropertyName("encoding_format")] public string? EncodingFormat { get; set; }
    [JsonPropertyName("dimensions")] public int? Dimensions { get; set; }
    [JsonPropertyName("user")] public string? User { get; set; }
    [JsonPropertyName("drop_params")] public bool? DropParams { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }

    /// <summary>The inputs as strings when they are text (a string or an array of strings).</summary>
    public IReadOnlyList<string>? TextInputs()
    {
        if (Input is not { } i) return null;
        if (i.ValueKind == JsonValueKind.String) return [i.GetString()!];
        if (i.ValueKind != JsonValueKind.Array) return null;
        var list = new List<string>(i.GetArrayLength());
        foreach (var e in i.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.String) return null;
            list.Add(e.GetString()!);
        }
        return list;
    }
}
