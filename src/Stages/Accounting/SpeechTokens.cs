using LLMux.Pipeline.Context;
using LLMux.Providers.Modes;

namespace LLMux.Stages.Accounting;

/// <summary>
/// LiteLLM prices a speech model that has no per-character price (gpt-4o-mini-tts) by tokens: <c>token_counter</c> of the
/// input × <c>input_cost_per_token</c>, and nothing for the output (OpenAI's speech answer reports no usage). Its counter
/// for gpt-4o* models is tiktoken's o200k_base; for other models it is tiktoken's model table or cl100k_base, which
/// LLMux does not ship, so those stay unpriced rather than priced with a guess.
/// </summary>
internal static class SpeechTokens
{
    public static void Count(LlmContext context, ModelPrice? price)
    {
        if (context.Usage is not { Characters: > 0, PromptTokens: 0, CompletionTokens: 0 } usage) return;
        if (price is null || price.InputPerCharacter is > 0 || price.InputPerToken <= 0) return;
        if (context.ModeRequest?.Parsed is not SpeechRequest speech || context.Deployment is not { } deployment) return;
        var model = deployment.Setting("base_model") ?? deployment.UpstreamModel;
        if (!model.Contains("gpt-4o", StringComparison.OrdinalIgnoreCase)) return;
        usage.PromptTokens = Tokenization.O200k.Value.CountTokens(speech.Input);
        usage.TotalTokens = usage.PromptTokens;
    }
}
