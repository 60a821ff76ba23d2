namespace LLMux.Pipeline.Capabilities;

/// <summary>
/// The OpenAI request parameters every provider's table answers for (LiteLLM's
/// <c>DEFAULT_CHAT_COMPLETION_PARAM_VALUES</c> and <c>OPENAI_EMBEDDING_PARAMS</c>, less the fields that configure
/// the gateway itself). The capability matrix has one cell per provider and per name here.
/// </summary>
public static class OpenAIParamNames
{
    public static IReadOnlyList<string> Chat { get; } =
    [
        "temperature", "top_p", "n", "stream", "stream_options", "stop", "max_tokens", "max_completion_tokens",
        "presence_penalty", "frequency_penalty", "logit_bias", "logprobs", "top_logprobs", "seed", "user",
        "tools", "tool_choice", "parallel_tool_calls", "functions", "function_call", "response_format",
        "reasoning_effort", "verbosity", "thinking", "modalities", "audio", "prediction", "web_search_options",
        "service_tier", "safety_identifier", "prompt_cache_key", "prompt_cache_retention", "store",
        "extra_headers", "max_retries",
    ];

    public static IReadOnlyList<string> Embeddings { get; } = ["encoding_format", "dimensions", "user"];

    /// <summary>Gateway fields (LiteLLM's): never checked against a provider and never forwarded.</summary>
    public static IReadOnlyList<string> GatewayOnly { get; } = ["drop_params", "additional_drop_params", "allowed_openai_params", "metadata"];
}
