using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Replicate;

/// <summary>A finished prediction → OpenAI's chat completion (LiteLLM's ReplicateConfig.transform_response).</summary>
internal static class ReplicateAnswers
{
    public static ChatCompletion Read(ReadOnlySpan<byte> body, string model, long now)
    {
        ReplicatePrediction prediction;
        try
        {
            prediction = JsonSerializer.Deserialize(body, ReplicateJson.Default.ReplicatePrediction) ?? throw new JsonException("null");
        }
        catch (JsonException ex)
        {
            throw new LlmError { Kind = ErrorKind.BadGateway, Provider = ReplicateSpec.Name, Message = $"{ReplicateSpec.Name} answered with a body that is not a prediction ({ex.Message})" }.ToException(ex);
        }
        if (prediction.Status != "succeeded")
        {
            var error = prediction.Error is { ValueKind: JsonValueKind.String } e ? e.GetString() : prediction.Error?.GetRawText();
            throw new LlmError
            {
                // LiteLLM answers a prediction that did not succeed with 422 (a bad request for the model).
                Kind = prediction.Status == "canceled" ? ErrorKind.BadGateway : ErrorKind.InvalidRequest,
                Provider = ReplicateSpec.Name,
                Code = "prediction_" + prediction.Status,
                Message = $"{ReplicateSpec.Name}: prediction {prediction.Id} {prediction.Status}{(string.IsNullOrEmpty(error) ? "" : ": " + error)}",
            }.ToException();
        }
        var text = Output(prediction.Output);
        var content = JsonString(text.Length == 0 ? " " : text); // LiteLLM answers " " for an empty output
        return new ChatCompletion
        {
            Id = "chatcmpl-" + prediction.Id,
            Created = now,
            Model = model,
            Choices = [new ChatChoice { Index = 0, Message = new ChatMessage { Role = "assistant", Content = content }, FinishReason = "stop" }],
            Usage = prediction.Metrics is { } m ? Usage(m) : new Usage(),
        };
    }

    /// <summary>A language model's output is an array of text pieces; some models answer one string.</summary>
    public static string Output(JsonElement? output)
    {
        if (output is not { } o) return "";
        if (o.ValueKind == JsonValueKind.String) return o.GetString() ?? "";
        if (o.ValueKind != JsonValueKind.Array) return o.ValueKind == JsonValueKind.Null ? "" : o.GetRawText();
        var sb = new StringBuilder();
        foreach (var piece in o.EnumerateArray()) sb.Append(piece.ValueKind == JsonValueKind.String ? piece.GetString() : piece.GetRawText());
        return sb.ToString();
    }

    public static Usage Usage(ReplicateMetrics m)
    {
        var input = m.InputTokenCount ?? 0;
        var output = m.OutputTokenCount ?? 0;
        return new Usage { PromptTokens = input, CompletionTokens = output, TotalTokens = input + output };
    }

    private static JsonElement JsonString(string s)
    {
        using var d = JsonDocument.Parse("\"" + JsonEncodedText.Encode(s, System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping) + "\"");
        return d.RootElement.Clone();
    }
}
