using System.Text.Json;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;

namespace LLMux.Providers.Modes;

/// <summary>The image model families whose rules OpenAI documents (LiteLLM's dall-e-2 / dall-e-3 / gpt-image configs).</summary>
public enum ImageFamily { DallE2, DallE3, GptImage, Other }

/// <summary>
/// A checked <c>/v1/images/generations</c> request. The rules of the model family apply before any call: prompt length,
/// <c>n</c>, <c>size</c>, <c>quality</c>, <c>style</c>, <c>response_format</c>, and the gpt-image-only fields.
/// </summary>
public sealed class ImageRequest
{
    public required string Model { get; init; }
    public required string Prompt { get; init; }
    public int N { get; init; } = 1;
    public string? Size { get; init; }
    public string? Quality { get; init; }
    /// <summary><c>stream: true</c> (gpt-image): partial images and the completed image as SSE events.</summary>
    public bool Stream { get; init; }
    public required IReadOnlyList<string> Params { get; init; }
    public bool? DropParams { get; init; }
    public IReadOnlyList<string> AdditionalDropParams { get; init; } = [];
    public IReadOnlyList<string> AllowedOpenAIParams { get; init; } = [];

    private static readonly HashSet<string> NotParams = ["model", "prompt", "metadata", .. GatewayRequestFields.Names];

