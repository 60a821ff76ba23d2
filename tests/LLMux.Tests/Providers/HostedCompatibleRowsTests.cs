using System.Collections.Frozen;
using System.Text;
using System.Text.Json;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;
using LLMux.Providers;
using Microsoft.Extensions.Time.Testing;

namespace LLMux.Tests.ProviderRows;

/// <summary>
/// The hosted OpenAI-compatible rows without an api_base: each calls the URL its provider documents, with a Bearer
/// key, and sends the body with its parameter renames. (The end-to-end family tests cover the same rows against the
/// emulator through the host.)
/// </summary>
public sealed class HostedCompatibleRowsTests
{
    private static readonly ProviderCatalog Catalog = new();

    private static LlmContext Context(string provider, string model, string json = """{"model":"m","messages":[{"role":"user","content":"hi"}]}""", Dictionary<string, string>? settings = null, string? apiKey = "sk-row-test")
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var chat = JsonSerializer.Deserialize(bytes, WireJson.Default.ChatRequest)!;
        var llm = Catalog.Find(provider) ?? throw new InvalidOperationException("no provider " + provider);
        return new LlmContext
        {
            Mode = LlmMode.Chat,
            Body = bytes,
            Chat = chat,
            IsStream = chat.IsStream,
            TimeProvider = new FakeTimeProvider(),
            Deployment = new Deployment
            {
                ModelName = "m",
                Model = provider + "/" + model,
                ProviderName = provider,
                UpstreamModel = model,
                Provider = llm.ForModel(model),
                Id = "dep",
                ApiKey = Secret.From(apiKey),
                Settings = (settings ?? []).ToFrozenDictionary(),
            },
        };
    }

    // Each URL is the chat endpoint in the provider's public API reference (or LiteLLM's default where the row notes a difference).
    [Theory]
    [InlineData("novita", "https://api.novita.ai/v3/openai/chat/completions")]
    [InlineData("vercel_ai_gateway", "https://ai-gateway.vercel.sh/v1/chat/completions")]
    [InlineData("lambda_ai", "https://api.lambda.ai/v1/chat/completions")]
    [InlineData("nscale", "https://inference.api.nscale.com/v1/chat/completions")]
    [InlineData("sambanova", "https://api.sambanova.ai/v1/chat/completions")]
    [InlineData("hyperbolic", "https://api.hyperbolic.xyz/v1/chat/completions")]
    [InlineData("moonshot", "https://api.moonshot.ai/v1/chat/completions")]
    [InlineData("dashscope", "https://dashscope.aliyuncs.com/compatible-mode/v1/chat/completions")]
    [InlineData("zai", "https://api.z.ai/api/paas/v4/chat/completions")]
    [InlineData("volcengine", "https://ark.cn-beijing.volces.com/api/v3/chat/completions")]
    [InlineData("minimax", "https://api.minimax.io/v1/chat/completions")]
    [InlineData("ovhcloud", "https://oai.endpoints.kepler.ai.cloud.ovh.net/v1/chat/completions")]
    [InlineData("nebius", "https://api.studio.nebius.ai/v1/chat/completions")]
    [InlineData("wandb", "https://api.inference.wandb.ai/v1/chat/completions")]
    [InlineData("gradient_ai", "https://inference.do-ai.run/v1/chat/completions")]
    [InlineData("aiml", "https://api.aimlapi.com/v1/chat/completions")]
    [InlineData("gmi", "https://api.gmi-serving.com/v1/chat/completions")]
    [InlineData("github", "https://models.inference.ai.azure.com/chat/completions")]
    [InlineData("huggingface", "https://router.huggingface.co/v1/chat/completions")]
    [InlineData("nvidia_nim", "https://integrate.api.nvidia.com/v1/chat/completions")]
    [InlineData("meta_llama", "https://api.llama.com/compat/v1/chat/completions")]
    [InlineData("friendliai", "https://api.friendli.ai/serverless/v1/chat/completions")]
    [InlineData("featherless_ai", "https://api.featherless.ai/v1/chat/completions")]
    [InlineData("codestral", "https://codestral.mistral.ai/v1/chat/completions")]
    [InlineData("lemonade", "http://localhost:8000/api/v1/chat/completions")]
    [InlineData("publicai", "https://api.publicai.co/v1/chat/completions")]
    [InlineData("llamagate", "https://api.llamagate.dev/v1/chat/completions")]
    [InlineData("v0", "https://api.v0.dev/v1/chat/completions")]
    [InlineData("morph", "https://api.morphllm.com/v1/chat/completions")]
    [InlineData("ai21", "https://api.ai21.com/studio/v1/chat/completions")]
    [InlineData("amazon_nova", "https://api.nova.amazon.com/v1/chat/completions")]
    public void Without_an_api_base_the_row_calls_its_providers_documented_endpoint_with_a_bearer_key(string provider, string url)
    {
        using var request = Catalog.Find(provider)!.CreateRequest(Context(provider, "some-model"));
        Assert.Equal(url, request.RequestUri!.ToString());
        Assert.Equal("Bearer sk-row-test", string.Join(",", request.Headers.GetValues("Authorization")));
    }

    [Fact]
    public void Cloudflare_builds_its_account_url_when_no_api_base_is_set()
    {
        using var request = Catalog.Find("cloudflare")!.CreateRequest(Context("cloudflare", "@cf/meta/llama-3.1-8b-instruct", settings: new() { ["cloudflare_account_id"] = "acct-42" }));
        Assert.Equal("https://api.cloudflare.com/client/v4/accounts/acct-42/ai/v1/chat/completions", request.RequestUri!.ToString());
    }

    [Theory]
    [InlineData("litellm_proxy")]
    [InlineData("heroku")]
    [InlineData("databricks")]
    public void A_row_with_no_default_base_asks_for_one(string provider)
    {
        var ex = Assert.Throws<LlmException>(() => Catalog.Find(provider)!.CreateRequest(Context(provider, "x")));
        Assert.Equal(ErrorKind.InvalidRequest, ex.Error.Kind);
        Assert.Contains("api_base", ex.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Lemonade_needs_no_key_and_sends_LiteLLMs_placeholder()
    {
        using var request = Catalog.Find("lemonade")!.CreateRequest(Context("lemonade", "Qwen3-4B-GGUF", apiKey: null));
        Assert.Equal("Bearer lemonade", string.Join(",", request.Headers.GetValues("Authorization")));
    }

    [Theory]
    [InlineData("sambanova")]
    [InlineData("moonshot")]
    [InlineData("nebius")]
    [InlineData("wandb")]
    [InlineData("volcengine")]
    [InlineData("nvidia_nim")]
    [InlineData("featherless_ai")]
    [InlineData("publicai")]
    public async Task Max_completion_tokens_is_renamed_where_the_provider_takes_max_tokens(string provider)
    {
        using var request = Catalog.Find(provider)!.CreateRequest(Context(provider, "m", """{"model":"m","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":64}"""));
        using var body = JsonDocument.Parse(await request.Content!.ReadAsByteArrayAsync());
        Assert.Equal(64, body.RootElement.GetProperty("max_tokens").GetInt32());
        Assert.False(body.RootElement.TryGetProperty("max_completion_tokens", out _));
    }

    [Theory]
    [InlineData("morph", "temperature")]
    [InlineData("v0", "temperature")]
    [InlineData("featherless_ai", "tools")]
    [InlineData("zai", "seed")]
    [InlineData("nscale", "tools")]
    [InlineData("moonshot", "functions")]
    public void A_parameter_outside_the_rows_list_is_not_native(string provider, string param) =>
        Assert.Equal(ParamSupportKind.Dropped, Catalog.Find(provider)!.Spec.RuleFor(LlmMode.Chat, param).Kind);

    [Fact]
    public void Every_hosted_row_is_a_distinct_config_prefix()
    {
        var names = LLMux.Providers.OpenAICompatible.HostedCompatibleRows.All.Select(static r => r.Name).ToArray();
        Assert.Equal(names.Length, names.Distinct(StringComparer.Ordinal).Count());
        foreach (var name in names) Assert.Equal(name, Catalog.Find(name)?.Spec.Name);
        Assert.DoesNotContain(names, n => LLMux.Providers.OpenAICompatible.CompatibleProviderRows.All.Any(r => r.Name == n));
    }
}
