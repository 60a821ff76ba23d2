using System.Collections.Frozen;
using LLMux.Pipeline.Capabilities;

namespace LLMux.Providers.Gemini;

/// <summary>
/// Google AI Studio (<c>gemini/</c>) and Vertex AI (<c>vertex_ai/</c>): what each serves and how every OpenAI chat
/// parameter maps onto a Gemini <c>generateContent</c> body (LiteLLM's <c>VertexGeminiConfig</c> and
/// <c>GoogleAIStudioGeminiConfig</c> supported lists).
/// </summary>
public static class GeminiSpec
{
    public const string GeminiName = "gemini";
    public const string VertexName = "vertex_ai";
    public const string DefaultGeminiBase = "https://generativelanguage.googleapis.com";

    public static ProviderSpec Gemini { get; } = Modes.ModeSupport.Apply(new()
    {
        Name = GeminiName,
        DisplayName = "Google AI Studio (Gemini)",
        DefaultApiBase = DefaultGeminiBase + "/v1beta",
        ApiKeyEnv = "GEMINI_API_KEY",
        Auth = AuthScheme.GoogApiKey,
        StreamFormat = StreamFormat.Sse,
        Modes = new[] { LlmMode.Chat, LlmMode.Embeddings }.ToFrozenSet(),
        ChatParams = ProviderSpec.Table(ChatRules(vertex: false)),
        EmbeddingParams = EmbeddingTable(),
    });

    public static ProviderSpec Vertex { get; } = Modes.ModeSupport.Apply(new()
    {
        Name = VertexName,
        Aliases = ["vertex_ai_beta"],
        DisplayName = "Vertex AI (Gemini)",
        Auth = AuthScheme.GoogleServiceAccount,
        StreamFormat = StreamFormat.Sse,
        Modes = new[] { LlmMode.Chat, LlmMode.Embeddings }.ToFrozenSet(),
        ChatParams = ProviderSpec.Table(ChatRules(vertex: true)),
        EmbeddingParams = EmbeddingTable(),
    });

    private static FrozenDictionary<string, ParamRule> EmbeddingTable() => ProviderSpec.Table(
        ParamRule.Mapped("dimensions", "outputDimensionality"),
        ParamRule.Mapped("encoding_format", "(applied by LLMux)", "float or base64; Gemini always answers floats"),
        ParamRule.Mapped("input_type", "taskType"),
        ParamRule.Mapped("task_type", "taskType"),
        ParamRule.Dropped("user"));

    private static ParamRule[] ChatRules(bool vertex) =>
    [
        ParamRule.Native("stream"),
        ParamRule.Mapped("stream_options", "(applied by LLMux)", "include_usage decides the usage chunk; Gemini always reports usage"),
        ParamRule.Mapped("temperature", "generationConfig.temperature"),
        ParamRule.Mapped("top_p", "generationConfig.top_p"),
        ParamRule.Mapped("top_k", "generationConfig.top_k"),
        ParamRule.Mapped("max_tokens", "generationConfig.max_output_tokens"),
        ParamRule.Mapped("max_completion_tokens", "generationConfig.max_output_tokens"),
        ParamRule.Mapped("n", "generationConfig.candidate_count"),
        ParamRule.Mapped("stop", "generationConfig.stop_sequences"),
        ParamRule.Mapped("presence_penalty", "generationConfig.presence_penalty", "left out for gemini-3 models, as LiteLLM does"),
        ParamRule.Mapped("frequency_penalty", "generationConfig.frequency_penalty", "left out for gemini-3 models, as LiteLLM does"),
        vertex ? ParamRule.Mapped("seed", "generationConfig.seed") : ParamRule.Dropped("seed", "not in LiteLLM's AI Studio list"),
        ParamRule.Mapped("logprobs", "generationConfig.responseLogprobs"),
        vertex ? ParamRule.Mapped("top_logprobs", "generationConfig.logprobs") : ParamRule.Dropped("top_logprobs", "not in LiteLLM's AI Studio list"),
        ParamRule.Mapped("modalities", "generationConfig.responseModalities"),
        vertex ? ParamRule.Dropped("audio") : ParamRule.Mapped("audio", "generationConfig.speechConfig"),
        ParamRule.Mapped("response_format", "generationConfig.response_mime_type + response_schema / response_json_schema"),
        ParamRule.Mapped("tools", "tools[].function_declarations"),
        ParamRule.Mapped("functions", "tools[].function_declarations"),
        ParamRule.Mapped("tool_choice", "toolConfig.functionCallingConfig"),
        ParamRule.Mapped("parallel_tool_calls", "(checked by LLMux)", "false with more than one tool is refused unless drop_params; Gemini has no such switch"),
        ParamRule.Mapped("web_search_options", "tools[].googleSearch"),
        ParamRule.Mapped("reasoning_effort", "generationConfig.thinkingConfig"),
        ParamRule.Mapped("thinking", "generationConfig.thinkingConfig"),
        ParamRule.Mapped("safety_settings", "safetySettings"),
        ParamRule.Mapped("cached_content", "cachedContent"),
        vertex ? ParamRule.Mapped("labels", "labels") : ParamRule.Dropped("labels", "labels exist on Vertex AI only"),
        vertex ? ParamRule.Mapped("extra_headers", "upstream request headers") : ParamRule.Dropped("extra_headers", "not in LiteLLM's AI Studio list"),
        ParamRule.Dropped("logit_bias"),
        ParamRule.Dropped("function_call"),
        ParamRule.Dropped("prediction"),
        ParamRule.Dropped("service_tier"),
        ParamRule.Dropped("safety_identifier"),
        ParamRule.Dropped("prompt_cache_key"),
        ParamRule.Dropped("prompt_cache_retention"),
        ParamRule.Dropped("store"),
        ParamRule.Dropped("verbosity"),
        ParamRule.Dropped("user"),
        ParamRule.Dropped("max_retries"),
    ];
}
