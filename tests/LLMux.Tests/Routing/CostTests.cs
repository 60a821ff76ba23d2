using System.Text;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Wire;
using LLMux.Providers.OpenAI;
using LLMux.Stages.Accounting;
using LLMux.Tests.Infrastructure;

namespace LLMux.Tests.Routing;

/// <summary>Costs against figures computed by hand from the price table.</summary>
public sealed class CostTests
{
    private static readonly CostCalculator Costs = new(PriceTable.Default);

    private static Deployment D(string provider, string model, decimal? input = null, decimal? output = null) => new()
    {
        ModelName = "m",
        Model = provider + "/" + model,
        ProviderName = provider,
        UpstreamModel = model,
        Provider = new OpenAIProvider(),
        Id = "d1",
        InputCostPerToken = input,
        OutputCostPerToken = output,
    };

    private static Usage U(long prompt, long completion, long cached = 0, long created = 0, long reasoning = 0) => new()
    {
        PromptTokens = prompt,
        CompletionTokens = completion,
        PromptTokensDetails = new PromptTokensDetails { CachedTokens = cached, CacheCreationTokens = created },
        CompletionTokensDetails = new CompletionTokensDetails { ReasoningTokens = reasoning },
    };

    [Fact]
    public void Openai_cached_prompt_tokens_are_priced_at_the_cache_read_price()
    {
        // 800 × 0.15 $/M + 200 × 0.075 $/M + 500 × 0.60 $/M
        Assert.Equal(0.000435m, Costs.Cost(D("openai", "gpt-4o-mini"), U(1000, 500, cached: 200)));
    }

    [Fact]
    public void Anthropic_cache_writes_and_reads_have_their_own_prices()
    {
        // prompt 1500 = 1000 input + 300 cache creation + 200 cache read
        // 1000 × 3 + 200 × 0.30 + 300 × 3.75 (per M) + 400 × 15 per M
        Assert.Equal(0.010185m, Costs.Cost(D("anthropic", "claude-sonnet-4-5"), U(1500, 400, cached: 200, created: 300)));
    }

    [Fact]
    public void Gemini_reasoning_tokens_use_the_reasoning_price()
    {
        // 100 × 0.30 + 100 × 2.50 + 200 × 2.50 (reasoning) per M
        Assert.Equal(0.00078m, Costs.Cost(D("gemini", "gemini-2.5-flash"), U(100, 300, reasoning: 200)));
    }

    [Fact]
    public void Bedrock_cross_region_profile_is_priced_as_its_base_model()
    {
        Assert.Equal(0.0075m, Costs.Cost(D("bedrock", "us.anthropic.claude-3-5-sonnet-20240620-v1:0"), U(2000, 100)));
    }

    [Fact]
    public void Prompt_above_200k_switches_to_the_tier_prices()
    {
        // 250,000 × 2.50 + 1,000 × 15 per M
        Assert.Equal(0.64m, Costs.Cost(D("gemini", "gemini-2.5-pro"), U(250_000, 1000)));
        Assert.Equal(0.0225m, Costs.Cost(D("gemini", "gemini-2.5-pro"), U(10_000, 1000)));
    }

    [Fact]
    public void Custom_deployment_prices_override_the_table()
    {
        Assert.Equal(0.02m, Costs.Cost(D("openai", "gpt-4o-mini", input: 0.001m, output: 0.002m), U(10, 5)));
        Assert.Equal(0.02m, Costs.Cost(D("openai", "my-private-model", input: 0.001m, output: 0.002m), U(10, 5)));
    }

    [Fact]
    public void Unknown_model_has_no_cost()
    {
        Assert.Null(Costs.Cost(D("openai", "no-such-model-anywhere"), U(10, 5)));
    }

    [Fact]
    public async Task Non_stream_answer_carries_its_cost_header()
    {
        await using var gw = await GatewayHost.StartAsync("""
            model_list:
              - model_name: priced
                litellm_params:
                  model: mock/gpt-4o-mini
                  input_cost_per_token: 0.001
                  output_cost_per_token: 0.002
            """);
        using var response = await gw.Http.PostAsync("/v1/chat/completions", new StringContent("""{"model":"priced","messages":[{"role":"user","content":"one two three"}],"mock_response":"a b"}""", Encoding.UTF8, "application/json"));
        // The mock counts 3 words + 3 per message = 6 prompt tokens, and 2 completion tokens.
        Assert.Equal("0.01", response.Headers.GetValues("x-llmux-response-cost").Single());
    }
}
