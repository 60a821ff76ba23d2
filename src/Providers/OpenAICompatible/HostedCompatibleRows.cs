using LLMux.Pipeline.Capabilities;

namespace LLMux.Providers.OpenAICompatible;

/// <summary>
/// Hosted OpenAI-compatible APIs from LiteLLM's price table and provider list: each row's base URL, key variable
/// and parameter list are LiteLLM's (<c>litellm/llms/&lt;provider&gt;/chat/transformation.py</c> and
/// <c>get_llm_provider_logic.py</c> @ 8192819b), checked against the provider's own API reference where one is
/// public; where the two differ the row says so in its notes.
/// </summary>
public static class HostedCompatibleRows
{
    private const string MaxTokens = "max_tokens";
    private const string ReasoningOnly = "LiteLLM sends it for reasoning models only; other models reject it upstream";

    private static Dictionary<string, string> MaxCompletionTokensAsMaxTokens() => new() { ["max_completion_tokens"] = MaxTokens };

    public static CompatibleProviderRow Novita { get; } = new()
    {
        Name = "novita",
        DisplayName = "Novita AI",
        DefaultApiBase = "https://api.novita.ai/v3/openai",
        ApiBaseEnv = "NOVITA_API_BASE",
        ApiKeyEnv = "NOVITA_API_KEY",
        AddedParams = ["top_k", "min_p", "repetition_penalty", "separate_reasoning"],
        Notes = ["LiteLLM's base `https://api.novita.ai/v3/openai`; Novita's current docs also serve `https://api.novita.ai/openai/v1` (set api_base to use it)"],
    };

    public static CompatibleProviderRow VercelAIGateway { get; } = new()
    {
        Name = "vercel_ai_gateway",
        DisplayName = "Vercel AI Gateway",
        DefaultApiBase = "https://ai-gateway.vercel.sh/v1",
        ApiBaseEnv = "VERCEL_AI_GATEWAY_API_BASE",
        ApiKeyEnv = "VERCEL_AI_GATEWAY_API_KEY",
        AddedParams = ["providerOptions"],
        Embeddings = true,
        Notes = ["ids keep their vendor path (`vercel_ai_gateway/openai/gpt-4o` is sent as `openai/gpt-4o`); `providerOptions` passes through"],
    };

    public static CompatibleProviderRow LambdaAI { get; } = new()
    {
        Name = "lambda_ai",
        DisplayName = "Lambda Inference",
        DefaultApiBase = "https://api.lambda.ai/v1",
        ApiBaseEnv = "LAMBDA_API_BASE",
        ApiKeyEnv = "LAMBDA_API_KEY",
    };

    public static CompatibleProviderRow Nscale { get; } = new()
    {
        Name = "nscale",
        DisplayName = "Nscale",
        DefaultApiBase = "https://inference.api.nscale.com/v1",
        ApiBaseEnv = "NSCALE_API_BASE",
        ApiKeyEnv = "NSCALE_API_KEY",
        ChatParams = ["max_tokens", "n", "temperature", "top_p", "stream", "logprobs", "top_logprobs", "frequency_penalty", "presence_penalty", "response_format", "stop", "logit_bias"],
        ParamNotes = new Dictionary<string, string> { ["tools"] = "not in LiteLLM's nscale list" },
    };

    public static CompatibleProviderRow SambaNova { get; } = new()
    {
        Name = "sambanova",
        DisplayName = "SambaNova Cloud",
        DefaultApiBase = "https://api.sambanova.ai/v1",
        ApiBaseEnv = "SAMBANOVA_API_BASE",
        ApiKeyEnv = "SAMBANOVA_API_KEY",
        ChatParams = ["max_completion_tokens", "max_tokens", "response_format", "stop", "stream", "stream_options", "temperature", "top_p", "top_k", "tools", "tool_choice", "parallel_tool_calls"],
        Renames = MaxCompletionTokensAsMaxTokens(),
        ParamNotes = new Dictionary<string, string>
        {
            ["tools"] = "function-calling models only (LiteLLM)",
            ["tool_choice"] = "function-calling models only (LiteLLM)",
            ["parallel_tool_calls"] = "function-calling models only (LiteLLM)",
        },
        Embeddings = true,
    };

