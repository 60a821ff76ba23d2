using LLMux.Pipeline.Context;

namespace LLMux.Providers.Modes;

/// <summary>Providers that serve only modes beyond chat (text completions, rerank, audio), registered after the chat providers.</summary>
public static class ModeProviders
{
    public static IEnumerable<LlmProvider> Create()
    {
        yield return new OpenAI.OpenAIProvider(OpenAI.OpenAISpec.TextCompletion);
        yield return new Codestral.CodestralFimProvider();
        foreach (var p in RerankOnlyProvider.All()) yield return p;
        yield return new Deepgram.DeepgramProvider();
        yield return new ElevenLabs.ElevenLabsProvider();
    }
}
