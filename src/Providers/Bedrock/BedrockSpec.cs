using System.Collections.Frozen;
using LLMux.Pipeline.Capabilities;

namespace LLMux.Providers.Bedrock;

/// <summary>Amazon Bedrock (Converse / ConverseStream / InvokeModel): every OpenAI chat parameter and what becomes of it.</summary>
internal static class BedrockSpec
{
    public static ProviderSpec Spec { get; } = Modes.ModeSupport.Apply(new()
    {
        Name = "bedrock",
        DisplayName = "Amazon Bedrock",
        DefaultApiBase = "https://bedrock-runtime.{region}.amazonaws.com",
        ApiBaseEnv = "AWS_BEDROCK_RUNTIME_ENDPOINT",
        Auth = AuthScheme.SigV4,
        StreamFormat = StreamFormat.EventStream,
        Modes = new[] { LlmMode.Chat, LlmMode.Embeddings }.ToFrozenSet(),
        ChatParams = ProviderSpec.Table(
            ParamRule.Mapped("max_tokens", "inferenceConfig.maxTokens"),
            ParamRule.Mapped("max_completion_tokens", "inferenceConfig.maxTokens"),
            ParamRule.Mapped("temperature", "inferenceConfig.temperature"),
            ParamRule.Mapped("top_p", "inferenceConfig.topP"),
            ParamRule.Mapped("stop", "inferenceConfig.stopSequences"),
            ParamRule.Mapped("stream", "converse-stream route"),
            ParamRule.Mapped("stream_options", "usage chunk from the metadata event"),
            ParamRule.Mapped("tools", "toolConfig.tools[].toolSpec"),
            ParamRule.Mapped("tool_choice", "toolConfig.toolChoice", "auto → auto, required → any, named → tool; none is dropped with drop_params, else a 400"),
            ParamRule.Mapped("parallel_tool_calls", "additionalModelRequestFields.tool_choice.disable_parallel_tool_use", "Anthropic models; dropped with a warning for others"),
            ParamRule.Mapped("response_format", "json_tool_call tool forced with toolChoice", "json_object / json_schema; text is ignored"),
            ParamRule.Mapped("reasoning_effort", "additionalModelRequestFields.thinking / reasoning_effort / reasoningConfig", "Claude 3.7+/4, gpt-oss, Nova 2"),
            ParamRule.Mapped("thinking", "additionalModelRequestFields.thinking", "Claude 3.7+/4; budget_tokens below 1024 is raised to 1024"),
            ParamRule.Mapped("top_k", "additionalModelRequestFields.top_k (Anthropic) / inferenceConfig.topK (Nova)", "dropped with a warning for other models"),
            ParamRule.Mapped("service_tier", "serviceTier.type", "auto → default"),
            ParamRule.Native("requestMetadata"),
            ParamRule.Native("guardrailConfig"),
            ParamRule.Native("performanceConfig"),
            ParamRule.Native("additionalModelRequestFields"),
            ParamRule.Dropped("user", "Converse has no end-user field"),
            ParamRule.Dropped("max_retries", "a client-side setting"),
            ParamRule.Dropped("extra_headers", "not forwarded to Bedrock"),
            ParamRule.Dropped("n", "Converse returns one choice"),
            ParamRule.Dropped("frequency_penalty"),
            ParamRule.Dropped("presence_penalty"),
            ParamRule.Dropped("logit_bias"),
            ParamRule.Dropped("logprobs"),
            ParamRule.Dropped("top_logprobs"),
            ParamRule.Dropped("seed"),
            ParamRule.Dropped("modalities"),
            ParamRule.Dropped("prediction"),
            ParamRule.Dropped("audio"),
            ParamRule.Dropped("functions", "use tools"),
            ParamRule.Dropped("function_call", "use tool_choice"),
            ParamRule.Dropped("web_search_options", "Nova grounding is not mapped yet"),
            ParamRule.Dropped("safety_identifier"),
            ParamRule.Dropped("prompt_cache_key"),
            ParamRule.Dropped("prompt_cache_retention"),
            ParamRule.Dropped("store"),
            ParamRule.Dropped("verbosity")),
        EmbeddingParams = ProviderSpec.Table(
            ParamRule.Mapped("encoding_format", "float from Bedrock; base64 encoded by LLMux"),
            ParamRule.Mapped("dimensions", "dimensions (Titan v2) / output_dimension (Cohere)"),
            ParamRule.Mapped("input_type", "input_type (Cohere)"),
            ParamRule.Mapped("normalize", "normalize (Titan v2)"),
            ParamRule.Mapped("truncate", "truncate (Cohere)"),
            ParamRule.Dropped("user")),
    });
}
