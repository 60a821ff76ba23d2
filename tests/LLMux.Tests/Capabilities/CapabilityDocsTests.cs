using System.Net;
using System.Text.Json;
using LLMux.Host.Capabilities;
using LLMux.Pipeline.Capabilities;
using LLMux.Providers;
using LLMux.Tests.Infrastructure;

namespace LLMux.Tests.Capabilities;

/// <summary>docs/capabilities.md, the CLI and <c>GET /v1/capabilities</c> all come from the provider specs.</summary>
public sealed class CapabilityDocsTests
{
    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "LLMux.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("LLMux.sln not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void Docs_capabilities_md_matches_the_specs()
    {
        var path = Path.Combine(RepoRoot(), "docs", "capabilities.md");
        var expected = CapabilityMarkdownWriter.Document(new ProviderCatalog());
        var actual = File.Exists(path) ? File.ReadAllText(path).ReplaceLineEndings("\n") : "";
        Assert.True(expected == actual, $"docs/capabilities.md is stale (the provider specs changed); regenerate it with: {CapabilityMarkdownWriter.Command}");
    }

    [Fact]
    public void The_markdown_lists_every_provider_with_every_mode_and_every_OpenAI_parameter()
    {
        var catalog = new ProviderCatalog();
        var doc = CapabilityMarkdownWriter.Document(catalog);
        foreach (var spec in catalog.Specs)
        {
            var section = CapabilityMarkdownWriter.Provider(spec);
            Assert.Contains($"# `{spec.Name}`", doc);
            foreach (var mode in Enum.GetValues<LlmMode>()) Assert.Contains(mode.Name() + (spec.Supports(mode) ? " ✓" : " ✗"), section);
            if (spec.Supports(LlmMode.Chat))
                foreach (var p in OpenAIParamNames.Chat) Assert.Contains($"| `{p}` | ", section);
            if (spec.Supports(LlmMode.Embeddings))
                foreach (var p in OpenAIParamNames.Embeddings) Assert.Contains($"| `{p}` | ", section);
        }
    }

    [Fact]
    public void Cli_prints_one_providers_table_for_a_provider_slash_model()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = CapabilitiesCommand.Run(new(false, "anthropic/claude-sonnet-4-5"), output, error);
        Assert.Equal(0, code);
        var text = output.ToString();
        Assert.StartsWith("# `anthropic`", text, StringComparison.Ordinal);
        Assert.Contains("| `stop` | mapped | stop_sequences |", text);
        Assert.Contains("| `audio` | rejected |", text);
        Assert.DoesNotContain("# `openai`", text);
    }

    [Fact]
    public void Cli_names_the_known_providers_for_an_unknown_one()
    {
        var error = new StringWriter();
        Assert.Equal(2, CapabilitiesCommand.Run(new(false, "nosuch/model"), new StringWriter(), error));
        Assert.Contains("known providers", error.ToString());
        Assert.Contains("openai", error.ToString());
    }

    [Fact]
    public async Task Get_v1_capabilities_serves_the_matrix_as_json()
    {
        await using var gateway = await GatewayHost.StartAsync("""
            model_list:
              - model_name: mock-gpt
                litellm_params:
                  model: mock/mock-gpt
            """);
        using var response = await gateway.Http.GetAsync("/v1/capabilities");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var providers = doc.RootElement.GetProperty("data").EnumerateArray().ToDictionary(static p => p.GetProperty("provider").GetString()!);
        foreach (var spec in new ProviderCatalog().Specs) Assert.True(providers.ContainsKey(spec.Name), spec.Name + " missing");
        var anthropic = providers["anthropic"];
        Assert.Equal("supported", anthropic.GetProperty("modes").GetProperty("chat").GetString());
        Assert.Equal("rejected", anthropic.GetProperty("modes").GetProperty("embeddings").GetString());
        var stop = anthropic.GetProperty("params").GetProperty("chat").GetProperty("stop");
        Assert.Equal("mapped", stop.GetProperty("support").GetString());
        Assert.Equal("stop_sequences", stop.GetProperty("maps_to").GetString());
        Assert.Equal("native", providers["openai"].GetProperty("params").GetProperty("embeddings").GetProperty("dimensions").GetProperty("support").GetString());
    }
}

/// <summary>Model info from the price table: a max_tokens above the model's max_output_tokens is refused before any upstream call.</summary>
public sealed class MaxOutputTokensTests
{
    [Fact]
    public async Task Max_tokens_above_the_models_limit_is_a_clear_400_and_never_reaches_the_upstream()
    {
        await using var upstream = await LLMux.Emulators.OpenAIEmulator.StartNewAsync();
        await using var gateway = await GatewayHost.StartAsync($"""
            router_settings:
              num_retries: 0
            model_list:
              - model_name: small
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: {upstream.ApiBase}
                  api_key: sk-x
            """);
        var limit = LLMux.Stages.Accounting.PriceTable.Default.Find("openai", "gpt-4o-mini")!.MaxOutputTokens!.Value;
        using var refused = await gateway.Http.PostAsync("/v1/chat/completions", new StringContent($$"""{"model":"small","messages":[{"role":"user","content":"hi"}],"max_tokens":{{limit + 1}}}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        using var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
        Assert.Equal("max_tokens", error.RootElement.GetProperty("error").GetProperty("param").GetString());
        Assert.Contains(limit.ToString(System.Globalization.CultureInfo.InvariantCulture), error.RootElement.GetProperty("error").GetProperty("message").GetString());
        Assert.Empty(upstream.Requests);

        using var allowed = await gateway.Http.PostAsync("/v1/chat/completions", new StringContent($$"""{"model":"small","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":{{limit}}}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
    }
}
