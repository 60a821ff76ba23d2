using System.Collections.Frozen;
using LLMux.Pipeline.Capabilities;

namespace LLMux.Providers.Oci;

/// <summary>OCI Generative AI (<c>oci/</c>): <c>/20231130/actions/chat</c>, OCI request signing, LiteLLM's OCIChatConfig mapping.</summary>
internal static class OciSpec
{
    public const string Name = "oci";

    /// <summary>LiteLLM's openai_to_oci_generic_param_map: a parameter mapped to False raises unless drop_params.</summary>
    public static readonly ParamRule[] ChatParams =
    [
        ParamRule.Mapped("stream", "isStream"),
        ParamRule.Mapped("stream_options", "(applied by LLMux)", "LLMux always asks GENERIC models for the usage event (streamOptions.isIncludeUsage); include_usage decides the usage chunk"),
        ParamRule.Mapped("max_tokens", "maxTokens"),
        ParamRule.Mapped("max_completion_tokens", "maxTokens"),
        ParamRule.Native("temperature"),
        ParamRule.Mapped("top_p", "topP"),
        ParamRule.Mapped("frequency_penalty", "frequencyPenalty"),
        ParamRule.Mapped("presence_penalty", "presencePenalty"),
        ParamRule.Native("seed"),
        ParamRule.Mapped("stop", "stop", "COHERE: stopSequences"),
        ParamRule.Mapped("n", "numGenerations", "GENERIC only"),
        ParamRule.Mapped("logprobs", "logProbs", "GENERIC only"),
        ParamRule.Mapped("logit_bias", "logitBias", "GENERIC only"),
        ParamRule.Mapped("tools", "tools", "GENERIC: FUNCTION tools; COHERE: parameterDefinitions"),
        ParamRule.Mapped("tool_choice", "toolChoice", "auto/none/required → AUTO/NONE/REQUIRED, a named function → FUNCTION; GENERIC only (LiteLLM drops it for Cohere)"),
        ParamRule.Mapped("response_format", "responseFormat", "json_object → JSON_OBJECT, json_schema → JSON_SCHEMA {name, schema, isStrict}; COHERE: JSON_OBJECT with the schema"),
        ParamRule.Mapped("top_k", "topK", "COHERE only"),
        ParamRule.Dropped("top_logprobs"),
        ParamRule.Dropped("modalities"),
        ParamRule.Dropped("prediction"),
        ParamRule.Dropped("function_call", "use tool_choice"),
        ParamRule.Dropped("functions", "use tools"),
        ParamRule.Dropped("extra_headers"),
        ParamRule.Dropped("parallel_tool_calls"),
        ParamRule.Dropped("audio"),
        ParamRule.Dropped("web_search_options"),
        ParamRule.Dropped("max_retries", "LLMux retries through router settings"),
        ParamRule.Dropped("user"),
        ParamRule.Dropped("reasoning_effort"),
        ParamRule.Dropped("service_tier"),
        ParamRule.Dropped("store"),
        ParamRule.Dropped("metadata"),
        ParamRule.Dropped("safety_identifier"),
        ParamRule.Dropped("prompt_cache_key"),
        ParamRule.Dropped("prompt_cache_retention"),
        ParamRule.Dropped("verbosity"),
    ];

    public static ProviderSpec Spec { get; } = new()
    {
        Name = Name,
        DisplayName = "OCI Generative AI",
        DefaultApiBase = "https://inference.generativeai.{oci_region}.oci.oraclecloud.com",
        Auth = AuthScheme.OciSignature,
        StreamFormat = StreamFormat.Sse,
        Modes = new[] { LlmMode.Chat }.ToFrozenSet(),
        ChatParams = ProviderSpec.Table(ChatParams),
        Notes =
        [
            "`oci/<model id>` (e.g. `oci/meta.llama-3.3-70b-instruct`, `oci/cohere.command-a-03-2025`): `POST {api_base}/20231130/actions/chat`; api_base defaults to `https://inference.generativeai.{oci_region}.oci.oraclecloud.com` (oci_region defaults to us-ashburn-1)",
            "OCI request signing (rsa-sha256 over date, (request-target), host, content-length, content-type, x-content-sha256; keyId `{oci_tenancy}/{oci_user}/{oci_fingerprint}`) with oci_key (PEM text) or oci_key_file; oci_compartment_id is required",
            "`cohere.*` models use apiFormat COHERE (message, chatHistory, preambleOverride); every other vendor GENERIC; `oci_serving_mode: DEDICATED` with `oci_endpoint_id` targets a dedicated AI cluster",
        ],
    };
}
