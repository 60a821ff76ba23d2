using LLMux.Pipeline.Capabilities;

namespace LLMux.Providers.OpenAICompatible;

/// <summary>
/// The OpenAI-compatible family, one row each, with the differences LiteLLM knows
/// (<c>litellm/llms/&lt;provider&gt;/chat/transformation.py</c>: supported lists, renames, base URLs, key variables).
/// </summary>
public static class CompatibleProviderRows
{
    private const string ReasoningModelsOnly = "LiteLLM lists it for reasoning models only; other models reject it upstream";
    private const string MaxTokensRename = "max_tokens";

    public static CompatibleProviderRow Azure { get; } = new()
    {
        Name = "azure",
        DisplayName = "Azure OpenAI",
        ApiBaseEnv = "AZURE_API_BASE",
        ApiKeyEnv = "AZURE_API_KEY",
        Auth = AuthScheme.ApiKeyHeader,
        UrlStyle = CompatibleUrlStyle.AzureDeployment,
        NativeResponses = true,
        Embeddings = true,
        Notes =
        [
            "`azure/<deployment>`: the id after `azure/` is the deployment name; URL `{api_base}/openai/deployments/{deployment}/chat/completions?api-version=...`",
            "api-version: `litellm_params.api_version`, else `AZURE_API_VERSION`, else `" + CompatibleProvider.AzureDefaultApiVersion + "`",
        ],
    };

    public static CompatibleProviderRow AzureAI { get; } = new()
    {
        Name = "azure_ai",
        DisplayName = "Azure AI Foundry",
        ApiBaseEnv = "AZURE_AI_API_BASE",
        ApiKeyEnv = "AZURE_AI_API_KEY",
        Auth = AuthScheme.ApiKeyHeader,
        UrlStyle = CompatibleUrlStyle.AzureFoundry,
        Embeddings = true,
        Notes =
        [
            "`*.services.ai.azure.com` bases get `/models/chat/completions`; other bases `/chat/completions`; `api-version` from the base URL or `litellm_params.api_version`",
            "auth: `api-key` header on `*.services.ai.azure.com` and `*.openai.azure.com`, `Authorization: Bearer` elsewhere (LiteLLM's rule)",
        ],
    };

    public static CompatibleProviderRow Groq { get; } = new()
    {
        Name = "groq",
        DisplayName = "Groq",
        DefaultApiBase = "https://api.groq.com/openai/v1",
        ApiBaseEnv = "GROQ_API_BASE",
        ApiKeyEnv = "GROQ_API_KEY",
        RemovedParams = ["max_retries"],
        ParamNotes = new Dictionary<string, string> { ["reasoning_effort"] = ReasoningModelsOnly },
    };

    public static CompatibleProviderRow DeepSeek { get; } = new()
    {
        Name = "deepseek",
        DisplayName = "DeepSeek",
        DefaultApiBase = "https://api.deepseek.com/beta",
        ApiBaseEnv = "DEEPSEEK_API_BASE",
        ApiKeyEnv = "DEEPSEEK_API_KEY",
        AddedParams = ["thinking"],
        ParamNotes = new Dictionary<string, string> { ["thinking"] = "DeepSeek accepts only {\"type\":\"enabled\"} (reasoner models)" },
        Notes = ["`reasoning_content` in answers and stream deltas reaches the client as DeepSeek sends it"],
    };

    public static CompatibleProviderRow Mistral { get; } = new()
    {
        Name = "mistral",
        DisplayName = "Mistral AI",
        DefaultApiBase = "https://api.mistral.ai/v1",
        ApiBaseEnv = "MISTRAL_API_BASE",
        ApiKeyEnv = "MISTRAL_API_KEY",
        ChatParams = ["stream", "temperature", "top_p", "max_tokens", "max_completion_tokens", "tools", "tool_choice", "seed", "stop", "response_format", "parallel_tool_calls", "thinking", "reasoning_effort"],
        Renames = new Dictionary<string, string> { ["max_completion_tokens"] = MaxTokensRename, ["seed"] = "random_seed" },
        ValueRewrites = [("tool_choice", "required", "any")],
        ParamNotes = new Dictionary<string, string>
        {
            ["tool_choice"] = "\"required\" is sent as \"any\"",
            ["thinking"] = "magistral models only (LiteLLM)",
            ["reasoning_effort"] = "magistral models only (LiteLLM)",
        },
        Embeddings = true,
    };

