using System.Buffers.Binary;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Bedrock;

/// <summary>
/// InvokeModel embeddings: Amazon Titan text (v1, v2: one input per request) and Cohere embed (all inputs in one
/// request). Bedrock is always asked for floats; <c>encoding_format: base64</c> is produced here as OpenAI defines
/// it (little-endian float32, base64), because Titan's "binary" type is a different, 1-bit embedding.
/// </summary>
internal static class BedrockEmbeddings
{
    public static IReadOnlyList<string> Inputs(LlmContext context)
    {
        var inputs = context.Embedding!.TextInputs();
        if (inputs is null || inputs.Count == 0)
            throw LlmError.Invalid("bedrock embeddings take `input` as a string or an array of strings (token arrays are not supported)", "input").ToException();
        return inputs;
    }

    /// <summary>Titan takes one text per request: the number of upstream calls for this embedding request.</summary>
    public static int RequestCount(BedrockModel model, LlmContext context) => model.IsTitanEmbedding ? Inputs(context).Count : 1;

    public static void WriteRequest(LlmContext context, BedrockModel model, int inputIndex, PooledBuffer output)
    {
        var request = context.Embedding!;
        var inputs = Inputs(context);
        using var w = new Utf8JsonWriter(output);
        w.WriteStartObject();
        if (model.IsTitanEmbedding)
        {
            w.WriteString("inputText"u8, inputs[inputIndex]);
            if (!model.IsTitanEmbeddingV1)
            {
                if (!context.IsDropped("dimensions") && request.Dimensions is { } dims) w.WriteNumber("dimensions"u8, dims);
                if (!context.IsDropped("normalize") && Extra(request, "normalize") is { } norm && norm.ValueKind is JsonValueKind.True or JsonValueKind.False)
                    w.WriteBoolean("normalize"u8, norm.ValueKind == JsonValueKind.True);
                w.WriteStartArray("embeddingTypes"u8);
                w.WriteStringValue("float"u8);
                w.WriteEndArray();
            }
            else
            {
                NotForV1(context, request.Dimensions is not null, "dimensions", model);
                NotForV1(context, Extra(request, "normalize") is not null, "normalize", model);
            }
        }
        else if (model.IsCohereEmbedding)
        {
            w.WriteStartArray("texts"u8);
            foreach (var s in inputs) w.WriteStringValue(s);
            w.WriteEndArray();
            var inputType = context.IsDropped("input_type") ? null : Extra(request, "input_type")?.GetString();
            w.WriteString("input_type"u8, inputType ?? "search_document");
            if (!context.IsDropped("truncate") && Extra(request, "truncate") is { ValueKind: JsonValueKind.String } truncate) w.WriteString("truncate"u8, truncate.GetString());
            w.WriteStartArray("embedding_types"u8);
            w.WriteStringValue("float"u8);
            w.WriteEndArray();
            if (!context.IsDropped("dimensions") && request.Dimensions is { } dims) w.WriteNumber("output_dimension"u8, dims);
        }
        else
        {
            throw LlmError.Invalid($"bedrock embeddings support amazon.titan-embed-text-* and cohere.embed-* models; `{model.ModelId}` is neither", "model").ToException();
        }
        w.WriteEndObject();
        w.Flush();
    }

    private static void NotForV1(LlmContext context, bool present, string param, BedrockModel model)
    {
        if (!present || context.IsDropped(param)) return;
        if (context.DropParams) { context.AddDroppedParam(param); return; }
        throw new LlmError
        {
            Kind = ErrorKind.UnsupportedParam,
            Message = $"parameter `{param}` is not supported by {model.BaseModel}; remove it, or set drop_params: true to drop it with a warning",
            Param = param,
            Code = "unsupported_parameter",
            Provider = "bedrock",
        }.ToException();
    }

    private static JsonElement? Extra(EmbeddingRequest request, string key) =>
        request.Extra is { } extra && extra.TryGetValue(key, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    /// <summary>Reads one InvokeModel answer and appends its vectors (from <paramref name="firstIndex"/>); returns the input tokens.</summary>
    public static long ReadInto(ReadOnlySpan<byte> body, HttpResponseHeaders headers, BedrockModel model, bool base64, int firstIndex, List<EmbeddingItem> into)
    {
        using var doc = ParseBody(body);
        var root = doc.RootElement;
        long tokens = 0;
        if (model.IsTitanEmbedding)
        {
            JsonElement vector;
            if (root.TryGetProperty("embeddingsByType", out var byType) && byType.TryGetProperty("float", out var f)) vector = f;
            else if (!root.TryGetProperty("embedding", out vector)) throw Malformed("embedding");
            into.Add(Item(firstIndex, vector, base64));
            if (root.TryGetProperty("inputTextTokenCount", out var count) && count.TryGetInt64(out var c)) tokens = c;
        }
        else
        {
            if (!root.TryGetProperty("embeddings", out var embeddings)) throw Malformed("embeddings");
            if (embeddings.ValueKind == JsonValueKind.Object && embeddings.TryGetProperty("float", out var floats)) embeddings = floats;
            if (embeddings.ValueKind != JsonValueKind.Array) throw Malformed("embeddings");
            var i = firstIndex;
            foreach (var vector in embeddings.EnumerateArray()) into.Add(Item(i++, vector, base64));
        }
        if (tokens == 0 && headers.TryGetValues("X-Amzn-Bedrock-Input-Token-Count", out var values))
        {
            foreach (var v in values)
                if (long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var t)) tokens = t;
        }
        return tokens;
    }

    private static JsonDocument ParseBody(ReadOnlySpan<byte> body)
    {
        try
        {
            return JsonDocument.Parse(body.ToArray());
        }
        catch (JsonException ex)
        {
            throw new LlmError { Kind = ErrorKind.BadGateway, Provider = "bedrock", Message = $"bedrock answered with a body that is not valid JSON ({ex.Message})" }.ToException(ex);
        }
    }

    private static EmbeddingItem Item(int index, JsonElement vector, bool base64)
    {
        if (vector.ValueKind != JsonValueKind.Array) throw Malformed("embedding vector");
        if (!base64) return new EmbeddingItem { Index = index, Embedding = vector.Clone() };
        var bytes = new byte[vector.GetArrayLength() * 4];
        var at = 0;
        foreach (var x in vector.EnumerateArray())
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(at), x.GetSingle());
            at += 4;
        }
        return new EmbeddingItem { Index = index, Embedding = JsonValues.String(Convert.ToBase64String(bytes)) };
    }

    private static LlmException Malformed(string what) => new LlmError
    {
        Kind = ErrorKind.BadGateway,
        Provider = "bedrock",
        Message = $"bedrock embeddings answer has no {what}",
    }.ToException();
}
