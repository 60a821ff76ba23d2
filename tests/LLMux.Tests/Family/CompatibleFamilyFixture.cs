using System.Text;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;

namespace LLMux.Tests.Family;

/// <summary>What one family member's upstream must see.</summary>
public sealed record FamilyCase(
    string Provider,
    string Model,
    string UpstreamModel,
    bool RootApiBase,
    string ChatPath,
    string? Query,
    string AuthHeader,
    string AuthValue,
    string? EmbeddingsPath,
    string? ApiKey = "sk-upstream-secret",
    string? ApiVersion = null,
    string? ApiBasePath = null)
{
    public override string ToString() => Provider;
}

/// <summary>One OpenAI emulator and one gateway with a chat and (where supported) an embeddings deployment per family member.</summary>
public sealed class CompatibleFamilyFixture : IAsyncLifetime
{
    public static readonly FamilyCase[] Cases =
    [
        new("azure", "azure/my-gpt4o", "my-gpt4o", true, "/openai/deployments/my-gpt4o/chat/completions", "?api-version=2024-10-21", "api-key", "sk-upstream-secret",
            "/openai/deployments/my-gpt4o/embeddings", ApiVersion: "2024-10-21"),
        new("azure_ai", "azure_ai/mistral-large", "mistral-large", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", "/v1/embeddings"),
        new("groq", "groq/llama-3.3-70b-versatile", "llama-3.3-70b-versatile", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", null),
        new("deepseek", "deepseek/deepseek-reasoner", "deepseek-reasoner", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", null),
        new("mistral", "mistral/mistral-small-latest", "mistral-small-latest", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", "/v1/embeddings"),
        new("xai", "xai/grok-3", "grok-3", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", null),
        new("openrouter", "openrouter/meta-llama/llama-3-70b-instruct", "meta-llama/llama-3-70b-instruct", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", "/v1/embeddings"),
        new("together_ai", "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo", "meta-llama/Llama-3.3-70B-Instruct-Turbo", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", "/v1/embeddings"),
        new("fireworks_ai", "fireworks_ai/accounts/fireworks/models/llama-v3p1-8b-instruct", "accounts/fireworks/models/llama-v3p1-8b-instruct", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", "/v1/embeddings"),
        new("perplexity", "perplexity/sonar", "sonar", true, "/chat/completions", null, "authorization", "Bearer sk-upstream-secret", null),
        new("cerebras", "cerebras/llama3.1-8b", "llama3.1-8b", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", null),
        new("deepinfra", "deepinfra/meta-llama/Meta-Llama-3.1-8B-Instruct", "meta-llama/Meta-Llama-3.1-8B-Instruct", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", "/v1/embeddings"),
        new("hosted_vllm", "hosted_vllm/Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-7B-Instruct", false, "/v1/chat/completions", null, "authorization", "Bearer fake-api-key", "/v1/embeddings", ApiKey: null),
        new("lm_studio", "lm_studio/qwen2.5-7b-instruct", "qwen2.5-7b-instruct", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", "/v1/embeddings"),
        new("ollama", "ollama/llama3.2", "llama3.2", true, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", "/v1/embeddings"),
        // Hosted rows (HostedCompatibleRows): bases without `/v1` are served under their own path, so the join is checked too.
        new("novita", "novita/deepseek/deepseek-r1", "deepseek/deepseek-r1", false, "/v3/openai/chat/completions", null, "authorization", "Bearer sk-upstream-secret", null, ApiBasePath: "/v3/openai"),
        new("vercel_ai_gateway", "vercel_ai_gateway/openai/gpt-4o", "openai/gpt-4o", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", "/v1/embeddings"),
        new("lambda_ai", "lambda_ai/llama3.3-70b-instruct-fp8", "llama3.3-70b-instruct-fp8", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", null),
        new("nscale", "nscale/Qwen/Qwen3-235B-A22B", "Qwen/Qwen3-235B-A22B", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", null),
        new("sambanova", "sambanova/Meta-Llama-3.3-70B-Instruct", "Meta-Llama-3.3-70B-Instruct", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", "/v1/embeddings"),
        new("hyperbolic", "hyperbolic/deepseek-ai/DeepSeek-V3", "deepseek-ai/DeepSeek-V3", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", null),
        new("moonshot", "moonshot/kimi-k2-0905-preview", "kimi-k2-0905-preview", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", null),
        new("dashscope", "dashscope/qwen-plus", "qwen-plus", false, "/compatible-mode/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", null, ApiBasePath: "/compatible-mode/v1"),
        new("zai", "zai/glm-4.6", "glm-4.6", false, "/api/paas/v4/chat/completions", null, "authorization", "Bearer sk-upstream-secret", null, ApiBasePath: "/api/paas/v4"),
        new("volcengine", "volcengine/doubao-seed-1-6-250615", "doubao-seed-1-6-250615", false, "/api/v3/chat/completions", null, "authorization", "Bearer sk-upstream-secret", "/api/v3/embeddings", ApiBasePath: "/api/v3"),
        new("minimax", "minimax/MiniMax-M2", "MiniMax-M2", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", null),
        new("ovhcloud", "ovhcloud/Meta-Llama-3_3-70B-Instruct", "Meta-Llama-3_3-70B-Instruct", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", "/v1/embeddings"),
        new("nebius", "nebius/Qwen/Qwen3-235B-A22B", "Qwen/Qwen3-235B-A22B", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", "/v1/embeddings"),
        new("wandb", "wandb/openai/gpt-oss-120b", "openai/gpt-oss-120b", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", null),
        new("gradient_ai", "gradient_ai/llama3.3-70b-instruct", "llama3.3-70b-instruct", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", null),
        new("aiml", "aiml/gpt-4o", "gpt-4o", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", null),
        new("gmi", "gmi/deepseek-ai/DeepSeek-V3.2", "deepseek-ai/DeepSeek-V3.2", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", null),
        new("github", "github/openai/gpt-4.1", "openai/gpt-4.1", false, "/inference/chat/completions", null, "authorization", "Bearer sk-upstream-secret", null, ApiBasePath: "/inference"),
        new("cloudflare", "cloudflare/@cf/meta/llama-3.1-8b-instruct", "@cf/meta/llama-3.1-8b-instruct", false, "/client/v4/accounts/acct-1/ai/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", "/client/v4/accounts/acct-1/ai/v1/embeddings", ApiBasePath: "/client/v4/accounts/acct-1/ai/run/"),
        new("huggingface", "huggingface/deepseek-ai/DeepSeek-R1:together", "deepseek-ai/DeepSeek-R1:together", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", null),
        new("nvidia_nim", "nvidia_nim/meta/llama-3.1-8b-instruct", "meta/llama-3.1-8b-instruct", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", "/v1/embeddings"),
        new("litellm_proxy", "litellm_proxy/my-team-gpt", "my-team-gpt", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", "/v1/embeddings"),
        new("meta_llama", "meta_llama/Llama-4-Maverick-17B-128E-Instruct-FP8", "Llama-4-Maverick-17B-128E-Instruct-FP8", false, "/compat/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", null, ApiBasePath: "/compat/v1"),
        new("friendliai", "friendliai/meta-llama-3.1-8b-instruct", "meta-llama-3.1-8b-instruct", false, "/serverless/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", null, ApiBasePath: "/serverless/v1"),
        new("featherless_ai", "featherless_ai/Qwen/Qwen2.5-72B-Instruct", "Qwen/Qwen2.5-72B-Instruct", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", null),
        new("codestral", "codestral/codestral-latest", "codestral-latest", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", null),
        new("heroku", "heroku/claude-4-sonnet", "claude-4-sonnet", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", null, ApiBasePath: ""),
        new("lemonade", "lemonade/Qwen3-4B-GGUF", "Qwen3-4B-GGUF", false, "/api/v1/chat/completions", null, "authorization", "Bearer lemonade", null, ApiBasePath: "/api/v1", ApiKey: null),
        new("publicai", "publicai/swiss-ai/apertus-8b-instruct", "swiss-ai/apertus-8b-instruct", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", null),
        new("llamagate", "llamagate/llama-3.1-8b", "llama-3.1-8b", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", "/v1/embeddings"),
        new("v0", "v0/v0-1.5-md", "v0-1.5-md", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", null),
        new("morph", "morph/morph-v3-fast", "morph-v3-fast", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", null),
        new("databricks", "databricks/databricks-claude-3-7-sonnet", "databricks-claude-3-7-sonnet", false, "/serving-endpoints/chat/completions", null, "authorization", "Bearer sk-upstream-secret", "/serving-endpoints/embeddings", ApiBasePath: "/serving-endpoints"),
        new("ai21", "ai21/jamba-large-1.7", "jamba-large-1.7", false, "/studio/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", null, ApiBasePath: "/studio/v1"),
        new("amazon_nova", "amazon_nova/nova-pro-v1", "nova-pro-v1", false, "/v1/chat/completions", null, "authorization", "Bearer sk-upstream-secret", null),
    ];

    public static IEnumerable<object[]> All() => Cases.Select(static c => new object[] { c });

    public static IEnumerable<object[]> WithEmbeddings() => Cases.Where(static c => c.EmbeddingsPath is not null).Select(static c => new object[] { c });

    public OpenAIEmulator Upstream { get; private set; } = null!;
    public GatewayHost Gateway { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Upstream = await OpenAIEmulator.StartNewAsync();
        var yaml = new StringBuilder("router_settings:\n  num_retries: 0\nmodel_list:\n");
        foreach (var c in Cases)
        {
            foreach (var kind in new[] { "chat", "embed" })
            {
                if (kind == "embed" && c.EmbeddingsPath is null) continue;
                yaml.Append("  - model_name: ").Append(c.Provider).Append('-').Append(kind).Append('\n');
                yaml.Append("    litellm_params:\n");
                yaml.Append("      model: ").Append(c.Model).Append('\n');
                var apiBase = c.ApiBasePath is { } path ? Upstream.Root.ToString().TrimEnd('/') + path : c.RootApiBase ? Upstream.Root.ToString().TrimEnd('/') : Upstream.ApiBase;
                yaml.Append("      api_base: \"").Append(apiBase).Append("\"\n");
                if (c.ApiKey is not null) yaml.Append("      api_key: ").Append(c.ApiKey).Append('\n');
                if (c.ApiVersion is not null) yaml.Append("      api_version: \"").Append(c.ApiVersion).Append("\"\n");
            }
        }
        Gateway = await GatewayHost.StartAsync(yaml.ToString());
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}
