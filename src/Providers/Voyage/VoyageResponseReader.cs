using System.Text.Json;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Voyage;

/// <summary>
/// Voyage's answer (<c>{"object":"list","data":[{"object":"embedding","embedding":[...]|"base64","index":0}],"model","usage":{"total_tokens"}}</c>)
/// as OpenAI's embeddings answer: the vectors as sent, usage with <c>prompt_tokens</c> filled from <c>total_tokens</c>.
/// </summary>
internal static class VoyageResponseReader
{
    public static EmbeddingResponse Read(ReadOnlySpan<byte> body, string requestedModel)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body.ToArray());
        }
        catch (JsonException ex)
        {
            throw Malformed($"not valid JSON ({ex.Message})").ToException(ex);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
                throw Malformed("no `data` list").ToException();
            var items = new List<EmbeddingItem>(data.GetArrayLength());
            var position = 0;
            foreach (var entry in data.EnumerateArray())
            {
                if (!entry.TryGetProperty("embedding", out var vector) || vector.ValueKind is not (JsonValueKind.Array or JsonValueKind.String))
                    throw Malformed($"item {position} has no embedding").ToException();
                var index = entry.TryGetProperty("index", out var i) && i.TryGetInt32(out var n) ? n : position;
                items.Add(new EmbeddingItem { Index = index, Embedding = vector.Clone() });
                position++;
            }
            long tokens = 0;
            if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object && usage.TryGetProperty("total_tokens", out var total)) total.TryGetInt64(out tokens);
            var model = root.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : requestedModel;
            return new EmbeddingResponse { Model = model, Data = items, Usage = new Usage { PromptTokens = tokens, TotalTokens = tokens } };
        }
    }

    private static LlmError Malformed(string what) =>
        new() { Kind = ErrorKind.BadGateway, Provider = VoyageSpec.Name, Message = $"{VoyageSpec.Name} answered an embeddings body LLMux cannot read: {what}" };
}