    public static CompatibleProviderRow XAI { get; } = new()
    {
        Name = "xai",
        DisplayName = "xAI (Grok)",
        DefaultApiBase = "https://api.x.ai/v1",
        NativeResponses = true,
        ApiBaseEnv = "XAI_API_BASE",
        ApiKeyEnv = "XAI_API_KEY",
        ChatParams = ["logit_bias", "logprobs", "max_tokens", "n", "presence_penalty", "response_format", "seed", "stream", "stream_options", "temperature", "tool_choice", "tools", "top_logprobs", "top_p", "user", "web_search_options", "stop", "frequency_penalty", "reasoning_effort", "parallel_tool_calls"],
        ParamNotes = new Dictionary<string, string>
        {
            ["stop"] = "not for grok-3-mini, grok-4 or grok-code-fast (LiteLLM)",
            ["frequency_penalty"] = "not for grok-4 (LiteLLM)",
            ["reasoning_effort"] = ReasoningModelsOnly,
        },
    };

    public static CompatibleProviderRow OpenRouter { get; } = new()
    {
        Name = "openrouter",
        DisplayName = "OpenRouter",
        DefaultApiBase = "https://openrouter.ai/api/v1",
        ApiBaseEnv = "OPENROUTER_API_BASE",
        ApiKeyEnv = "OPENROUTER_API_KEY",
        AddedParams = ["thinking"],
        Embeddings = true,
        Notes = ["ids keep their vendor path: `openrouter/meta-llama/llama-3-70b` is sent as `meta-llama/llama-3-70b`; `transforms`, `models`, `route` pass through"],
    };

    public static CompatibleProviderRow TogetherAI { get; } = new()
    {
        Name = "together_ai",
        DisplayName = "Together AI",
        DefaultApiBase = "https://api.together.xyz/v1",
        ApiBaseEnv = "TOGETHER_AI_API_BASE",
        ApiKeyEnv = "TOGETHERAI_API_KEY",
        ParamNotes = new Dictionary<string, string>
        {
            ["tools"] = "function-calling models only (LiteLLM)",
            ["tool_choice"] = "function-calling models only (LiteLLM)",
            ["response_format"] = "function-calling models only (LiteLLM)",
        },
        Embeddings = true,
    };

    public static CompatibleProviderRow FireworksAI { get; } = new()
    {
        Name = "fireworks_ai",
        DisplayName = "Fireworks AI",
        DefaultApiBase = "https://api.fireworks.ai/inference/v1",
        ApiBaseEnv = "FIREWORKS_API_BASE",
        ApiKeyEnv = "FIREWORKS_API_KEY",
        ChatParams = ["stream", "max_completion_tokens", "max_tokens", "temperature", "top_p", "top_k", "frequency_penalty", "presence_penalty", "n", "stop", "response_format", "user", "logprobs", "prompt_truncate_length", "context_length_exceeded_behavior", "tools", "tool_choice", "reasoning_effort"],
        Renames = new Dictionary<string, string> { ["max_completion_tokens"] = MaxTokensRename },
        ValueRewrites = [("tool_choice", "required", "any")],
        ParamNotes = new Dictionary<string, string> { ["tool_choice"] = "\"required\" is sent as \"any\"", ["reasoning_effort"] = ReasoningModelsOnly },
        Embeddings = true,
        Notes = ["ids such as `accounts/fireworks/models/llama-v3p1-8b-instruct` pass unchanged"],
    };

    public static CompatibleProviderRow Perplexity { get; } = new()
    {
        Name = "perplexity",
        DisplayName = "Perplexity",
        DefaultApiBase = "https://api.perplexity.ai",
        ApiBaseEnv = "PERPLEXITY_API_BASE",
        ApiKeyEnv = "PERPLEXITYAI_API_KEY",
        ChatParams = ["frequency_penalty", "max_tokens", "max_completion_tokens", "presence_penalty", "response_format", "stream", "temperature", "top_p", "max_retries", "extra_headers", "reasoning_effort", "web_search_options"],
        ParamNotes = new Dictionary<string, string> { ["tools"] = "Perplexity has no tool calling" },
        Notes = ["`citations` and `search_results` in answers reach the client as Perplexity sends them; the api_base has no `/v1`"],
    };

