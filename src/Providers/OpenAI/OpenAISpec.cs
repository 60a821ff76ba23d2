using System.Collections.Frozen;
using LLMux.Pipeline.Capabilities;

namespace LLMux.Providers.OpenAI;

/// <summary>OpenAI itself: every OpenAI parameter is native.</summary>
public static class OpenAISpec
{
    /// <summary>LiteLLM's OpenAI supported list (gpt_transformation.py) plus <c>user</c> and <c>response_format</c>.</summary>
    public static readonly string[] ChatParams =
    [
        "frequency_penalty", "logit_bias", "logprobs", "top_logprobs", "max_tokens", "max_completion_tokens",
        "modalities", "prediction", "n", "presence_penalty", "seed", "stop", "stream", "stream_options",
        "temperature", "top_p", "tools", "tool_choice", "function_call", "functions", "max_retries",
        "extra_headers", "parallel_tool_calls", "audio", "web_search_options", "service_tier",
        "safety_identifier", "prompt_cache_key", "prompt_cache_retention", "store", "response_format",
        "user", "reasoning_effort", "verbosity", "metadata",
    ];

    public static readonly string[] EmbeddingParams = ["dimensions", "encoding_format", "user"];

    public static ProviderSpec Create(string name, string displayName, string? defaultApiBase, string? apiKeyEnv, IEnumerable<string>? aliases = null) => new()
    {
        Name = name,
        DisplayName = displayName,
        Aliases = aliases?.ToArray() ?? [],
        DefaultApiBase = defaultApiBase,
        ApiKeyEnv = apiKeyEnv,
        Auth = AuthScheme.Bearer,
        StreamFormat = StreamFormat.Sse,
        Modes = new[] { LlmMode.Chat, LlmMode.Embeddings }.ToFrozenSet(),
        ChatParams = ProviderSpec.Table(ChatParams.Select(ParamRule.Native).ToArray()),
        EmbeddingParams = ProviderSpec.Table(EmbeddingParams.Select(ParamRule.Native).ToArray()),
        ForwardsUnknownFields = true,
    };

    public static ProviderSpec Spec { get; } = Modes.ModeSupport.Apply(Create("openai", "OpenAI", "https://api.openai.com/v1", "OPENAI_API_KEY") with { NativeResponses = true });

    /// <summary>LiteLLM's <c>text-completion-openai/</c>: OpenAI's <c>/v1/completions</c> only (instruct, davinci-002, babbage-002, fine-tunes).</summary>
    public static ProviderSpec TextCompletion { get; } = Modes.ModeSupport.Apply(Create("text-completion-openai", "OpenAI text completions", "https://api.openai.com/v1", "OPENAI_API_KEY") with
    {
        Modes = FrozenSet<LlmMode>.Empty,
        ChatParams = FrozenDictionary<string, ParamRule>.Empty,
        EmbeddingParams = FrozenDictionary<string, ParamRule>.Empty,
        Notes = ["`/v1/completions` only: the body is forwarded to `{api_base}/completions`"],
    });
}
