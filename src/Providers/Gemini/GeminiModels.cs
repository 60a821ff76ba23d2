using System.Text.RegularExpressions;

namespace LLMux.Providers.Gemini;

/// <summary>Model-name rules LiteLLM applies to Gemini ids (gemini-3 behaviour, JSON-Schema support).</summary>
internal static partial class GeminiModels
{
    public static bool IsGemini3(string model) => model.Contains("gemini-3", StringComparison.OrdinalIgnoreCase);

    /// <summary>Gemini 2+ with a dotted version (<c>gemini-2.5-flash</c>) takes <c>response_json_schema</c>; older ones the OpenAPI subset.</summary>
    public static bool SupportsJsonSchema(string model) => JsonSchemaModel().IsMatch(model);

    public static bool IsGemini3Flash(string model) => model.Contains("gemini-3-flash", StringComparison.OrdinalIgnoreCase);

    /// <summary>Models LiteLLM lets choose <c>medium</c> as a thinking level.</summary>
    public static bool HasMediumLevel(string model) => IsGemini3Flash(model) || model.Contains("gemini-3.1-pro", StringComparison.OrdinalIgnoreCase);

    /// <summary>Presence and frequency penalties are silently left out for these (LiteLLM).</summary>
    public static bool LacksPenalties(string model) => IsGemini3(model) || model.Contains("gemini-2.5-pro-preview-06-05", StringComparison.OrdinalIgnoreCase);

    public static bool IsImageModel(string model) => model.Contains("image", StringComparison.OrdinalIgnoreCase);

    [GeneratedRegex(@"gemini-([2-9]|[1-9]\d+)\.", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex JsonSchemaModel();
}