    public static CompatibleProviderRow Hyperbolic { get; } = new()
    {
        Name = "hyperbolic",
        DisplayName = "Hyperbolic",
        DefaultApiBase = "https://api.hyperbolic.xyz/v1",
        ApiBaseEnv = "HYPERBOLIC_API_BASE",
        ApiKeyEnv = "HYPERBOLIC_API_KEY",
        ChatParams = ["stream", "temperature", "top_p", "max_tokens", "frequency_penalty", "presence_penalty", "stop", "n", "tools", "tool_choice", "response_format", "seed", "user"],
    };

    public static CompatibleProviderRow Moonshot { get; } = new()
    {
        Name = "moonshot",
        DisplayName = "Moonshot AI (Kimi)",
        DefaultApiBase = "https://api.moonshot.ai/v1",
        ApiBaseEnv = "MOONSHOT_API_BASE",
        ApiKeyEnv = "MOONSHOT_API_KEY",
        RemovedParams = ["functions"],
        Renames = MaxCompletionTokensAsMaxTokens(),
        ParamNotes = new Dictionary<string, string>
        {
            ["temperature"] = "Kimi takes 0-1 and rejects temperature < 0.3 with n > 1; LiteLLM clamps, LLMux forwards the value (Moonshot answers a 400)",
            ["tool_choice"] = "Kimi rejects \"required\" (LiteLLM replaces it with an extra user message; LLMux forwards it and Moonshot answers a 400)",
            ["tools"] = "not for kimi-thinking-preview",
        },
        Notes = ["China accounts: api_base `https://api.moonshot.cn/v1`"],
    };

    public static CompatibleProviderRow DashScope { get; } = new()
    {
        Name = "dashscope",
        DisplayName = "Alibaba Cloud DashScope (Qwen)",
        DefaultApiBase = "https://dashscope.aliyuncs.com/compatible-mode/v1",
        ApiBaseEnv = "DASHSCOPE_API_BASE",
        ApiKeyEnv = "DASHSCOPE_API_KEY",
        Notes = ["international accounts: api_base `https://dashscope-intl.aliyuncs.com/compatible-mode/v1`"],
    };

    public static CompatibleProviderRow ZAI { get; } = new()
    {
        Name = "zai",
        DisplayName = "Z.AI (GLM)",
        DefaultApiBase = "https://api.z.ai/api/paas/v4",
        ApiBaseEnv = "ZAI_API_BASE",
        ApiKeyEnv = "ZAI_API_KEY",
        ChatParams = ["max_tokens", "stream", "stream_options", "temperature", "top_p", "stop", "tools", "tool_choice", "thinking"],
        ParamNotes = new Dictionary<string, string> { ["thinking"] = ReasoningOnly },
        Notes = ["the base has no `/v1`: `https://api.z.ai/api/paas/v4/chat/completions`; coding-plan keys use `https://api.z.ai/api/coding/paas/v4`, China accounts `https://open.bigmodel.cn/api/paas/v4`"],
    };

    public static CompatibleProviderRow VolcEngine { get; } = new()
    {
        Name = "volcengine",
        DisplayName = "Volcano Engine (Ark)",
        DefaultApiBase = "https://ark.cn-beijing.volces.com/api/v3",
        ApiBaseEnv = "VOLCENGINE_API_BASE",
        ApiKeyEnv = "VOLCENGINE_API_KEY",
        ChatParams = ["frequency_penalty", "logit_bias", "logprobs", "top_logprobs", "max_completion_tokens", "max_tokens", "n", "presence_penalty", "seed", "stop", "stream", "stream_options", "temperature", "top_p", "tools", "tool_choice", "function_call", "functions", "max_retries", "extra_headers", "thinking"],
        Renames = MaxCompletionTokensAsMaxTokens(),
        ParamNotes = new Dictionary<string, string> { ["thinking"] = "Ark's own shape {\"type\":\"enabled\"|\"disabled\"|\"auto\"}" },
        Embeddings = true,
        Notes = ["the base ends in `/api/v3`: `https://ark.cn-beijing.volces.com/api/v3/chat/completions` and `/embeddings`; model is the endpoint or model id"],
    };

