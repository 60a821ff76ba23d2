using LLMux.Pipeline.Context;
using LLMux.Pipeline.Wire;

namespace LLMux.Stages.Accounting;

/// <summary>
/// LiteLLM's image pricing: gpt-image by tokens (text input, image input, image output each at its own price); dall-e
/// by the <c>{quality}/{W-x-H}/{model}</c> entry (per pixel × W × H, or per image) falling back to the bare model's
/// per-image price; Imagen, Gemini image, Bedrock and the others <c>output_cost_per_image × images</c>.
/// </summary>
internal static class ImageCost
{
    public static decimal? Of(PriceTable table, Deployment deployment, Usage usage, ModelPrice? price)
    {
        if (usage.ImageTokens)
        {
            if (price is null) return null;
            var text = Math.Max(0, usage.PromptTokens - usage.InputImageTokens);
            return text * price.InputPerToken
                + usage.InputImageTokens * (price.InputPerImageToken ?? price.InputPerToken)
                + usage.CompletionTokens * (price.OutputPerImageToken ?? price.OutputPerToken);
        }
        if (usage.ImagePriceKey is { } exact && table.Find(deployment.ProviderName, exact) is { } keyed)
            return (keyed.OutputPerImage ?? keyed.InputPerImage ?? 0) * usage.Images;
        var size = usage.ImageSize is { Length: > 0 } s && s.Contains('x') ? s : "1024x1024";
        var key = size.Replace("x", "-x-", StringComparison.Ordinal);
        var quality = usage.ImageQuality is { Length: > 0 } q && q != "auto" ? q : "standard";
        var model = deployment.UpstreamModel;
        // Exact keys, as LiteLLM looks them up ({quality}/{W-x-H}/{model}, then {W-x-H}/{model}, unprefixed): Find's
        // last-segment fallback would answer `standard/256-x-256/dall-e-2` with dall-e-2's flat price.
        var sized = table.FindExact(quality + "/" + key + "/" + model) ?? table.FindExact(key + "/" + model);
        if (sized?.InputPerPixel is { } perPixel && perPixel > 0 && TryPixels(size, out var pixels)) return perPixel * pixels * usage.Images;
        var p = sized ?? price;
        if (p is null) return null;
        if (p.InputPerImage is { } perImage) return perImage * usage.Images;
        if (p.OutputPerImage is { } outImage) return outImage * usage.Images;
        return 0;
    }

    private static bool TryPixels(string size, out decimal pixels)
    {
        pixels = 0;
        var x = size.IndexOf('x');
        if (x <= 0 || !int.TryParse(size.AsSpan(0, x), out var w) || !int.TryParse(size.AsSpan(x + 1), out var h)) return false;
        pixels = (decimal)w * h;
        return true;
    }
}
