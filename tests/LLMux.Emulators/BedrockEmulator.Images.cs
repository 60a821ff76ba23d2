using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace LLMux.Emulators;

/// <summary>
/// InvokeModel for Bedrock's image models, written from AWS's model parameter pages: Amazon Titan Image Generator v1/v2
/// and Nova Canvas (<c>taskType</c> TEXT_IMAGE / COLOR_GUIDED_GENERATION, <c>textToImageParams</c>,
/// <c>imageGenerationConfig{numberOfImages 1–5, width, height, quality standard|premium, cfgScale 1.1–10, seed}</c> →
/// <c>{images, error}</c>), Stability SD3 / SD3.5 / Stable Image Ultra and Core (<c>{prompt, mode, aspect_ratio,
/// output_format, seed, negative_prompt}</c> → <c>{seeds, finish_reasons, images}</c>) and SDXL (<c>{text_prompts,
/// width, height, cfg_scale, seed, steps, …}</c> → <c>{result, artifacts[{seed, base64, finishReason}]}</c>). Bodies are
/// checked as Bedrock checks them (an extraneous key or a value out of range is a 400 ValidationException). A prompt
/// containing "forbidden" is filtered the way each family reports it.
/// </summary>
public sealed partial class BedrockEmulator
{
    /// <summary>A 1×1 PNG, base64 (the image every call returns).</summary>
    public const string ImagePng = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

    private enum ImageModel { Titan, Nova, Stability3, StabilityXL }

    private static ImageModel? ImageFamilyOf(string modelId)
    {
        if (modelId.Contains("amazon.titan-image-generator", StringComparison.Ordinal)) return ImageModel.Titan;
        if (modelId.Contains("amazon.nova-canvas", StringComparison.Ordinal)) return ImageModel.Nova;
        if (modelId.Contains("stability.sd3", StringComparison.Ordinal) || modelId.Contains("stability.stable-image", StringComparison.Ordinal)) return ImageModel.Stability3;
        if (modelId.Contains("stability.stable-diffusion-xl", StringComparison.Ordinal)) return ImageModel.StabilityXL;
        return null;
    }

    private static readonly string[] TitanSizes =
    [
        "1024x1024", "768x768", "512x512", "768x1152", "384x576", "1152x768", "576x384", "768x1280", "384x640", "1280x768", "640x384",
        "896x1152", "448x576", "1152x896", "576x448", "768x1408", "384x704", "1408x768", "704x384", "640x1408", "320x704", "1408x640",
        "704x320", "1152x640", "1173x640",
    ];

    private static readonly string[] SdxlSizes = ["1024x1024", "1152x896", "1216x832", "1344x768", "1536x640", "640x1536", "768x1344", "832x1216", "896x1152"];
    private static readonly string[] AspectRatios = ["16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21"];

    private static async Task ImageAsync(HttpContext http, ImageModel model, JsonElement body)
    {
        var problem = model switch
        {
            ImageModel.Titan or ImageModel.Nova => CheckAmazonImage(body, model == ImageModel.Nova),
            ImageModel.Stability3 => CheckStability3(body),
            _ => CheckSdxl(body),
        };
        if (problem is not null)
        {
            await WriteErrorAsync(http, 400, "ValidationException", problem).ConfigureAwait(false);
            return;
        }
        string answer;
        switch (model)
        {
            case ImageModel.Titan or ImageModel.Nova:
            {
                var taskParams = body.TryGetProperty("textToImageParams", out var t) ? t : body.GetProperty("colorGuidedGenerationParams");
                if (taskParams.GetProperty("text").GetString()!.Contains("forbidden", StringComparison.Ordinal))
                {
                    // Titan / Nova Canvas refuse a filtered prompt as a validation error.
                    await WriteErrorAsync(http, 400, "ValidationException", "This request has been blocked by our content filters.").ConfigureAwait(false);
                    return;
                }
                var n = body.TryGetProperty("imageGenerationConfig", out var c) && c.TryGetProperty("numberOfImages", out var nv) ? nv.GetInt32() : 1;
                answer = "{\"images\":[" + string.Join(",", Enumerable.Repeat("\"" + ImagePng + "\"", n)) + "],\"error\":null}";
                break;
            }
            case ImageModel.Stability3:
            {
                var seed = body.TryGetProperty("seed", out var s) ? s.GetInt64() : 1234567L;
                var filtered = body.GetProperty("prompt").GetString()!.Contains("forbidden", StringComparison.Ordinal);
                answer = filtered
                    ? "{\"seeds\":[" + seed.ToString(CultureInfo.InvariantCulture) + "],\"finish_reasons\":[\"Filter reason: prompt\"],\"images\":[]}"
                    : "{\"seeds\":[" + seed.ToString(CultureInfo.InvariantCulture) + "],\"finish_reasons\":[null],\"images\":[\"" + ImagePng + "\"]}";
                break;
            }
            default:
            {
                var seed = body.TryGetProperty("seed", out var s) ? s.GetInt64() : 1234567L;
                var filtered = body.GetProperty("text_prompts")[0].GetProperty("text").GetString()!.Contains("forbidden", StringComparison.Ordinal);
                answer = "{\"result\":\"success\",\"artifacts\":[{\"seed\":" + seed.ToString(CultureInfo.InvariantCulture) + ",\"base64\":\"" + ImagePng + "\",\"finishReason\":\"" + (filtered ? "CONTENT_FILTERED" : "SUCCESS") + "\"}]}";
                break;
            }
        }
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(answer, http.RequestAborted).ConfigureAwait(false);
    }

