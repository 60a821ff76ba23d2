using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Gemini;

/// <summary>
/// Image generation on Google: Imagen models through <c>:predict</c> (<c>instances[{prompt}]</c>, <c>parameters{sampleCount,
/// aspectRatio}</c>) and Gemini image models through <c>:generateContent</c> with <c>responseModalities</c> IMAGE and TEXT;
/// both answers become OpenAI's <c>{created, data[{b64_json}]}</c>. Only bytes come back, so <c>response_format: url</c> is a 400.
/// </summary>
internal static class ImagenWriter
{
    public static bool IsImagen(string model) => model.Contains("imagen", StringComparison.OrdinalIgnoreCase);

    /// <summary>LiteLLM's size → aspect ratio table; other sizes are 1:1.</summary>
    public static string AspectRatio(string? size) => size switch
    {
        "1792x1024" => "16:9",
        "1024x1792" => "9:16",
        "1280x896" => "4:3",
        "896x1280" => "3:4",
        _ => "1:1",
    };

    public static (string Method, PooledBuffer Body) Write(LlmContext context, string model, bool vertex)
    {
        using var doc = JsonDocument.Parse(context.Body);
        var root = doc.RootElement;
        if (root.TryGetProperty("response_format", out var rf) && rf.ValueKind == JsonValueKind.String && rf.ValueEquals("url"))
            throw new LlmError
            {
                Kind = ErrorKind.UnsupportedParam,
                Message = $"`response_format: url` is not available on {context.ProviderName}: it returns image bytes only; ask for b64_json",
                Param = "response_format",
                Code = "unsupported_parameter",
                Provider = context.ProviderName,
            }.ToException();
        var prompt = root.GetProperty("prompt").GetString()!;
        var n = root.TryGetProperty("n", out var nv) && nv.TryGetInt32(out var count) && !context.IsDropped("n") ? count : 1;
        var size = root.TryGetProperty("size", out var s) && s.ValueKind == JsonValueKind.String && !context.IsDropped("size") ? s.GetString() : null;
        var buffer = new PooledBuffer(256 + prompt.Length);
        using var w = new Utf8JsonWriter(buffer, JsonOut.Options);
        w.WriteStartObject();
        if (IsImagen(model))
        {
            w.WriteStartArray("instances"u8);
            w.WriteStartObject();
            w.WriteString("prompt"u8, prompt);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteStartObject("parameters"u8);
            w.WriteNumber("sampleCount"u8, n);
            if (size is not null) w.WriteString("aspectRatio"u8, AspectRatio(size));
            w.WriteEndObject();
            w.WriteEndObject();
            w.Flush();
            return ("predict", buffer);
        }
        w.WriteStartArray("contents"u8);
        w.WriteStartObject();
        w.WriteString("role"u8, "user"u8);
        w.WriteStartArray("parts"u8);
        w.WriteStartObject();
        w.WriteString("text"u8, prompt);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteStartObject("generationConfig"u8);
        w.WriteStartArray("responseModalities"u8);
        w.WriteStringValue("IMAGE"u8);
        w.WriteStringValue("TEXT"u8);
        w.WriteEndArray();
        if (vertex && n > 1) w.WriteNumber("candidateCount"u8, n);
        if (vertex && size is not null)
        {
            w.WriteStartObject("imageConfig"u8);
            w.WriteString("aspectRatio"u8, AspectRatio(size));
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteEndObject();
        w.Flush();
        return ("generateContent", buffer);
    }

    /// <summary>The OpenAI images answer from <c>predictions[].bytesBase64Encoded</c> or the candidates' <c>inlineData</c>; usage counts the images.</summary>
    public static void Read(LlmContext context, ReadOnlySpan<byte> body, string provider, long created)
    {
        using var doc = JsonDocument.Parse(body.ToArray());
        var root = doc.RootElement;
        var images = new List<string>();
        if (root.TryGetProperty("predictions", out var predictions) && predictions.ValueKind == JsonValueKind.Array)
        {
            foreach (var p in predictions.EnumerateArray())
                if (p.TryGetProperty("bytesBase64Encoded", out var b) && b.ValueKind == JsonValueKind.String) images.Add(b.GetString()!);
        }
        else if (root.TryGetProperty("candidates", out var candidates) && candidates.ValueKind == JsonValueKind.Array)
        {
            foreach (var c in candidates.EnumerateArray())
            {
                if (!c.TryGetProperty("content", out var content) || !content.TryGetProperty("parts", out var parts)) continue;
                foreach (var part in parts.EnumerateArray())
                    if (part.TryGetProperty("inlineData", out var inline) && inline.TryGetProperty("data", out var data)) images.Add(data.GetString()!);
            }
        }
        if (images.Count == 0)
            throw new LlmError { Kind = ErrorKind.ContentPolicy, Provider = provider, Message = $"{provider} returned no image (the prompt may have been filtered); rephrase the prompt", Code = "content_policy_violation" }.ToException();
        var buffer = new PooledBuffer(256 + images.Sum(static i => i.Length));
        using (var w = new Utf8JsonWriter(buffer, JsonOut.Options))
        {
            w.WriteStartObject();
            w.WriteNumber("created"u8, created);
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
        context.Usage = new Usage { Images = images.Count };
    }
}