    public static CompatibleProviderRow MiniMax { get; } = new()
    {
        Name = "minimax",
        DisplayName = "MiniMax",
        DefaultApiBase = "https://api.minimax.io/v1",
        ApiBaseEnv = "MINIMAX_API_BASE",
        ApiKeyEnv = "MINIMAX_API_KEY",
        AddedParams = ["reasoning_split", "thinking"],
        Notes = ["China accounts: api_base `https://api.minimaxi.com/v1`"],
    };

    public static CompatibleProviderRow OVHcloud { get; } = new()
    {
        Name = "ovhcloud",
        DisplayName = "OVHcloud AI Endpoints",
        DefaultApiBase = "https://oai.endpoints.kepler.ai.cloud.ovh.net/v1",
        ApiBaseEnv = "OVHCLOUD_API_BASE",
        ApiKeyEnv = "OVHCLOUD_API_KEY",
        ParamNotes = new Dictionary<string, string>
        {
            ["tools"] = "function-calling models of the OVHcloud catalog only (LiteLLM)",
            ["tool_choice"] = "function-calling models of the OVHcloud catalog only (LiteLLM)",
        },
        Embeddings = true,
    };

    public static CompatibleProviderRow Nebius { get; } = new()
    {
        Name = "nebius",
        DisplayName = "Nebius AI Studio",
        DefaultApiBase = "https://api.studio.nebius.ai/v1",
        ApiBaseEnv = "NEBIUS_API_BASE",
        ApiKeyEnv = "NEBIUS_API_KEY",
        Renames = MaxCompletionTokensAsMaxTokens(),
        Embeddings = true,
        Notes = ["LiteLLM's base `https://api.studio.nebius.ai/v1`; Nebius now names the service Token Factory at `https://api.tokenfactory.nebius.com/v1` (set api_base to use it)"],
    };

    public static CompatibleProviderRow Wandb { get; } = new()
    {
        Name = "wandb",
        DisplayName = "Weights & Biases Inference",
        DefaultApiBase = "https://api.inference.wandb.ai/v1",
        ApiBaseEnv = "WANDB_API_BASE",
        ApiKeyEnv = "WANDB_API_KEY",
        Renames = MaxCompletionTokensAsMaxTokens(),
    };

    public static CompatibleProviderRow GradientAI { get; } = new()
    {
        Name = "gradient_ai",
        DisplayName = "DigitalOcean Gradient AI",
        DefaultApiBase = "https://inference.do-ai.run/v1",
        ApiKeyEnv = "GRADIENT_AI_API_KEY",
        ChatParams = ["frequency_penalty", "max_tokens", "max_completion_tokens", "presence_penalty", "stop", "stream", "stream_options", "temperature", "top_p", "k", "kb_filters", "filter_kb_content_by_query_metadata", "instruction_override", "include_functions_info", "include_retrieval_info", "include_guardrails_info", "provide_citations", "retrieval_method"],
        Notes = ["serverless inference at `https://inference.do-ai.run/v1`; for an agent endpoint set api_base to `https://<agent>.agents.do-ai.run/api/v1` (LiteLLM adds `/api/v1` itself)"],
    };

    public static CompatibleProviderRow AIML { get; } = new()
    {
        Name = "aiml",
        DisplayName = "AI/ML API",
        DefaultApiBase = "https://api.aimlapi.com/v1",
        ApiBaseEnv = "AIML_API_BASE",
        ApiKeyEnv = "AIML_API_KEY",
    };

    public static CompatibleProviderRow GMI { get; } = new()
    {
        Name = "gmi",
        DisplayName = "GMI Cloud",
        DefaultApiBase = "https://api.gmi-serving.com/v1",
        ApiBaseEnv = "GMI_API_BASE",
        ApiKeyEnv = "GMI_API_KEY",
    };

