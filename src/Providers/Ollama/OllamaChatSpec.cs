using System.Collections.Frozen;
using LLMux.Pipeline.Capabilities;

namespace LLMux.Providers.Ollama;

/// <summary>Ollama's native chat API (<c>ollama_chat/</c>, <c>POST {api_base}/api/chat</c>), LiteLLM's <c>OllamaChatConfig</c>.</summary>
public static class OllamaChatSpec
{
    public const string DefaultApiBase = "http://localhost:11434";

    public static ProviderSpec Spec { get; } = new()
    {
        Name = "ollama_chat",
        DisplayName = "Ollama (native /api/chat)",
        DefaultApiBase = DefaultApiBase,
        ApiBaseEnv = "OLLAMA_API_BASE",
        ApiKeyEnv = "OLLAMA_API_KEY",
        Auth = AuthScheme.Bearer,
        StreamFormat = StreamFormat.Ndjson,
        Modes = new[] { LlmMode.Chat }.ToFrozenSet(),
        ChatParams = ProviderSpec.Table(
            ParamRule.Native("stream"),
            ParamRule.Mapped("stream_options", "(applied by LLMux)", "Ollama always reports token counts on its last line"),
            ParamRule.Mapped("max_tokens", "options.num_predict"),
            ParamRule.Mapped("max_completion_tokens", "options.num_predict"),
            ParamRule.Mapped("temperature", "options.temperature"),
            ParamRule.Mapped("top_p", "options.top_p"),
            ParamRule.Mapped("seed", "options.seed"),
            ParamRule.Mapped("frequency_penalty", "options.repeat_penalty"),
            ParamRule.Mapped("stop", "options.stop"),
            ParamRule.Native("tools"),
            ParamRule.Dropped("tool_choice", "Ollama has no tool_choice (LiteLLM accepts it and sends nothing)"),
            ParamRule.Mapped("response_format", "format", "json_object → \"json\"; json_schema → the schema"),
            ParamRule.Mapped("reasoning_effort", "think", "\"none\" → false; low/medium/high → the level (gpt-oss) or true"),
            ParamRule.Mapped("keep_alive", "keep_alive"),
            ParamRule.Mapped("think", "think")),
        Notes =
        [
            "api_base is the Ollama host root; LLMux calls `{api_base}/api/chat` and reads newline-delimited JSON when streaming",
            "a request that does not ask for a stream is sent with `stream: false` (Ollama streams by default)",
            "message `thinking` becomes `reasoning_content`; tool-call arguments (objects in Ollama) become JSON strings with generated ids",
        ],
    };
}
