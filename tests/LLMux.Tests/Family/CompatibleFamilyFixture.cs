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
    string? ApiVersion = null)
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
                yaml.Append("      api_base: ").Append(c.RootApiBase ? Upstream.Root.ToString().TrimEnd('/') : Upstream.ApiBase).Append('\n');
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
