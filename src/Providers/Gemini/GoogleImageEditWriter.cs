using System.Globalization;
using System.Text.Json;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Json;
using LLMux.Providers.Modes;

namespace LLMux.Providers.Gemini;

/// <summary>
/// <c>/v1/images/edits</c> on Google, as LiteLLM maps it: a Gemini image model takes the images as <c>inlineData</c> parts
/// before the prompt through <c>:generateContent</c> (AI Studio and Vertex); a Vertex Imagen model takes them as
/// <c>referenceImages</c> (the mask as a user-provided mask reference) through <c>:predict</c>. AI Studio's Imagen models
/// only generate, and Google has no variations API: both are refused before any call. The answer is read as a generation's.
/// </summary>
internal static class GoogleImageEditWriter
{
    public static (string Method, HttpContent Content) Write(LlmContext context, ImageUpload upload, string model, bool vertex)
    {
        var provider = context.Deployment!.ProviderName;
        if (upload.Variation)
            throw LlmError.Invalid($"image variations are not served by {provider} (Google has no variations API; LiteLLM serves them for OpenAI's dall-e-2 only); `{context.Deployment.ModelName}` takes /v1/images/generations and /v1/images/edits", "model", "unsupported_mode").ToException();
        var imagen = vertex ? !model.Contains("gemini", StringComparison.OrdinalIgnoreCase) : ImagenWriter.IsImagen(model);
        if (imagen && !vertex)
            throw LlmError.Invalid($"gemini/{model} generates images only: Imagen edits are a Vertex AI API; use a Gemini image model (gemini-2.5-flash-image) or vertex_ai/imagen-3.0-capability-001 for /v1/images/edits", "model", "unsupported_mode").ToException();
        var body = upload.Body;
        if (body.Field("response_format")?.Text == "url" && !context.IsDropped("response_format"))
            throw new LlmError
            {
                Kind = ErrorKind.UnsupportedParam,
                Message = $"`response_format: url` is not available on {provider}: it returns image bytes only; ask for b64_json",
                Param = "response_format",
                Code = "unsupported_parameter",
                Provider = provider,
            }.ToException();
        var mask = body.File("mask");
        if (mask is not null && !imagen)
        {
            if (!context.DropParams)
                throw new LlmError
                {
                    Kind = ErrorKind.UnsupportedParam,
                    Message = $"`mask` is not supported by {provider}/{model}: Gemini image models edit from the prompt alone; remove it, or set drop_params: true to drop it with a warning",
                    Param = "mask",
                    Code = "unsupported_parameter",
                    Provider = provider,
                }.ToException();
            context.AddDroppedParam("mask");
            mask = null;
        }
        var n = body.Field("n")?.Text is { } nt && !context.IsDropped("n") && int.TryParse(nt, NumberStyles.None, CultureInfo.InvariantCulture, out var count) ? count : 1;
        var size = upload.Size is { } s && !context.IsDropped("size") ? s : null;
        var prompt = body.Field("prompt")?.Text ?? "";

        var files = new InlineFilesJson(body);
        var json = new PooledBuffer(512 + prompt.Length * 2);
        try
        {
            using (var w = new Utf8JsonWriter(json, JsonOut.Options))
            {
                if (imagen) WritePredict(w, files, body, mask, prompt, n);
                else WriteGenerateContent(w, files, body, prompt, n, size, vertex);
            }
            return (imagen ? "predict" : "generateContent", files.Content(json));
        }
        catch
        {
            json.Dispose();
            throw;
        }
    }

