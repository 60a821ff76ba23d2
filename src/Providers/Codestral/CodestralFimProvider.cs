using System.Collections.Frozen;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Json;
using LLMux.Providers.OpenAI;

namespace LLMux.Providers.Codestral;

/// <summary>
/// LiteLLM's <c>text-completion-codestral/</c>: Mistral's fill-in-the-middle API at
/// <c>https://codestral.mistral.ai/v1/fim/completions</c> (<c>prompt</c>, <c>suffix</c>); answers are chat-shaped and
/// the completions endpoint turns them into text_completion objects.
/// </summary>
public sealed class CodestralFimProvider() : OpenAIProvider(FimSpec)
{
    public static ProviderSpec FimSpec { get; } = Modes.ModeSupport.Apply(OpenAISpec.Create("text-completion-codestral", "Codestral fill-in-the-middle", "https://codestral.mistral.ai/v1", "CODESTRAL_API_KEY") with
    {
        Modes = FrozenSet<LlmMode>.Empty,
        ChatParams = FrozenDictionary<string, ParamRule>.Empty,
        EmbeddingParams = FrozenDictionary<string, ParamRule>.Empty,
        ApiBaseEnv = "CODESTRAL_API_BASE",
        Notes = ["`/v1/completions` only, sent to `{api_base}/fim/completions`; `seed` is sent as `random_seed`"],
    });

    private static readonly JsonBodyEdits Edits = new() { Renames = new Dictionary<string, string> { ["seed"] = "random_seed" } };

    protected override JsonBodyEdits? BodyEdits => Edits;
}