    /// <summary>The family of an upstream model id (Azure deployment names normalised as LiteLLM does: lower case, no <c>-</c>/<c>_</c>).</summary>
    public static ImageFamily FamilyOf(string provider, string upstreamModel)
    {
        var m = upstreamModel.ToLowerInvariant();
        if (provider == "azure")
        {
            var n = m.Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal);
            return n.Contains("dalle2", StringComparison.Ordinal) ? ImageFamily.DallE2 : n.Contains("dalle3", StringComparison.Ordinal) ? ImageFamily.DallE3 : ImageFamily.GptImage;
        }
        if (provider != "openai") return ImageFamily.Other;
        if (m.Length == 0 || m.StartsWith("dall-e-2", StringComparison.Ordinal)) return ImageFamily.DallE2;
        if (m.StartsWith("dall-e-3", StringComparison.Ordinal)) return ImageFamily.DallE3;
        return ImageFamily.GptImage;
    }

    public static ImageRequest Parse(ReadOnlyMemory<byte> body, Func<string, (string Provider, string Model)?> target)
    {
        if (body.IsEmpty) throw LlmError.Invalid("request body is empty; send a JSON object").ToException();
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            throw LlmError.Invalid($"request body is not valid JSON: {ex.Message}", null, "invalid_json").ToException(ex);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw LlmError.Invalid("request body must be a JSON object").ToException();
            if (!root.TryGetProperty("model", out var m) || m.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(m.GetString()))
                throw LlmError.Invalid("`model` is required: the name of a configured image model (GET /v1/models lists them)", "model").ToException();
            if (!root.TryGetProperty("prompt", out var p) || p.ValueKind != JsonValueKind.String || p.GetString()!.Length == 0)
                throw LlmError.Invalid("`prompt` is required: a non-empty string", "prompt").ToException();
            var model = m.GetString()!;
            var prompt = p.GetString()!;
            var family = target(model) is { } t ? FamilyOf(t.Provider, t.Model) : ImageFamily.Other;
            var n = Int(root, "n") ?? 1;
            var size = Str(root, "size");
            var quality = Str(root, "quality");
            Check(root, family, prompt, n, size, quality);
            var stream = Bool(root, "stream") ?? false;
            if (stream && family is ImageFamily.DallE2 or ImageFamily.DallE3)
                throw LlmError.Invalid("`stream` is only supported by gpt-image models; remove it", "stream", "unsupported_parameter").ToException();
            var present = new List<string>();
            foreach (var e in root.EnumerateObject())
                if (e.Value.ValueKind != JsonValueKind.Null && !NotParams.Contains(e.Name)) present.Add(e.Name);
            return new ImageRequest
            {
                Model = model,
                Prompt = prompt,
                N = n,
                Size = size,
                Quality = quality,
                Stream = stream,
                Params = present,
                DropParams = root.TryGetProperty("drop_params", out var dp) && dp.ValueKind is JsonValueKind.True or JsonValueKind.False ? dp.ValueKind == JsonValueKind.True : null,
                AdditionalDropParams = Strings(root, "additional_drop_params"),
                AllowedOpenAIParams = Strings(root, "allowed_openai_params"),
            };
        }
    }

    private static void Check(JsonElement root, ImageFamily family, string prompt, int n, string? size, string? quality)
    {
        var (maxPrompt, maxN, sizes, qualities) = family switch
        {
            ImageFamily.DallE2 => (1000, 10, new[] { "256x256", "512x512", "1024x1024" }, new[] { "standard" }),
            ImageFamily.DallE3 => (4000, 1, new[] { "1024x1024", "1792x1024", "1024x1792" }, new[] { "standard", "hd" }),
            ImageFamily.GptImage => (32000, 10, new[] { "1024x1024", "1536x1024", "1024x1536", "auto" }, new[] { "low", "medium", "high", "auto" }),
            _ => (int.MaxValue, 10, null!, null!),
        };
        var name = family switch { ImageFamily.DallE2 => "dall-e-2", ImageFamily.DallE3 => "dall-e-3", ImageFamily.GptImage => "gpt-image models", _ => "this model" };
        if (prompt.Length > maxPrompt) throw LlmError.Invalid($"`prompt` is {prompt.Length} characters; {name} take at most {maxPrompt}", "prompt").ToException();
        if (n < 1 || n > maxN) throw LlmError.Invalid(maxN == 1 ? $"`n` must be 1 for {name}" : $"`n` must be between 1 and {maxN}", "n").ToException();
        if (size is not null && sizes is not null && Array.IndexOf(sizes, size) < 0)
            throw LlmError.Invalid($"`size` {size} is not supported by {name}; use one of {string.Join(", ", sizes)}", "size").ToException();
        if (quality is not null && qualities is not null && Array.IndexOf(qualities, quality) < 0)
            throw LlmError.Invalid($"`quality` {quality} is not supported by {name}; use one of {string.Join(", ", qualities)}", "quality").ToException();
        if (Str(root, "response_format") is { } rf)
        {
            if (rf is not ("url" or "b64_json")) throw LlmError.Invalid("`response_format` must be url or b64_json", "response_format").ToException();
            if (family == ImageFamily.GptImage) throw LlmError.Invalid("`response_format` is not supported by gpt-image models (they always return b64_json); remove it", "response_format", "unsupported_parameter").ToException();
        }
        if (Str(root, "style") is { } style)
        {
            if (family is ImageFamily.DallE2 or ImageFamily.GptImage) throw LlmError.Invalid($"`style` is only supported by dall-e-3; remove it for {name}", "style", "unsupported_parameter").ToException();
            if (style is not ("vivid" or "natural")) throw LlmError.Invalid("`style` must be vivid or natural", "style").ToException();
        }
        if (family is ImageFamily.DallE2 or ImageFamily.DallE3)
            foreach (var only in new[] { "background", "output_format", "output_compression", "moderation", "partial_images" })
                if (root.TryGetProperty(only, out var v) && v.ValueKind != JsonValueKind.Null)
                    throw LlmError.Invalid($"`{only}` is only supported by gpt-image models; remove it for {name}", only, "unsupported_parameter").ToException();
        if (Str(root, "background") is "transparent" && Str(root, "output_format") is "jpeg")
            throw LlmError.Invalid("`background: transparent` needs output_format png or webp", "background").ToException();
        if (Int(root, "output_compression") is < 0 or > 100) throw LlmError.Invalid("`output_compression` must be between 0 and 100", "output_compression").ToException();
        if (Int(root, "partial_images") is < 0 or > 3) throw LlmError.Invalid("`partial_images` must be between 0 and 3", "partial_images").ToException();
    }

    private static bool? Bool(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) throw LlmError.Invalid($"`{name}` must be a boolean", name, "invalid_type").ToException();
        return v.ValueKind == JsonValueKind.True;
    }

    private static string? Str(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.String) throw LlmError.Invalid($"`{name}` must be a string", name, "invalid_type").ToException();
        return v.GetString();
    }

    private static int? Int(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var i)) throw LlmError.Invalid($"`{name}` must be an integer", name, "invalid_type").ToException();
        return i;
    }

    private static List<string> Strings(JsonElement root, string name)
    {
        var list = new List<string>();
        if (root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array)
            foreach (var e in v.EnumerateArray()) if (e.ValueKind == JsonValueKind.String) list.Add(e.GetString()!);
        return list;
    }
}
