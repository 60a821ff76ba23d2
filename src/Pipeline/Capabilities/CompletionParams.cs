using System.Collections.Frozen;

namespace LLMux.Pipeline.Capabilities;

/// <summary>
/// <c>/v1/completions</c> onto a chat-only provider: one chat call per prompt, the prompt as the user message. These
/// are the rules of that bridge; the provider's chat table then applies to what it sends.
/// </summary>
public static class CompletionParams
{
    public static FrozenDictionary<string, ParamRule> Bridged { get; } = ProviderSpec.Table(
        ParamRule.Mapped("max_tokens", "max_tokens (chat)"),
        ParamRule.Mapped("temperature", "temperature (chat)"),
        ParamRule.Mapped("top_p", "top_p (chat)"),
        ParamRule.Mapped("n", "n (chat), choices per prompt"),
        ParamRule.Mapped("stop", "stop (chat)"),
        ParamRule.Mapped("presence_penalty", "presence_penalty (chat)"),
        ParamRule.Mapped("frequency_penalty", "frequency_penalty (chat)"),
        ParamRule.Mapped("logit_bias", "logit_bias (chat)"),
        ParamRule.Mapped("seed", "seed (chat)"),
        ParamRule.Mapped("user", "user (chat)"),
        ParamRule.Mapped("stream", "stream (chat), chunks rewritten as text_completion"),
        ParamRule.Mapped("stream_options", "stream_options (chat)"),
        ParamRule.Dropped("suffix", "fill-in-the-middle needs a FIM endpoint; a chat API has none"),
        ParamRule.Dropped("echo", "a chat API cannot echo the prompt"),
        ParamRule.Dropped("best_of", "a chat API has no server-side best_of"),
        ParamRule.Dropped("logprobs", "text-completion logprobs (tokens, text_offset) have no chat equivalent"));
}