    public static CompatibleProviderRow Cerebras { get; } = new()
    {
        Name = "cerebras",
        DisplayName = "Cerebras",
        DefaultApiBase = "https://api.cerebras.ai/v1",
        ApiBaseEnv = "CEREBRAS_API_BASE",
        ApiKeyEnv = "CEREBRAS_API_KEY",
        ChatParams = ["max_tokens", "max_completion_tokens", "response_format", "seed", "stop", "stream", "temperature", "top_p", "tool_choice", "tools", "user", "reasoning_effort"],
        Renames = new Dictionary<string, string> { ["max_completion_tokens"] = MaxTokensRename },
        ParamNotes = new Dictionary<string, string> { ["reasoning_effort"] = ReasoningModelsOnly },
    };

    public static CompatibleProviderRow DeepInfra { get; } = new()
    {
        Name = "deepinfra",
        DisplayName = "DeepInfra",
        DefaultApiBase = "https://api.deepinfra.com/v1/openai",
        ApiBaseEnv = "DEEPINFRA_API_BASE",
        ApiKeyEnv = "DEEPINFRA_API_KEY",
        ChatParams = ["stream", "frequency_penalty", "function_call", "functions", "logit_bias", "max_tokens", "max_completion_tokens", "n", "presence_penalty", "stop", "temperature", "top_p", "response_format", "tools", "tool_choice", "reasoning_effort"],
        ParamNotes = new Dictionary<string, string> { ["reasoning_effort"] = ReasoningModelsOnly },
        Embeddings = true,
    };

    public static CompatibleProviderRow HostedVllm { get; } = new()
    {
        Name = "hosted_vllm",
        DisplayName = "vLLM (self-hosted)",
        ApiBaseEnv = "HOSTED_VLLM_API_BASE",
        ApiKeyEnv = "HOSTED_VLLM_API_KEY",
        DefaultApiKey = "fake-api-key",
        AddedParams = ["thinking"],
        Embeddings = true,
        Notes = ["with no key configured LLMux sends `Bearer fake-api-key`, as LiteLLM does"],
    };

    public static CompatibleProviderRow LmStudio { get; } = new()
    {
        Name = "lm_studio",
        DisplayName = "LM Studio",
        ApiBaseEnv = "LM_STUDIO_API_BASE",
        ApiKeyEnv = "LM_STUDIO_API_KEY",
        DefaultApiKey = "fake-api-key",
        Embeddings = true,
        Notes = ["with no key configured LLMux sends `Bearer fake-api-key`, as LiteLLM does"],
    };

    public static CompatibleProviderRow Ollama { get; } = new()
    {
        Name = "ollama",
        DisplayName = "Ollama (OpenAI-compatible /v1)",
        DefaultApiBase = "http://localhost:11434",
        ApiBaseEnv = "OLLAMA_API_BASE",
        ApiKeyEnv = "OLLAMA_API_KEY",
        UrlStyle = CompatibleUrlStyle.OllamaV1,
        ChatParams = ["max_tokens", "max_completion_tokens", "stream", "stream_options", "top_p", "temperature", "seed", "frequency_penalty", "presence_penalty", "stop", "tools", "tool_choice", "response_format", "reasoning_effort"],
        ExplicitStreamFalse = true,
        Embeddings = true,
        Notes =
        [
            "api_base is the Ollama host root (`http://localhost:11434`); LLMux calls `{api_base}/v1/chat/completions`",
            "a request that does not ask for a stream is sent with `stream: false` (Ollama streams by default)",
        ],
    };

    /// <summary>Every row, in the order they register.</summary>
    public static IReadOnlyList<CompatibleProviderRow> All { get; } =
        [Azure, AzureAI, Groq, DeepSeek, Mistral, XAI, OpenRouter, TogetherAI, FireworksAI, Perplexity, Cerebras, DeepInfra, HostedVllm, LmStudio, Ollama];
}
