using System.Collections.Frozen;
using LLMux.Pipeline.Capabilities;

namespace LLMux.Providers.Watsonx;

/// <summary>
/// IBM watsonx.ai (<c>watsonx/</c>): <c>/ml/v1/text/chat</c> (<c>/text/chat_stream</c>) and <c>/ml/v1/text/embeddings</c>
/// on the instance's regional URL, with a project or space id, authenticated by an IAM token exchanged for the API
/// key (LiteLLM's <c>IBMWatsonXChatConfig</c> and <c>IBMWatsonXEmbeddingConfig</c>).
/// </summary>
internal static class WatsonxSpec
{
    public const string Name = "watsonx";

    /// <summary>LiteLLM's <c>WATSONX_DEFAULT_API_VERSION</c>: the <c>version</c> query every call carries.</summary>
    public const string DefaultApiVersion = "2024-03-13";

    public const string DefaultIamUrl = "https://iam.cloud.ibm.com/identity/token";

    /// <summary>Every OpenAI chat parameter and where it lands in a <c>text/chat</c> body.</summary>
    private static readonly ParamRule[] ChatParams =
    [
        ParamRule.Native("stream"),
        ParamRule.Mapped("stream_options", "(applied by LLMux)", "watsonx reports usage on its last chunk; include_usage decides the usage chunk"),
        ParamRule.Native("temperature"),
        ParamRule.Native("top_p"),
        ParamRule.Native("max_tokens"),
        ParamRule.Mapped("max_completion_tokens", "max_tokens", "LiteLLM refuses it; LLMux sends it as max_tokens"),
        ParamRule.Native("stop"),
        ParamRule.Native("seed"),
        ParamRule.Native("n"),
        ParamRule.Native("frequency_penalty"),
        ParamRule.Native("presence_penalty"),
        ParamRule.Native("logprobs"),
        ParamRule.Native("top_logprobs"),
        ParamRule.Native("response_format"),
        ParamRule.Native("reasoning_effort"),
        ParamRule.Mapped("tools", "tools", "`strict` and `additionalProperties` are removed from each schema (LiteLLM's rule: watsonx refuses them)"),
        ParamRule.Mapped("tool_choice", "tool_choice_option / tool_choice", "auto, none, required → tool_choice_option; a named function → tool_choice"),
        ParamRule.Dropped("parallel_tool_calls", "not in LiteLLM's watsonx list"),
        ParamRule.Dropped("logit_bias", "not in LiteLLM's watsonx list"),
        ParamRule.Dropped("user", "not in LiteLLM's watsonx list"),
        ParamRule.Dropped("functions", "use tools"),
        ParamRule.Dropped("function_call", "use tool_choice"),
        ParamRule.Dropped("verbosity"),
        ParamRule.Dropped("thinking", "use reasoning_effort"),
        ParamRule.Dropped("modalities"),
        ParamRule.Rejected("audio", "watsonx.ai cannot produce audio output"),
        ParamRule.Dropped("prediction"),
        ParamRule.Dropped("web_search_options"),
        ParamRule.Dropped("service_tier"),
        ParamRule.Dropped("safety_identifier"),
        ParamRule.Dropped("prompt_cache_key"),
        ParamRule.Dropped("prompt_cache_retention"),
        ParamRule.Dropped("store"),
        ParamRule.Dropped("extra_headers"),
        ParamRule.Dropped("max_retries", "LLMux retries through router settings"),
    ];

    public static ProviderSpec Spec { get; } = new()
    {
        Name = Name,
        DisplayName = "IBM watsonx.ai",
        ApiKeyEnv = "WATSONX_APIKEY",
        ApiBaseEnv = "WATSONX_URL",
        Auth = AuthScheme.Bearer,
        StreamFormat = StreamFormat.Sse,
        Modes = new[] { LlmMode.Chat, LlmMode.Embeddings }.ToFrozenSet(),
        ChatParams = ProviderSpec.Table(ChatParams),
        EmbeddingParams = ProviderSpec.Table(
            ParamRule.Mapped("encoding_format", "(applied by LLMux)", "float or base64; watsonx answers floats and LLMux encodes base64 itself"),
            ParamRule.Dropped("dimensions", "watsonx embedding models have a fixed size"),
            ParamRule.Dropped("user")),
        Notes =
        [
            "`watsonx/<model_id>` (e.g. `watsonx/ibm/granite-3-8b-instruct`): `POST {url}/ml/v1/text/chat?version=2024-03-13` (streams: `/ml/v1/text/chat_stream`, SSE), embeddings at `/ml/v1/text/embeddings`; url from api_base, WATSONX_API_BASE, WATSONX_URL, WX_URL or WML_URL (e.g. `https://us-south.ml.cloud.ibm.com`); `api_version` sets `version`",
            "`watsonx/deployment/<id>`: `/ml/v1/deployments/<id>/text/chat` (`/text/chat_stream`), with no model_id, project_id or space_id in the body",
            "`project_id` (or `watsonx_project`, WATSONX_PROJECT_ID, WX_PROJECT_ID, PROJECT_ID) or `space_id` (WATSONX_DEPLOYMENT_SPACE_ID, WATSONX_SPACE_ID, WX_SPACE_ID, SPACE_ID) goes in the body; one of them is required for a model id",
            "auth: `token` / WATSONX_TOKEN is sent as it is; `zen_api_key` / WATSONX_ZENAPIKEY as `ZenApiKey` (Cloud Pak for Data); else the API key (api_key, `apikey`, WATSONX_APIKEY, WATSONX_API_KEY, WX_API_KEY) is exchanged at IAM (`https://iam.cloud.ibm.com/identity/token`, or WATSONX_IAM_URL) for a bearer token kept until a minute before it expires",
            "finish_reason stop, length, tool_calls pass through; time_limit → length",
        ],
    };
}
