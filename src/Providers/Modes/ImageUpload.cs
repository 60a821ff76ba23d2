using System.Globalization;
using LLMux.Pipeline.Errors;

namespace LLMux.Providers.Modes;

/// <summary>
/// A checked <c>/v1/images/edits</c> or <c>/v1/images/variations</c> upload (multipart): <c>image</c> (or repeated
/// <c>image[]</c>), optional <c>mask</c>, <c>prompt</c> for edits, and the generation fields, by the target model's family.
/// </summary>
public sealed class ImageUpload
{
    public required MultipartBody Body { get; init; }
    public required string Model { get; init; }
    public bool Variation { get; init; }
    public string? Size { get; init; }
    public string? Quality { get; init; }
    /// <summary><c>stream=true</c> (gpt-image edits): partial images and the completed image as SSE events.</summary>
    public bool Stream { get; init; }
    public required IReadOnlyList<string> Params { get; init; }

    public static ImageUpload From(MultipartBody body, bool variation, Func<string, (string Provider, string Model)?> target)
    {
        var model = body.Field("model")?.Text;
        if (string.IsNullOrWhiteSpace(model)) throw LlmError.Invalid("`model` is required: the name of a configured image model", "model").ToException();
        var images = 0;
        foreach (var p in body.Parts)
        {
            if (p.FileName is null || p.Name is not ("image" or "image[]")) continue;
            if (p.Length == 0) throw LlmError.Invalid($"`image` ({p.FileName}) is empty", "image").ToException();
            images++;
        }
        if (images == 0) throw LlmError.Invalid("`image` is required: the image to " + (variation ? "vary" : "edit") + ", as a multipart file part", "image").ToException();
        var family = target(model) is { } t ? ImageRequest.FamilyOf(t.Provider, t.Model) : ImageFamily.Other;
        if (variation && family is ImageFamily.DallE3 or ImageFamily.GptImage) throw LlmError.Invalid("image variations are only supported by dall-e-2", "model").ToException();
        if (family == ImageFamily.DallE2 && images > 1) throw LlmError.Invalid("dall-e-2 edits take one image", "image").ToException();
        if (images > 16) throw LlmError.Invalid("at most 16 images can be edited at once", "image").ToException();
        var prompt = body.Field("prompt")?.Text;
        if (!variation && string.IsNullOrEmpty(prompt)) throw LlmError.Invalid("`prompt` is required for an image edit", "prompt").ToException();
        if (variation && prompt is not null) throw LlmError.Invalid("`prompt` is not a variations parameter; remove it", "prompt", "unsupported_parameter").ToException();
        if (body.Field("n")?.Text is { } n && (!int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count < 1 || count > 10))
            throw LlmError.Invalid("`n` must be between 1 and 10", "n").ToException();
        var size = body.Field("size")?.Text;
        var sizes = family switch
        {
            ImageFamily.DallE2 => new[] { "256x256", "512x512", "1024x1024" },
            ImageFamily.GptImage => new[] { "1024x1024", "1536x1024", "1024x1536", "auto" },
            _ => null,
        };
        if (size is not null && sizes is not null && Array.IndexOf(sizes, size) < 0)
            throw LlmError.Invalid($"`size` {size} is not supported here; use one of {string.Join(", ", sizes)}", "size").ToException();
        if (body.Field("response_format")?.Text is { } rf)
        {
            if (rf is not ("url" or "b64_json")) throw LlmError.Invalid("`response_format` must be url or b64_json", "response_format").ToException();
            if (family == ImageFamily.GptImage) throw LlmError.Invalid("`response_format` is not supported by gpt-image models (they always return b64_json); remove it", "response_format", "unsupported_parameter").ToException();
        }
        var stream = body.Field("stream")?.Text switch
        {
            null or "false" or "False" => false,
            "true" or "True" => true,
            _ => throw LlmError.Invalid("`stream` must be true or false", "stream", "invalid_type").ToException(),
        };
        if (stream && family is ImageFamily.DallE2 or ImageFamily.DallE3) throw LlmError.Invalid("`stream` is only supported by gpt-image models; remove it", "stream", "unsupported_parameter").ToException();
        if (body.Field("partial_images")?.Text is { } pi && (!int.TryParse(pi, NumberStyles.None, CultureInfo.InvariantCulture, out var partial) || partial > 3))
            throw LlmError.Invalid("`partial_images` must be between 0 and 3", "partial_images").ToException();
        var present = new List<string>();
        foreach (var p in body.Parts)
        {
            var name = p.Name.EndsWith("[]", StringComparison.Ordinal) ? p.Name[..^2] : p.Name;
            if (name is "model" or "prompt" or "image" or "mask" or "drop_params" or "metadata") continue;
            if (!present.Contains(name)) present.Add(name);
        }
        return new ImageUpload { Body = body, Model = model, Variation = variation, Size = size, Quality = body.Field("quality")?.Text, Stream = stream, Params = present };
    }
}
