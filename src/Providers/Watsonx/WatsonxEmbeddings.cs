using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Pipeline.Wire;
using LLMux.Providers.Common;

namespace LLMux.Providers.Watsonx;

/// <summary><c>/ml/v1/text/embeddings</c>: <c>{"inputs", "model_id", "project_id"}</c> in, <c>{"results":[{"embedding"}], "input_token_count"}</c> out.</summary>
internal static class WatsonxEmbeddings
{
    public static PooledBuffer Write(LlmContext context, WatsonxSettings settings, string modelId)
    {
        var inputs = context.Embedding!.TextInputs()
            ?? throw LlmError.Invalid($"{WatsonxSpec.Name} embeddings take text: `input` must be a string or an array of strings (token ids are not accepted)", "input").ToException();
        var buffer = new PooledBuffer(1024);
        try
        {
            using var w = new Utf8JsonWriter(buffer, JsonOut.Options);
            w.WriteStartObject();
            w.WriteStartArray("inputs"u8);
            foreach (var input in inputs) w.WriteStringValue(input);
            w.WriteEndArray();
            WatsonxRequestWriter.WriteScope(w, settings, modelId);
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
        WatsonxEmbeddingResponse? answer;
        try
        {
            answer = JsonSerializer.Deserialize(body, WatsonxJson.Default.WatsonxEmbeddingResponse);
        }
        catch (JsonException ex)
        {
            throw new LlmError { Kind = ErrorKind.BadGateway, Provider = WatsonxSpec.Name, Message = $"{WatsonxSpec.Name} answered embeddings that cannot be read ({ex.Message})" }.ToException(ex);
        }
        if (answer?.Results is not { } results)
            throw new LlmError { Kind = ErrorKind.BadGateway, Provider = WatsonxSpec.Name, Message = $"{WatsonxSpec.Name} answered embeddings without `results`" }.ToException();
        var base64 = request.EncodingFormat == "base64";
        var response = new EmbeddingResponse { Model = answer.ModelId ?? model };
        for (var i = 0; i < results.Count; i++)
        {
            var values = results[i].Embedding;
            if (values.ValueKind != JsonValueKind.Array)
                throw new LlmError { Kind = ErrorKind.BadGateway, Provider = WatsonxSpec.Name, Message = $"{WatsonxSpec.Name} embedding {i} is not an array" }.ToException();
            response.Data.Add(new EmbeddingItem { Index = i, Embedding = base64 ? EmbeddingVectors.Base64(values) : values.Clone() });
        }
        response.Usage = new Usage { PromptTokens = answer.InputTokenCount, TotalTokens = answer.InputTokenCount };
        return response;
    }
}
