using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Gemini;

/// <summary>
/// Embeddings: AI Studio <c>:batchEmbedContents</c> (one request per input) and Vertex <c>:predict</c>
/// (one instance per input), read back into OpenAI's shape with <c>encoding_format</c> applied here.
/// </summary>
internal static class GeminiEmbeddings
{
    public static PooledBuffer Write(LlmContext context, string model, bool vertex)
    {
        var request = context.Embedding!;
        var inputs = request.TextInputs()
            ?? throw LlmError.Invalid("Gemini embeddings take text: `input` must be a string or an array of strings (token ids are not accepted)", "input").ToException();
        var dimensions = context.IsDropped("dimensions") ? null : request.Dimensions;
        var taskType = TaskType(request, context);
        var buffer = new PooledBuffer(1024);
        try
        {
            using var w = new Utf8JsonWriter(buffer, JsonOut.Options);
            w.WriteStartObject();
            if (vertex)
            {
                w.WriteStartArray("instances"u8);
                foreach (var input in inputs)
                {
                    w.WriteStartObject();
                    w.WriteString("content"u8, input);
                    if (taskType is not null) w.WriteString("task_type"u8, taskType);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                if (dimensions is { } d)
                {
                    w.WriteStartObject("parameters"u8);
                    w.WriteNumber("outputDimensionality"u8, d);
                    w.WriteEndObject();
                }
            }
            else
            {
                w.WriteStartArray("requests"u8);
                foreach (var input in inputs)
                {
                    w.WriteStartObject();
                    w.WriteString("model"u8, "models/" + model);
                    w.WriteStartObject("content"u8);
                    w.WriteStartArray("parts"u8);
                    w.WriteStartObject();
                    w.WriteString("text"u8, input);
                    w.WriteEndObject();
                    w.WriteEndArray();
                    w.WriteEndObject();
                    if (dimensions is { } d) w.WriteNumber("outputDimensionality"u8, d);
                    if (taskType is not null) w.WriteString("taskType"u8, taskType);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
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

    private static string? TaskType(EmbeddingRequest request, LlmContext context)
    {
        foreach (var key in (string[])["input_type", "task_type"])
        {
            if (request.Extra is { } extra && extra.TryGetValue(key, out var v) && v.ValueKind == JsonValueKind.String && !context.IsDropped(key)) return v.GetString();
        }
        return null;
    }

    public static EmbeddingResponse Read(ReadOnlySpan<byte> body, EmbeddingRequest request, string provider, string model, bool vertex)
    {
        var base64 = request.EncodingFormat == "base64";
        var response = new EmbeddingResponse { Model = model };
        long tokens = 0;
        try
        {
            var reader = new Utf8JsonReader(body);
            using var doc = JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            var list = vertex ? Property(root, "predictions") : Property(root, "embeddings");
            if (list is not { ValueKind: JsonValueKind.Array } items) throw new JsonException(vertex ? "no predictions array" : "no embeddings array");
            var index = 0;
            foreach (var item in items.EnumerateArray())
            {
                var holder = vertex ? Property(item, "embeddings") : item;
                if (holder is not { } h || Property(h, "values") is not { ValueKind: JsonValueKind.Array } values) throw new JsonException($"item {index} has no values");
                if (vertex && Property(h, "statistics") is { } stats && Property(stats, "token_count") is { ValueKind: JsonValueKind.Number } tc) tokens += (long)tc.GetDouble();
                response.Data.Add(new EmbeddingItem { Index = index++, Embedding = base64 ? Base64(values) : values.Clone() });
            }
        }
        catch (JsonException ex)
        {
            throw new LlmError { Kind = ErrorKind.BadGateway, Provider = provider, Message = $"{provider} answered embeddings that cannot be read ({ex.Message})" }.ToException(ex);
        }
        if (!vertex)
        {
            // AI Studio reports no token count: estimated at one token per four characters (LiteLLM uses a local tokenizer).
            foreach (var input in request.TextInputs() ?? []) tokens += (input.Length + 3) / 4;
        }
        response.Usage = new Usage { PromptTokens = tokens, TotalTokens = tokens };
        return response;
    }

    /// <summary>OpenAI's base64 form: the float32 values, little-endian, base64-encoded.</summary>
    private static JsonElement Base64(JsonElement values)
    {
        var floats = new float[values.GetArrayLength()];
        var i = 0;
        foreach (var v in values.EnumerateArray()) floats[i++] = v.GetSingle();
        var bytes = MemoryMarshal.AsBytes(floats.AsSpan());
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("base64 embeddings need a little-endian machine");
        var buffer = new ArrayBufferWriter<byte>(bytes.Length * 4 / 3 + 8);
        using (var w = new Utf8JsonWriter(buffer)) w.WriteBase64StringValue(bytes);
        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        return doc.RootElement.Clone();
    }

    private static JsonElement? Property(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) ? v : null;
}
