namespace LLMux.Providers.Bedrock;

/// <summary>The InvokeModel image bodies Bedrock speaks, chosen by the base model id as LiteLLM chooses them.</summary>
internal enum BedrockImageFamily
{
    /// <summary><c>amazon.titan-image-generator-v1</c> / <c>-v2:0</c>: <c>taskType</c>, <c>textToImageParams</c>, <c>imageGenerationConfig</c>.</summary>
    Titan,
    /// <summary><c>amazon.nova-canvas-v1:0</c>: Titan's body, with larger sizes and colour-guided generation.</summary>
    NovaCanvas,
    /// <summary>Stability SD3 / SD3.5 Large, Stable Image Ultra and Core: <c>{prompt, aspect_ratio, output_format, seed, negative_prompt, mode}</c>.</summary>
    Stability3,
    /// <summary>Stability SDXL: <c>{text_prompts[{text, weight}], width, height, cfg_scale, seed, steps, …}</c>.</summary>
    StabilityXL,
}

internal static class BedrockImageFamilies
{
    /// <summary>The family of <paramref name="baseModel"/> (region prefix and ARN already stripped), or null for a model that makes no images.</summary>
    public static BedrockImageFamily? Of(string baseModel)
    {
        if (baseModel.Contains("amazon.titan-image", StringComparison.Ordinal)) return BedrockImageFamily.Titan;
        if (baseModel.Contains("amazon.nova-canvas", StringComparison.Ordinal)) return BedrockImageFamily.NovaCanvas;
        if (!baseModel.StartsWith("stability.", StringComparison.Ordinal)) return null;
        if (baseModel.Contains("sd3", StringComparison.Ordinal) || baseModel.Contains("stable-image", StringComparison.Ordinal)) return BedrockImageFamily.Stability3;
        return BedrockImageFamily.StabilityXL;
    }

    /// <summary>Provider fields (outside OpenAI's images names) each family takes at the top level of the request.</summary>
    public static IReadOnlyList<string> ExtrasOf(BedrockImageFamily family) => family switch
    {
        BedrockImageFamily.Titan => TitanExtras,
        BedrockImageFamily.NovaCanvas => NovaExtras,
        BedrockImageFamily.Stability3 => Stability3Extras,
        _ => StabilityXLExtras,
    };

    private static readonly string[] TitanExtras = ["taskType", "textToImageParams", "imageGenerationConfig", "negativeText", "cfgScale", "seed"];
    private static readonly string[] NovaExtras = [.. TitanExtras, "colorGuidedGenerationParams"];
    private static readonly string[] Stability3Extras = ["aspect_ratio", "negative_prompt", "seed", "mode"];
    private static readonly string[] StabilityXLExtras = ["cfg_scale", "seed", "steps", "style_preset", "sampler", "clip_guidance_preset", "extras"];

    /// <summary>Every provider field of every family: the images table of the bedrock spec lists them as native.</summary>
    public static readonly string[] AllExtras = [.. NovaExtras, .. Stability3Extras.Where(static e => e != "seed"), .. StabilityXLExtras.Where(static e => e != "seed")];

    /// <summary>Titan v1/v2's sizes (AWS's list; the first of each pair is landscape).</summary>
    public static readonly string[] TitanSizes =
    [
        "1024x1024", "768x768", "512x512", "768x1152", "384x576", "1152x768", "576x384", "768x1280", "384x640", "1280x768", "640x384",
        "896x1152", "448x576", "1152x896", "576x448", "768x1408", "384x704", "1408x768", "704x384", "640x1408", "320x704", "1408x640",
        "704x320", "1152x640", "1173x640",
    ];

    /// <summary>SDXL 1.0's sizes.</summary>
    public static readonly string[] StabilityXLSizes = ["1024x1024", "1152x896", "1216x832", "1344x768", "1536x640", "640x1536", "768x1344", "832x1216", "896x1152"];
}
