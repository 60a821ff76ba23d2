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
        if (sized?.InputPerPixel is { } perPixel && perPixel > 0 && TryPixels(size, out var pixels)) return PerImage(model, perPixel * pixels) * usage.Images;
        var p = sized ?? price;
        if (p is null) return null;
        if (p.InputPerImage is { } perImage) return perImage * usage.Images;
        if (p.OutputPerImage is { } outImage) return outImage * usage.Images;
        return 0;
    }

    /// <summary>
    /// OpenAI prices dall-e per image in whole tenths of a cent ($0.016 … $0.120); the table's per-pixel values are
    /// those prices divided and rounded (1024×1024 dall-e-3 at 3.81469e-08 comes to $0.0399999, dall-e-2 at 1.9e-08 to
    /// $0.0199), so a dall-e image is charged its price rounded back to the tenth of a cent. gpt-image sizes are priced
    /// per pixel in earnest and keep the product.
    /// </summary>
    private static decimal PerImage(string model, decimal product) =>
        model.StartsWith("dall-e", StringComparison.Ordinal) ? Math.Round(product, 3, MidpointRounding.AwayFromZero) : product;

    private static bool TryPixels(string size, out decimal pixels)
    {
        pixels = 0;
        var x = size.IndexOf('x');
        if (x <= 0 || !int.TryParse(size.AsSpan(0, x), out var w) || !int.TryParse(size.AsSpan(x + 1), out var h)) return false;
        pixels = (decimal)w * h;
        return true;
    }
}