    public static CompatibleProviderRow GitHubModels { get; } = new()
    {
        Name = "github",
        DisplayName = "GitHub Models",
        DefaultApiBase = "https://models.inference.ai.azure.com",
        ApiBaseEnv = "GITHUB_API_BASE",
        ApiKeyEnv = "GITHUB_API_KEY",
        Notes = ["LiteLLM's base `https://models.inference.ai.azure.com`; GitHub's current API is `https://models.github.ai/inference` with `publisher/model` ids (set api_base to use it); the key is a GitHub token with the `models` scope"],
    };

    public static CompatibleProviderRow Cloudflare { get; } = new()
    {
        Name = "cloudflare",
        DisplayName = "Cloudflare Workers AI (OpenAI-compatible endpoint)",
        ApiBaseEnv = "CLOUDFLARE_API_BASE",
        ApiKeyEnv = "CLOUDFLARE_API_KEY",
        UrlStyle = CompatibleUrlStyle.CloudflareAccount,
        Embeddings = true,
        Notes =
        [
            "`{api_base}/chat/completions` on Workers AI's OpenAI-compatible endpoint; with no api_base, `https://api.cloudflare.com/client/v4/accounts/{CLOUDFLARE_ACCOUNT_ID}/ai/v1`",
            "a LiteLLM api_base ending in `/ai/run/` (its native endpoint) is sent to the same account's `/ai/v1` instead; model ids such as `@cf/meta/llama-3.1-8b-instruct` pass unchanged",
        ],
    };

    public static CompatibleProviderRow HuggingFace { get; } = new()
    {
        Name = "huggingface",
        DisplayName = "Hugging Face Inference Providers (router)",
        DefaultApiBase = "https://router.huggingface.co/v1",
        ApiBaseEnv = "HUGGINGFACE_API_BASE",
        ApiKeyEnv = "HUGGINGFACE_API_KEY",
        RemovedParams = ["max_retries"],
        Notes =
        [
            "`huggingface/org/model` or `huggingface/org/model:provider` (the router picks the provider after `:`)",
            "LiteLLM's `huggingface/<provider>/org/model` needs a Hub look-up of the provider's own id that LLMux does not make; write `org/model:<provider>` instead",
        ],
    };

    public static CompatibleProviderRow NvidiaNim { get; } = new()
    {
        Name = "nvidia_nim",
        DisplayName = "NVIDIA NIM",
        DefaultApiBase = "https://integrate.api.nvidia.com/v1",
        ApiBaseEnv = "NVIDIA_NIM_API_BASE",
        ApiKeyEnv = "NVIDIA_NIM_API_KEY",
        ChatParams = ["stream", "temperature", "top_p", "frequency_penalty", "presence_penalty", "max_tokens", "max_completion_tokens", "stop", "seed", "tools", "tool_choice", "parallel_tool_calls", "response_format"],
        Renames = MaxCompletionTokensAsMaxTokens(),
        ParamNotes = new Dictionary<string, string> { ["tools"] = "models with tool calling only; LiteLLM narrows the list for some older models" },
        Embeddings = true,
    };

    public static CompatibleProviderRow LiteLLMProxy { get; } = new()
    {
        Name = "litellm_proxy",
        DisplayName = "LiteLLM proxy",
        ApiBaseEnv = "LITELLM_PROXY_API_BASE",
        ApiKeyEnv = "LITELLM_PROXY_API_KEY",
        AddedParams = ["thinking"],
        NativeResponses = true,
        Embeddings = true,
        Notes = ["another LiteLLM (or LLMux) gateway: api_base is its `/v1` root (`http://host:4000/v1`), the model its public model_name"],
    };

    public static CompatibleProviderRow MetaLlama { get; } = new()
    {
        Name = "meta_llama",
        DisplayName = "Meta Llama API",
        DefaultApiBase = "https://api.llama.com/compat/v1",
        ApiBaseEnv = "LLAMA_API_BASE",
        ApiKeyEnv = "LLAMA_API_KEY",
        ParamNotes = new Dictionary<string, string> { ["response_format"] = "json_schema only (LiteLLM drops other types)" },
    };

