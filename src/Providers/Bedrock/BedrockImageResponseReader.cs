using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Bedrock;

/// <summary>
/// Reads an InvokeModel image answer — Titan / Nova Canvas <c>{images, error}</c>, Stability 3 <c>{images, seeds,
/// finish_reasons}</c>, SDXL <c>{result, artifacts[{base64, seed, finishReason}]}</c> — into OpenAI's
/// <c>{created, data[{b64_json}]}</c>, with the usage that prices it (the model's <c>output_cost_per_image</c>; SDXL by size and steps).
/// </summary>
internal static class BedrockImageResponseReader
{
    public static void Read(LlmContext context, ReadOnlySpan<byte> body, BedrockModel model, string provider)
    {
        var family = BedrockImageFamilies.Of(model.BaseModel) ?? BedrockImageFamily.StabilityXL;
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body.ToArray());
        }
        catch (JsonException ex)
        {
            throw new LlmError { Kind = ErrorKind.BadGateway, Provider = provider, Message = $"{provider} answered the images call with a body that is not valid JSON ({ex.Message})" }.ToException(ex);
        }
        using (doc)
        {
            var root = doc.RootElement;
            var images = new List<string>();
            string? filtered = null;
            if (family == BedrockImageFamily.StabilityXL)
            {
                if (root.TryGetProperty("artifacts", out var artifacts) && artifacts.ValueKind == JsonValueKind.Array)
                    foreach (var a in artifacts.EnumerateArray())
                    {
                        var reason = a.TryGetProperty("finishReason", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
                        if (reason is "CONTENT_FILTERED" or "ERROR") { filtered ??= reason; continue; }
                        if (a.TryGetProperty("base64", out var b) && b.ValueKind == JsonValueKind.String) images.Add(b.GetString()!);
                    }
            }
            else
            {
                if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String && error.GetString() is { Length: > 0 } message) filtered = message;
                // Stability 3: any non-null finish reason ("Filter reason: prompt", …) means no usable image (LiteLLM: a 400).
                if (root.TryGetProperty("finish_reasons", out var reasons) && reasons.ValueKind == JsonValueKind.Array)
                    foreach (var r in reasons.EnumerateArray())
                        if (r.ValueKind == JsonValueKind.String) filtered ??= r.GetString();
                if (filtered is null && root.TryGetProperty("images", out var list) && list.ValueKind == JsonValueKind.Array)
                    foreach (var i in list.EnumerateArray())
                        if (i.ValueKind == JsonValueKind.String) images.Add(i.GetString()!);
            }
            if (filtered is not null || images.Count == 0)
                throw new LlmError
                {
                    Kind = ErrorKind.ContentPolicy,
                    Provider = provider,
                    Message = $"{provider} returned no image" + (filtered is null ? " (the prompt may have been filtered)" : $": {filtered}") + "; rephrase the prompt",
                    Code = "content_policy_violation",
                }.ToException();

            var buffer = new PooledBuffer(128 + images.Sum(static i => i.Length + 16));
            using (var w = new Utf8JsonWriter(buffer, JsonOut.Options))
            {
                w.WriteStartObject();
                w.WriteNumber("created"u8, context.TimeProvider.GetUtcNow().ToUnixTimeSeconds());
                w.WriteStartArray("data"u8);
                foreach (var image in images)
                {
                    w.WriteStartObject();
                    w.WriteString("b64_json"u8, image);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            context.ResponseBody = buffer;
            context.Usage = new Usage { Images = images.Count, ImagePriceKey = family == BedrockImageFamily.StabilityXL ? StabilityXLPriceKey(context, model) : model.BaseModel };
        }
    }

    /// <summary>LiteLLM's SDXL key <c>{W-x-H}/{50-steps | max-steps}/{model}</c> (size 1024x1024 and 50 steps unless asked).</summary>
    private static string StabilityXLPriceKey(LlmContext context, BedrockModel model)
    {
        using var doc = JsonDocument.Parse(context.Body);
        var root = doc.RootElement;
        var size = root.TryGetProperty("size", out var s) && s.ValueKind == JsonValueKind.String && s.GetString() is { } text && text != "auto" && !context.IsDropped("size") ? text : "1024x1024";
        var steps = root.TryGetProperty("steps", out var st) && st.TryGetInt32(out var n) ? n : 50;
        return string.Concat(size.Replace("x", "-x-", StringComparison.Ordinal), steps > 50 ? "/max-steps/" : "/50-steps/", model.BaseModel);
    }
}
