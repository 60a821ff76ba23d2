using System.Text.Json;
using LLMux.Pipeline.Wire;

namespace LLMux.Stages.Messages;

/// <summary>
/// OpenAI usage → Anthropic usage. OpenAI's prompt tokens include cache reads and (LiteLLM's) cache writes,
/// Anthropic's <c>input_tokens</c> counts neither, so both are taken out.
/// </summary>
internal static class AnthropicUsage
{
    public static void Write(Utf8JsonWriter w, Usage? usage)
    {
        var cached = usage?.CachedTokens ?? 0;
        var created = usage?.CacheCreationTokens ?? 0;
        var input = (usage?.PromptTokens ?? 0) - cached - created;
        w.WriteStartObject("usage"u8);
        w.WriteNumber("input_tokens"u8, input < 0 ? 0 : input);
        w.WriteNumber("output_tokens"u8, usage?.CompletionTokens ?? 0);
        w.WriteNumber("cache_creation_input_tokens"u8, created);
        w.WriteNumber("cache_read_input_tokens"u8, cached);
        w.WriteEndObject();
    }
}
