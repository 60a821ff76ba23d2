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
        var code = CapabilitiesCommand.Run(["anthropic/claude-sonnet-4-5"], output, error);
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
        Assert.Equal(2, CapabilitiesCommand.Run(["nosuch/model"], new StringWriter(), error));
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
