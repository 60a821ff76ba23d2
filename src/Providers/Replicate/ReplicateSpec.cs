using System.Collections.Frozen;
using LLMux.Pipeline.Capabilities;

namespace LLMux.Providers.Replicate;

/// <summary>Replicate (<c>replicate/</c>): language models behind the predictions API, LiteLLM's ReplicateConfig mapping.</summary>
internal static class ReplicateSpec
{
    public const string Name = "replicate";
    public const string DefaultApiBase = "https://api.replicate.com/v1";

    public static readonly ParamRule[] ChatParams =
    [
        ParamRule.Mapped("stream", "urls.stream", "the prediction's SSE stream"),
        ParamRule.Mapped("stream_options", "(applied by LLMux)", "usage comes from the prediction's metrics; include_usage decides the usage chunk"),
        ParamRule.Native("temperature"),
        ParamRule.Native("top_p"),
        ParamRule.Mapped("max_tokens", "max_new_tokens", "max_length for vicuna/flan models, max_tokens for meta/codellama-13b (LiteLLM)"),
        ParamRule.Mapped("max_completion_tokens", "max_new_tokens"),
        ParamRule.Mapped("stop", "stop_sequences", "comma-separated"),
        ParamRule.Native("seed"),
        ParamRule.Native("top_k"),
        // LiteLLM lists tools and functions as supported but sends none of them; a prompt model has no tool calling.
        ParamRule.Dropped("tools", "Replicate's language models take a prompt; LiteLLM accepts tools and sends nothing"),
        ParamRule.Dropped("tool_choice", "no tool calling on the predictions API"),
        ParamRule.Dropped("functions", "no tool calling on the predictions API"),
        ParamRule.Dropped("function_call", "no tool calling on the predictions API"),
        ParamRule.Dropped("n", "a prediction answers once"),
        ParamRule.Dropped("presence_penalty"),
        ParamRule.Dropped("frequency_penalty"),
        ParamRule.Dropped("logit_bias"),
        ParamRule.Dropped("logprobs"),
        ParamRule.Dropped("top_logprobs"),
        ParamRule.Dropped("response_format"),
        ParamRule.Dropped("parallel_tool_calls"),
        ParamRule.Dropped("reasoning_effort"),
        ParamRule.Dropped("user"),
        ParamRule.Dropped("modalities"),
        ParamRule.Dropped("prediction"),
        ParamRule.Dropped("audio"),
        ParamRule.Dropped("service_tier"),
        ParamRule.Dropped("store"),
        ParamRule.Dropped("metadata"),
        ParamRule.Dropped("web_search_options"),
        ParamRule.Dropped("safety_identifier"),
        ParamRule.Dropped("prompt_cache_key"),
        ParamRule.Dropped("prompt_cache_retention"),
        ParamRule.Dropped("verbosity"),
        ParamRule.Dropped("extra_headers"),
        ParamRule.Dropped("max_retries", "LLMux retries through router settings"),
    ];

    public static ProviderSpec Spec { get; } = new()
    {
        Name = Name,
        DisplayName = "Replicate (predictions API)",
        DefaultApiBase = DefaultApiBase,
        ApiBaseEnv = "REPLICATE_API_BASE",
        ApiKeyEnv = "REPLICATE_API_KEY",
        Auth = AuthScheme.Bearer,
        StreamFormat = StreamFormat.Sse,
        Modes = new[] { LlmMode.Chat }.ToFrozenSet(),
        ChatParams = ProviderSpec.Table(ChatParams),
        Notes =
        [
            "`replicate/<owner>/<name>` → `POST {api_base}/models/{owner}/{name}/predictions`; `replicate/<owner>/<name>:<version>` → `POST {api_base}/predictions` with `version`; `replicate/deployments/<owner>/<name>` → `POST {api_base}/deployments/{owner}/{name}/predictions`",
            "plain calls send `Prefer: wait` and poll `urls.get` (every `replicate_poll_interval` seconds, default 1) until succeeded, failed or canceled; streams read `urls.stream` (SSE output/done/error); a client that goes away cancels the prediction (`POST urls.cancel`)",
            "the prompt is built from the messages as LiteLLM builds it (Llama 2 chat and Llama 3 instruct templates, else the contents joined by spaces); `supports_system_prompt: true` sends the first system message as `system_prompt`; usage is the prediction's `metrics` token counts",
        ],
    };
}
