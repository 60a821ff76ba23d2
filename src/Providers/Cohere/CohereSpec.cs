using System.Collections.Frozen;
using LLMux.Pipeline.Capabilities;

namespace LLMux.Providers.Cohere;

/// <summary>Cohere's native v2 API (<c>cohere/</c>): <c>/v2/chat</c> and <c>/v2/embed</c>, LiteLLM's <c>CohereV2ChatConfig</c> mapping.</summary>
public static class CohereSpec
{
    public const string DefaultApiBase = "https://api.cohere.com";

    /// <summary>Every OpenAI chat parameter and where it lands in a v2 chat body.</summary>
    public static readonly ParamRule[] ChatParams =
    [
        ParamRule.Native("stream"),
        ParamRule.Mapped("stream_options", "(applied by LLMux)", "Cohere always reports usage on message-end; include_usage decides the usage chunk"),
        ParamRule.Native("temperature"),
        ParamRule.Mapped("top_p", "p"),
        ParamRule.Native("max_tokens"),
        ParamRule.Mapped("max_completion_tokens", "max_tokens"),
        ParamRule.Mapped("stop", "stop_sequences"),
        ParamRule.Native("seed"),
        ParamRule.Native("frequency_penalty"),
        ParamRule.Native("presence_penalty"),
        ParamRule.Native("tools"),
        ParamRule.Mapped("tool_choice", "tool_choice", "required → REQUIRED, none → NONE; auto sends nothing"),
        ParamRule.Mapped("response_format", "response_format", "json_object → {type: json_object}; json_schema → {type: json_object, json_schema: schema}"),
        ParamRule.Mapped("top_k", "k"),
        ParamRule.Dropped("n", "Cohere returns one choice"),
        ParamRule.Dropped("logit_bias"),
        ParamRule.Dropped("logprobs"),
        ParamRule.Dropped("top_logprobs"),
        ParamRule.Dropped("parallel_tool_calls"),
        ParamRule.Dropped("reasoning_effort"),
        ParamRule.Dropped("user"),
        ParamRule.Dropped("functions", "use tools"),
        ParamRule.Dropped("function_call", "use tool_choice"),
        ParamRule.Dropped("modalities"),
        ParamRule.Dropped("prediction"),
        ParamRule.Dropped("service_tier"),
        ParamRule.Dropped("safety_identifier"),
        ParamRule.Dropped("prompt_cache_key"),
        ParamRule.Dropped("prompt_cache_retention"),
        ParamRule.Dropped("store"),
        ParamRule.Dropped("verbosity"),
        ParamRule.Dropped("web_search_options"),
        ParamRule.Dropped("max_retries", "LLMux retries through router settings"),
        ParamRule.Rejected("audio", "Cohere cannot produce audio output"),
    ];

    public static ProviderSpec Spec { get; } = Modes.ModeSupport.Apply(new()
    {
        Name = "cohere",
        Aliases = ["cohere_chat"],
        DisplayName = "Cohere (v2 API)",
        DefaultApiBase = DefaultApiBase,
        ApiKeyEnv = "COHERE_API_KEY",
        ApiBaseEnv = "COHERE_API_BASE",
        Auth = AuthScheme.Bearer,
        StreamFormat = StreamFormat.Sse,
        Modes = new[] { LlmMode.Chat, LlmMode.Embeddings }.ToFrozenSet(),
        ChatParams = ProviderSpec.Table(ChatParams),
        EmbeddingParams = ProviderSpec.Table(
            ParamRule.Mapped("encoding_format", "(applied by LLMux)", "float or base64; LLMux asks for floats and encodes base64 itself"),
            ParamRule.Mapped("dimensions", "output_dimension"),
            ParamRule.Mapped("input_type", "input_type", "default search_document"),
            ParamRule.Dropped("user")),
        Notes =
        [
            "api_base is the host root; LLMux calls `{api_base}/v2/chat` and `{api_base}/v2/embed`",
            "finish_reason COMPLETE/STOP_SEQUENCE → stop, MAX_TOKENS → length, TOOL_CALL → tool_calls",
        ],
    });
}