    private static string? Extraneous(JsonElement body, params string[] allowed)
    {
        foreach (var p in body.EnumerateObject())
            if (Array.IndexOf(allowed, p.Name) < 0) return $"Malformed input request: extraneous key [{p.Name}] is not permitted, please reformat your input and try again.";
        return null;
    }

    private static string? CheckAmazonImage(JsonElement body, bool nova)
    {
        if (Extraneous(body, "taskType", "textToImageParams", "colorGuidedGenerationParams", "imageGenerationConfig") is { } e) return e;
        var task = body.TryGetProperty("taskType", out var tt) ? tt.GetString() : null;
        string paramsName;
        if (task == "TEXT_IMAGE") paramsName = "textToImageParams";
        else if (task == "COLOR_GUIDED_GENERATION" && nova) paramsName = "colorGuidedGenerationParams";
        else return $"Malformed input request: #/taskType: {task} is not a valid enum value, please reformat your input and try again.";
        if (!body.TryGetProperty(paramsName, out var tp) || tp.ValueKind != JsonValueKind.Object) return $"Malformed input request: #: required key [{paramsName}] not found, please reformat your input and try again.";
        var allowed = paramsName == "textToImageParams" ? new[] { "text", "negativeText", "conditionImage", "controlMode", "controlStrength", "style" } : ["text", "negativeText", "colors", "referenceImage"];
        if (Extraneous(tp, allowed) is { } e2) return e2;
        var max = nova ? 1024 : 512;
        if (!tp.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String) return $"Malformed input request: #/{paramsName}: required key [text] not found, please reformat your input and try again.";
        if (text.GetString()!.Length is 0 || text.GetString()!.Length > max) return $"Malformed input request: #/{paramsName}/text: expected maxLength: {max}, actual: {text.GetString()!.Length}, please reformat your input and try again.";
        if (paramsName == "colorGuidedGenerationParams" && (!tp.TryGetProperty("colors", out var colors) || colors.ValueKind != JsonValueKind.Array || colors.GetArrayLength() is 0 or > 10))
            return "Malformed input request: #/colorGuidedGenerationParams: required key [colors] not found, please reformat your input and try again.";
        if (!body.TryGetProperty("imageGenerationConfig", out var c)) return null;
        if (Extraneous(c, "numberOfImages", "width", "height", "quality", "cfgScale", "seed") is { } e3) return e3;
        if (c.TryGetProperty("numberOfImages", out var n) && (n.GetInt32() < 1 || n.GetInt32() > 5)) return "Malformed input request: #/imageGenerationConfig/numberOfImages: " + n.GetInt32() + " is not less or equal to 5, please reformat your input and try again.";
        if (c.TryGetProperty("quality", out var q) && q.GetString() is not ("standard" or "premium")) return "Malformed input request: #/imageGenerationConfig/quality: " + q.GetString() + " is not a valid enum value, please reformat your input and try again.";
        if (c.TryGetProperty("cfgScale", out var cfg) && (cfg.GetDouble() < 1.1 || cfg.GetDouble() > 10)) return "Malformed input request: #/imageGenerationConfig/cfgScale: " + cfg.GetDouble().ToString(CultureInfo.InvariantCulture) + " is out of range [1.1, 10], please reformat your input and try again.";
        var maxSeed = nova ? 858993459L : 2147483646L;
        if (c.TryGetProperty("seed", out var seed) && (seed.GetInt64() < 0 || seed.GetInt64() > maxSeed)) return $"Malformed input request: #/imageGenerationConfig/seed: {seed.GetInt64()} is not less or equal to {maxSeed}, please reformat your input and try again.";
        var hasW = c.TryGetProperty("width", out var w);
        var hasH = c.TryGetProperty("height", out var h);
        if (hasW != hasH) return "Malformed input request: width and height must be given together, please reformat your input and try again.";
        if (hasW)
        {
            var (wi, hi) = (w.GetInt32(), h.GetInt32());
            var ok = nova
                ? wi is >= 320 and <= 4096 && hi is >= 320 and <= 4096 && wi % 16 == 0 && hi % 16 == 0 && wi <= 4 * hi && hi <= 4 * wi && (long)wi * hi <= 4_194_304
                : Array.IndexOf(TitanSizes, wi.ToString(CultureInfo.InvariantCulture) + "x" + hi.ToString(CultureInfo.InvariantCulture)) >= 0;
            if (!ok) return $"The provided image dimensions ({wi}x{hi}) are not supported.";
        }
        return null;
    }

