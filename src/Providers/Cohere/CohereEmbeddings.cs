using System.Buffers;
using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Cohere;

/// <summary><c>/v2/embed</c>: texts in, float embeddings out; OpenAI's base64 form is encoded here from the floats.</summary>
internal static class CohereEmbeddings
{
    public static PooledBuffer Write(LlmContext context)
    {
        var request = context.Embedding!;
        var inputs = request.TextInputs()
            ?? throw LlmError.Invalid("cohere embeddings take text: `input` must be a string or an array of strings (token ids are not accepted)", "input").ToException();
        var inputType = "search_document";
        if (!context.IsDropped("input_type") && request.Extra is { } extra && extra.TryGetValue("input_type", out var it) && it.ValueKind == JsonValueKind.String)
            inputType = it.GetString() ?? inputType;
        var buffer = new PooledBuffer(1024);
        try
        {
            using var w = new Utf8JsonWriter(buffer, JsonOut.Options);
            w.WriteStartObject();
            w.WriteString("model"u8, context.Deployment!.UpstreamModel);
            w.WriteStartArray("texts"u8);
            foreach (var input in inputs) w.WriteStringValue(input);
            w.WriteEndArray();
            w.WriteString("input_type"u8, inputType);
            w.WriteStartArray("embedding_types"u8);
            w.WriteStringValue("float"u8);
            w.WriteEndArray();
            if (!context.IsDropped("dimensions") && request.Dimensions is { } d) w.WriteNumber("output_dimension"u8, d);
            w.WriteEndObject();
            w.Flush();
            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    public static EmbeddingResponse Read(ReadOnlySpan<byte> body, EmbeddingRequest request, string model)
    {
        var base64 = request.EncodingFormat == "base64";
        var response = new EmbeddingResponse { Model = model };
        long tokens = 0;
        try
        {
            var reader = new Utf8JsonReader(body);
            using var doc = JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("embeddings", out var embeddings)) throw new JsonException("no embeddings");
            // v2 answers {"float": [[...]]}; an older-style answer is the list itself.
            var list = embeddings.ValueKind == JsonValueKind.Object && embeddings.TryGetProperty("float", out var f) ? f : embeddings;
            if (list.ValueKind != JsonValueKind.Array) throw new JsonException("embeddings.float is not an array");
            var index = 0;
            foreach (var values in list.EnumerateArray())
            {
                if (values.ValueKind != JsonValueKind.Array) throw new JsonException($"embedding {index} is not an array");
                response.Data.Add(new EmbeddingItem { Index = index++, Embedding = base64 ? Common.EmbeddingVectors.Base64(values) : values.Clone() });
            }
            if (root.TryGetProperty("meta", out var meta) && meta.ValueKind == JsonValueKind.Object
                && meta.TryGetProperty("billed_units", out var bu) && bu.ValueKind == JsonValueKind.Object
                && bu.TryGetProperty("input_tokens", out var it) && it.ValueKind == JsonValueKind.Number) tokens = (long)it.GetDouble();
        }
        catch (JsonException ex)
        {
            throw new LlmError { Kind = ErrorKind.BadGateway, Provider = CohereSpec.Spec.Name, Message = $"cohere answered embeddings that cannot be read ({ex.Message})" }.ToException(ex);
        }
        response.Usage = new Usage { PromptTokens = tokens, TotalTokens = tokens };
        return response;
    }
}
