using System.Text.Json;
using LLMux.Tests.Infrastructure;

namespace LLMux.Tests.ProviderRows;

/// <summary>/v1/models for a provider wildcard lists the price table's models of that provider, as LiteLLM's proxy does.</summary>
public sealed class WildcardModelListTests
{
    [Fact]
    public async Task A_provider_wildcard_lists_the_price_tables_models_of_that_provider()
    {
        await using var gateway = await GatewayHost.StartAsync("""
            model_list:
              - model_name: novita/*
                litellm_params:
                  model: novita/*
                  api_key: sk-novita
              - model_name: plain
                litellm_params:
                  model: openai/gpt-4o
                  api_key: sk-openai
            """);
        using var response = await gateway.Http.GetAsync("/v1/models");
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var ids = doc.RootElement.GetProperty("data").EnumerateArray().Select(static m => m.GetProperty("id").GetString()!).ToList();
        Assert.Contains("novita/deepseek/deepseek-v3.2", ids);
        Assert.DoesNotContain("novita/*", ids);
        Assert.Contains("plain", ids);
        Assert.True(ids.Count(static i => i.StartsWith("novita/", StringComparison.Ordinal)) > 20);
        var entry = doc.RootElement.GetProperty("data").EnumerateArray().First(static m => m.GetProperty("id").GetString() == "novita/deepseek/deepseek-v3.2");
        Assert.Equal("chat", entry.GetProperty("mode").GetString());
        Assert.True(entry.GetProperty("context_window").GetInt64() > 0);
    }
}