    private static string? CheckStability3(JsonElement body)
    {
        if (Extraneous(body, "prompt", "mode", "aspect_ratio", "output_format", "seed", "negative_prompt", "image", "strength") is { } e) return e;
        if (!body.TryGetProperty("prompt", out var p) || p.ValueKind != JsonValueKind.String || p.GetString()!.Length is 0 or > 10000) return "Malformed input request: #: required key [prompt] not found, please reformat your input and try again.";
        if (body.TryGetProperty("aspect_ratio", out var ar) && Array.IndexOf(AspectRatios, ar.GetString()) < 0) return $"Malformed input request: #/aspect_ratio: {ar.GetString()} is not a valid enum value, please reformat your input and try again.";
        if (body.TryGetProperty("output_format", out var of) && of.GetString()?.ToLowerInvariant() is not ("jpeg" or "png")) return $"Malformed input request: #/output_format: {of.GetString()} is not a valid enum value, please reformat your input and try again.";
        if (body.TryGetProperty("mode", out var m) && m.GetString() is not ("text-to-image" or "image-to-image")) return $"Malformed input request: #/mode: {m.GetString()} is not a valid enum value, please reformat your input and try again.";
        if (body.TryGetProperty("seed", out var s) && (s.GetInt64() < 0 || s.GetInt64() > 4294967294L)) return $"Malformed input request: #/seed: {s.GetInt64()} is not less or equal to 4294967294, please reformat your input and try again.";
        return null;
    }

    private static string? CheckSdxl(JsonElement body)
    {
        if (Extraneous(body, "text_prompts", "height", "width", "cfg_scale", "clip_guidance_preset", "sampler", "samples", "seed", "steps", "style_preset", "extras") is { } e) return e;
        if (!body.TryGetProperty("text_prompts", out var tp) || tp.ValueKind != JsonValueKind.Array || tp.GetArrayLength() == 0) return "Malformed input request: #: required key [text_prompts] not found, please reformat your input and try again.";
        foreach (var prompt in tp.EnumerateArray())
            if (!prompt.TryGetProperty("text", out var t) || t.ValueKind != JsonValueKind.String) return "Malformed input request: #/text_prompts/0: required key [text] not found, please reformat your input and try again.";
        if (body.TryGetProperty("samples", out var samples) && samples.GetInt32() != 1) return "Malformed input request: #/samples: only one image can be generated per request, please reformat your input and try again.";
        if (body.TryGetProperty("cfg_scale", out var cfg) && (cfg.GetDouble() < 0 || cfg.GetDouble() > 35)) return "Malformed input request: #/cfg_scale: out of range [0, 35], please reformat your input and try again.";
        if (body.TryGetProperty("steps", out var steps) && (steps.GetInt32() < 10 || steps.GetInt32() > 150)) return "Malformed input request: #/steps: out of range [10, 150], please reformat your input and try again.";
        var hasW = body.TryGetProperty("width", out var w);
        var hasH = body.TryGetProperty("height", out var h);
        if (hasW || hasH)
        {
            var size = (hasW ? w.GetInt32() : 1024).ToString(CultureInfo.InvariantCulture) + "x" + (hasH ? h.GetInt32() : 1024).ToString(CultureInfo.InvariantCulture);
            if (Array.IndexOf(SdxlSizes, size) < 0) return new StringBuilder("Invalid dimensions ").Append(size).Append(": SDXL v1.0 supports ").Append(string.Join(", ", SdxlSizes)).ToString();
        }
        return null;
    }
}