    /// <summary>Imagen's edit body (LiteLLM's defaults: inpaint insertion, 50 base steps, guidance 7.5); the output keeps the input's shape, so no aspect ratio.</summary>
    private static void WritePredict(Utf8JsonWriter w, InlineFilesJson files, MultipartBody body, MultipartPart? mask, string prompt, int n)
    {
        w.WriteStartObject();
        w.WriteStartArray("instances"u8);
        w.WriteStartObject();
        w.WriteString("prompt"u8, prompt);
        w.WriteStartArray("referenceImages"u8);
        var id = 0;
        foreach (var image in Images(body))
        {
            w.WriteStartObject();
            w.WriteString("referenceType"u8, "REFERENCE_TYPE_RAW"u8);
            w.WriteNumber("referenceId"u8, ++id);
            w.WriteStartObject("referenceImage"u8);
            w.WriteString("bytesBase64Encoded"u8, files.Placeholder(image));
            w.WriteEndObject();
            w.WriteEndObject();
        }
        if (mask is not null)
        {
            w.WriteStartObject();
            w.WriteString("referenceType"u8, "REFERENCE_TYPE_MASK"u8);
            w.WriteNumber("referenceId"u8, ++id);
            w.WriteStartObject("referenceImage"u8);
            w.WriteString("bytesBase64Encoded"u8, files.Placeholder(mask));
            w.WriteEndObject();
            w.WriteStartObject("maskImageConfig"u8);
            w.WriteString("maskMode"u8, "MASK_MODE_USER_PROVIDED"u8);
            w.WriteNumber("dilation"u8, 0.03);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteStartObject("parameters"u8);
        w.WriteNumber("sampleCount"u8, n);
        w.WriteString("editMode"u8, "EDIT_MODE_INPAINT_INSERTION"u8);
        w.WriteStartObject("editConfig"u8);
        w.WriteNumber("baseSteps"u8, 50);
        w.WriteEndObject();
        w.WriteNumber("guidanceScale"u8, 7.5);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>A Gemini image model: the images, then the prompt, in one user turn; the same generationConfig as a generation, with the aspect ratio LiteLLM sends for edits.</summary>
    private static void WriteGenerateContent(Utf8JsonWriter w, InlineFilesJson files, MultipartBody body, string prompt, int n, string? size, bool vertex)
    {
        w.WriteStartObject();
        w.WriteStartArray("contents"u8);
        w.WriteStartObject();
        w.WriteString("role"u8, "user"u8);
        w.WriteStartArray("parts"u8);
        foreach (var image in Images(body))
        {
            w.WriteStartObject();
            w.WriteStartObject("inlineData"u8);
            w.WriteString("mimeType"u8, MediaType(body, image));
            w.WriteString("data"u8, files.Placeholder(image));
            w.WriteEndObject();
            w.WriteEndObject();
        }
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
        if (size is not null)
        {
            w.WriteStartObject("imageConfig"u8);
            w.WriteString("aspectRatio"u8, ImagenWriter.AspectRatio(size));
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static IEnumerable<MultipartPart> Images(MultipartBody body)
    {
        foreach (var p in body.Parts)
            if (p.FileName is not null && p.Name is "image" or "image[]") yield return p;
    }

    /// <summary>The part's image type, else its extension's, else its first bytes'; PNG when nothing tells.</summary>
    internal static string MediaType(MultipartBody body, MultipartPart part)
    {
        if (part.ContentType is { } ct && ct.StartsWith("image/", StringComparison.OrdinalIgnoreCase)) return ct;
        var name = part.FileName ?? "";
        var dot = name.LastIndexOf('.');
        switch (dot >= 0 ? name[(dot + 1)..].ToLowerInvariant() : "")
        {
            case "png": return "image/png";
            case "jpg" or "jpeg": return "image/jpeg";
            case "webp": return "image/webp";
            case "gif": return "image/gif";
        }
        ReadOnlySpan<byte> h = body.Head(part, 12);
        if (h.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF])) return "image/jpeg";
        if (h.Length >= 12 && h.StartsWith("RIFF"u8) && h[8..12].SequenceEqual("WEBP"u8)) return "image/webp";
        if (h.StartsWith("GIF8"u8)) return "image/gif";
        return "image/png";
    }
}