    public static CompatibleProviderRow FriendliAI { get; } = new()
    {
        Name = "friendliai",
        DisplayName = "FriendliAI",
        DefaultApiBase = "https://api.friendli.ai/serverless/v1",
        ApiBaseEnv = "FRIENDLIAI_API_BASE",
        ApiKeyEnv = "FRIENDLIAI_API_KEY",
    };

    public static CompatibleProviderRow FeatherlessAI { get; } = new()
    {
        Name = "featherless_ai",
        DisplayName = "Featherless AI",
        DefaultApiBase = "https://api.featherless.ai/v1",
        ApiBaseEnv = "FEATHERLESS_API_BASE",
        ApiKeyEnv = "FEATHERLESS_API_KEY",
        ChatParams = ["stream", "frequency_penalty", "function_call", "functions", "logit_bias", "max_tokens", "max_completion_tokens", "n", "presence_penalty", "stop", "temperature", "top_p"],
        Renames = MaxCompletionTokensAsMaxTokens(),
        ParamNotes = new Dictionary<string, string> { ["tools"] = "Featherless has no tool calling" },
    };

    public static CompatibleProviderRow Codestral { get; } = new()
    {
        Name = "codestral",
        DisplayName = "Mistral Codestral",
        DefaultApiBase = "https://codestral.mistral.ai/v1",
        ApiBaseEnv = "CODESTRAL_API_BASE",
        ApiKeyEnv = "CODESTRAL_API_KEY",
        ChatParams = CompatibleProviderRows.Mistral.ChatParams,
        Renames = CompatibleProviderRows.Mistral.Renames,
        ValueRewrites = CompatibleProviderRows.Mistral.ValueRewrites,
        ParamNotes = new Dictionary<string, string> { ["tool_choice"] = "\"required\" is sent as \"any\"" },
        Notes = ["Mistral's API on the Codestral host (LiteLLM routes `codestral/` chat through its Mistral config)"],
    };

    public static CompatibleProviderRow Heroku { get; } = new()
    {
        Name = "heroku",
        DisplayName = "Heroku Managed Inference",
        ApiBaseEnv = "HEROKU_API_BASE",
        ApiKeyEnv = "HEROKU_API_KEY",
        UrlStyle = CompatibleUrlStyle.HostRootV1,
        Notes = ["api_base is the add-on's INFERENCE_URL host root (no default); LLMux calls `{api_base}/v1/chat/completions`"],
    };

    public static CompatibleProviderRow Lemonade { get; } = new()
    {
        Name = "lemonade",
        DisplayName = "Lemonade (local server)",
        DefaultApiBase = "http://localhost:8000/api/v1",
        ApiBaseEnv = "LEMONADE_API_BASE",
        DefaultApiKey = "lemonade",
        Notes = ["a local server that needs no key; LLMux sends `Bearer lemonade` as LiteLLM does"],
    };

    public static CompatibleProviderRow PublicAI { get; } = new()
    {
        Name = "publicai",
        DisplayName = "PublicAI",
        DefaultApiBase = "https://api.publicai.co/v1",
        ApiBaseEnv = "PUBLICAI_API_BASE",
        ApiKeyEnv = "PUBLICAI_API_KEY",
        Renames = MaxCompletionTokensAsMaxTokens(),
        Notes = ["LiteLLM flattens list content to a string for PublicAI; LLMux sends content as the client wrote it"],
    };

    public static CompatibleProviderRow LlamaGate { get; } = new()
    {
        Name = "llamagate",
        DisplayName = "LlamaGate",
        DefaultApiBase = "https://api.llamagate.dev/v1",
        ApiKeyEnv = "LLAMAGATE_API_KEY",
        Renames = MaxCompletionTokensAsMaxTokens(),
        Embeddings = true,
    };

