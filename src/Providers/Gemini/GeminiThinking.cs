using System.Text.Json;
using LLMux.Pipeline.Errors;

namespace LLMux.Providers.Gemini;

/// <summary><c>reasoning_effort</c> / Anthropic-style <c>thinking</c> → <c>thinkingConfig</c>, with LiteLLM's budgets and gemini-3 levels.</summary>
internal static class GeminiThinking
{
    public readonly record struct Config(int? Budget, string? Level, bool? IncludeThoughts);

    /// <summary>The thinking config for this request, or null when none is sent.</summary>
    public static Config? Resolve(string model, string? reasoningEffort, JsonElement? thinking)
    {
        var gemini3 = GeminiModels.IsGemini3(model);
        if (reasoningEffort is not null) return gemini3 ? EffortLevel(model, reasoningEffort) : EffortBudget(model, reasoningEffort);
        if (thinking is { ValueKind: JsonValueKind.Object } t)
        {
            var enabled = t.TryGetProperty("type", out var type) && type.ValueEquals("enabled");
            int? budget = t.TryGetProperty("budget_tokens", out var b) && b.TryGetInt32(out var bv) ? bv : null;
            if (gemini3)
            {
                var on = enabled && budget is not 0;
                return new Config(null, on ? LowLevel(model) : null, on);
            }
            return new Config(budget, null, enabled && budget is not 0);
        }
        // LiteLLM keeps gemini-3 text models on a low thinking level unless told otherwise.
        if (gemini3 && !GeminiModels.IsImageModel(model)) return new Config(null, LowLevel(model), null);
        return null;
    }

    private static string LowLevel(string model) => GeminiModels.IsGemini3Flash(model) ? "minimal" : "low";

    private static Config EffortBudget(string model, string effort) => effort switch
    {
        "minimal" => new Config(MinimalBudget(model), null, true),
        "low" => new Config(1024, null, true),
        "medium" => new Config(2048, null, true),
        "high" => new Config(4096, null, true),
        "disable" or "none" => new Config(0, null, false),
        _ => throw Unknown(effort),
    };

    private static Config EffortLevel(string model, string effort) => effort switch
    {
        "minimal" => new Config(null, LowLevel(model), true),
        "low" => new Config(null, "low", true),
        "medium" => new Config(null, GeminiModels.HasMediumLevel(model) ? "medium" : "high", true),
        "high" => new Config(null, "high", true),
        "disable" or "none" => new Config(null, LowLevel(model), false),
        _ => throw Unknown(effort),
    };

    private static int MinimalBudget(string model)
    {
        if (model.Contains("2.5-flash-lite", StringComparison.OrdinalIgnoreCase)) return 512;
        if (model.Contains("2.5-pro", StringComparison.OrdinalIgnoreCase)) return 128;
        if (model.Contains("2.5-flash", StringComparison.OrdinalIgnoreCase)) return 1;
        return 128;
    }

    private static LlmException Unknown(string effort) =>
        LlmError.Invalid($"reasoning_effort `{effort}` is not one of minimal, low, medium, high, none, disable", "reasoning_effort").ToException();

    public static void Write(Utf8JsonWriter w, Config c)
    {
        w.WriteStartObject("thinkingConfig"u8);
        if (c.Budget is { } budget) w.WriteNumber("thinkingBudget"u8, budget);
        if (c.Level is { } level) w.WriteString("thinkingLevel"u8, level);
        if (c.IncludeThoughts is { } include) w.WriteBoolean("includeThoughts"u8, include);
        w.WriteEndObject();
    }
}
