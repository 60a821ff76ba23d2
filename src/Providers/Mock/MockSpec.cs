using System.Collections.Frozen;
using LLMux.Pipeline.Capabilities;
using LLMux.Providers.Modes;
using LLMux.Providers.OpenAI;

namespace LLMux.Providers.Mock;

/// <summary>
/// The built-in mock: an in-process OpenAI-compatible upstream for trying LLMux with no key. It serves every mode:
/// chat (and through it text completions and the Responses API), embeddings, images, speech, transcription and
/// translation, moderation, and rerank in Cohere's shape.
/// </summary>
public static class MockSpec
{
    public static ProviderSpec Spec { get; } = ModeTables.With(
        OpenAISpec.Create("mock", "Mock (built in)", "http://mock.llmux.invalid/v1", null) with
        {
            Auth = AuthScheme.None,
            Modes = new[] { LlmMode.Chat, LlmMode.Embeddings }.ToFrozenSet(),
        },
        new Dictionary<LlmMode, FrozenDictionary<string, ParamRule>>
        {
            [LlmMode.Images] = ModeTables.Rejecting(ModeTables.AllNative(LlmMode.Images), "the mock does not stream images", "stream", "partial_images"),
            [LlmMode.AudioSpeech] = ModeTables.AllNative(LlmMode.AudioSpeech),
            [LlmMode.AudioTranscription] = ModeTables.AllNative(LlmMode.AudioTranscription),
            [LlmMode.Moderation] = ModeTables.AllNative(LlmMode.Moderation),
            [LlmMode.Rerank] = ModeTables.Of(LlmMode.Rerank, ["top_n", "return_documents"], "mock"),
        });
}
