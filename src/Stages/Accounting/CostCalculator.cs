using LLMux.Pipeline.Context;
using LLMux.Pipeline.Wire;

namespace LLMux.Stages.Accounting;

/// <summary>
/// LiteLLM's <c>generic_cost_per_token</c>: text input, cached reads and cache writes each at their own price,
/// reasoning tokens at the reasoning price (else output), tier prices for the whole call when the prompt
/// exceeds a listed threshold; a deployment's <c>input_cost_per_token</c>/<c>output_cost_per_token</c> win.
/// </summary>
public sealed class CostCalculator(PriceTable table) : ICostCalculator
{
    public decimal? Cost(Deployment deployment, Usage usage)
    {
        if (usage.Images > 0 || usage.ImageTokens) return ImageCost.Of(table, deployment, usage, PriceFor(deployment));
        var price = PriceFor(deployment);
        // LiteLLM: token usage wins; else output_cost_per_second, else input_cost_per_second, times the duration.
        if (usage.AudioSeconds > 0 && usage.PromptTokens == 0 && usage.CompletionTokens == 0)
            // An output price of 0 (Deepgram, ElevenLabs, AssemblyAI rows) means "priced by input": LiteLLM's `is not None` test prices those at 0.
            return price?.OutputPerSecond is > 0 and var outSecond ? outSecond * usage.AudioSeconds
                : price?.InputPerSecond is { } inSecond ? inSecond * usage.AudioSeconds
                : price?.OutputPerSecond is { } zero ? zero * usage.AudioSeconds : null;
        // Speech: per character where the table prices so (tts-1, ElevenLabs), else by the tokens the answer reported.
        if (usage.Characters > 0 && price?.InputPerCharacter is { } perCharacter) return usage.Characters * perCharacter;
        if (usage.Characters > 0 && usage.PromptTokens == 0 && usage.CompletionTokens == 0) return null;
        return price is null ? null : Compute(price, usage);
    }

    public ModelPrice? PriceFor(Deployment deployment)
    {
        var baseModel = deployment.Setting("base_model");
        var found = (baseModel is null ? null : table.Find(deployment.ProviderName, baseModel)) ?? table.Find(deployment.ProviderName, deployment.UpstreamModel);
        if (deployment.InputCostPerToken is null && deployment.OutputCostPerToken is null) return found;
        return (found ?? new ModelPrice()) with
        {
            InputPerToken = deployment.InputCostPerToken ?? found?.InputPerToken ?? 0,
            OutputPerToken = deployment.OutputCostPerToken ?? found?.OutputPerToken ?? 0,
            Tiers = [],
        };
    }

    public static decimal Compute(ModelPrice price, Usage usage)
    {
        var input = price.InputPerToken;
        var output = price.OutputPerToken;
        var cacheRead = price.CacheReadPerToken;
        var cacheWrite = price.CacheCreationPerToken;
        ModelPrice.Tier? tier = null;
        foreach (var t in price.Tiers)
        {
            if (usage.PromptTokens > t.AboveTokens && (tier is null || t.AboveTokens > tier.AboveTokens)) tier = t;
        }
        if (tier is not null)
        {
            input = tier.InputPerToken ?? input;
            output = tier.OutputPerToken ?? output;
            cacheRead = tier.CacheReadPerToken ?? cacheRead;
            cacheWrite = tier.CacheCreationPerToken ?? cacheWrite;
        }
        var cached = usage.CachedTokens;
        var created = usage.CacheCreationTokens;
        // LiteLLM's generic_cost_per_token: audio tokens at their own price where the table has one.
        var audioIn = Math.Min(usage.PromptTokensDetails?.AudioTokens ?? 0, Math.Max(0, usage.PromptTokens - cached - created));
        var text = Math.Max(0, usage.PromptTokens - cached - created - audioIn);
        var promptCost = text * input + audioIn * (price.InputPerAudioToken ?? input) + cached * (cacheRead ?? input) + created * (cacheWrite ?? input);
        var reasoning = Math.Min(usage.ReasoningTokens, usage.CompletionTokens);
        var audioOut = Math.Min(usage.CompletionTokensDetails?.AudioTokens ?? 0, usage.CompletionTokens - reasoning);
        var completionCost = (usage.CompletionTokens - reasoning - audioOut) * output + audioOut * (price.OutputPerAudioToken ?? output) + reasoning * (price.ReasoningPerToken ?? output);
        var queryCost = usage.SearchUnits * (price.InputPerQuery ?? 0);
        return promptCost + completionCost + queryCost;
    }
}
