using System.Collections.Frozen;
using LLMux.Pipeline.Capabilities;
using LLMux.Providers.OpenAI;

namespace LLMux.Providers.Mock;

/// <summary>The built-in mock: an in-process OpenAI-compatible upstream for trying LLMux with no key.</summary>
public static class MockSpec
{
    public static ProviderSpec Spec { get; } = OpenAISpec.Create("mock", "Mock (built in)", "http://mock.llmux.invalid/v1", null) with
    {
        Auth = AuthScheme.None,
        Modes = new[] { LlmMode.Chat, LlmMode.Embeddings }.ToFrozenSet(),
    };
}