    public static CompatibleProviderRow V0 { get; } = new()
    {
        Name = "v0",
        DisplayName = "v0 (Vercel)",
        DefaultApiBase = "https://api.v0.dev/v1",
        ApiBaseEnv = "V0_API_BASE",
        ApiKeyEnv = "V0_API_KEY",
        ChatParams = ["stream", "tools", "tool_choice"],
    };

    public static CompatibleProviderRow Morph { get; } = new()
    {
        Name = "morph",
        DisplayName = "Morph",
        DefaultApiBase = "https://api.morphllm.com/v1",
        ApiBaseEnv = "MORPH_API_BASE",
        ApiKeyEnv = "MORPH_API_KEY",
        ChatParams = ["stream"],
    };

    public static CompatibleProviderRow Databricks { get; } = new()
    {
        Name = "databricks",
        DisplayName = "Databricks Model Serving",
        ApiBaseEnv = "DATABRICKS_API_BASE",
        ApiKeyEnv = "DATABRICKS_API_KEY",
        ChatParams = ["stream", "stop", "temperature", "top_p", "max_tokens", "max_completion_tokens", "n", "response_format", "tools", "tool_choice", "reasoning_effort", "thinking"],
        ParamNotes = new Dictionary<string, string>
        {
            ["thinking"] = "Claude serving endpoints only",
            ["reasoning_effort"] = "reasoning serving endpoints only",
        },
        Embeddings = true,
        Notes =
        [
            "`databricks/<serving endpoint name>`; api_base is the workspace's `https://<workspace>/serving-endpoints` (no default); LLMux calls `{api_base}/chat/completions` and `/embeddings`",
            "auth: a personal access token written as the deployment's `api_key` (`Bearer`); else OAuth M2M with a service principal (`databricks_client_id` / `databricks_client_secret`, or DATABRICKS_CLIENT_ID / DATABRICKS_CLIENT_SECRET): client credentials at `{workspace}/oidc/v1/token`, scope `all-apis`, the token kept until a minute before it expires; else DATABRICKS_API_KEY",
        ],
    };

    public static CompatibleProviderRow AI21 { get; } = new()
    {
        Name = "ai21",
        DisplayName = "AI21 Studio (Jamba)",
        Aliases = ["ai21_chat"],
        DefaultApiBase = "https://api.ai21.com/studio/v1",
        ApiBaseEnv = "AI21_API_BASE",
        ApiKeyEnv = "AI21_API_KEY",
        ChatParams = ["tools", "response_format", "max_tokens", "max_completion_tokens", "temperature", "stop", "n", "stream", "seed", "tool_choice"],
        Renames = MaxCompletionTokensAsMaxTokens(),
        Notes = ["Jamba chat at `https://api.ai21.com/studio/v1/chat/completions` (LiteLLM's ai21_chat); the retired J2 completion models are not routed"],
    };

    public static CompatibleProviderRow AmazonNova { get; } = new()
    {
        Name = "amazon_nova",
        DisplayName = "Amazon Nova API",
        DefaultApiBase = "https://api.nova.amazon.com/v1",
        ApiBaseEnv = "AMAZON_NOVA_API_BASE",
        ApiKeyEnv = "AMAZON_NOVA_API_KEY",
        Notes = ["the Nova API's own endpoint with an API key; Nova through an AWS account is `bedrock/`"],
    };

    /// <summary>Every hosted row, in the order they register.</summary>
    public static IReadOnlyList<CompatibleProviderRow> All { get; } =
    [
        Novita, VercelAIGateway, LambdaAI, Nscale, SambaNova, Hyperbolic, Moonshot, DashScope, ZAI, VolcEngine, MiniMax, OVHcloud,
        Nebius, Wandb, GradientAI, AIML, GMI, GitHubModels, Cloudflare, HuggingFace, NvidiaNim, LiteLLMProxy, MetaLlama, FriendliAI,
        FeatherlessAI, Codestral, Heroku, Lemonade, PublicAI, LlamaGate, V0, Morph, Databricks, AI21, AmazonNova,
    ];
}
