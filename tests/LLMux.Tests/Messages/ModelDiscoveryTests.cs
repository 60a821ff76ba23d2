using System.Text.Json;
using Anthropic;
using Anthropic.Models.Models;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;

namespace LLMux.Tests.Messages;

/// <summary>
/// <c>GET /v1/models</c> tells clients each model's context window, output limit and capabilities from the
/// price table: OpenAI's list shape for OpenAI clients, Anthropic's Models API for Anthropic SDKs (and Claude
/// Code), told apart by <c>anthropic-version</c>.
/// </summary>
public sealed class ModelDiscoveryTests : IAsyncLifetime
{
    private GatewayHost _gateway = null!;
    private AnthropicClient _client = null!;

    public async Task InitializeAsync()
    {
        _gateway = await GatewayHost.StartAsync($"""
            general_settings:
              master_key: {AnthropicSdk.MasterKey}
            model_list:
              - model_name: gpt-small
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: http://127.0.0.1:9/v1
                  api_key: sk-unused
              - model_name: gem
                litellm_params:
                  model: gemini/gemini-2.5-flash
                  api_key: unused
              - model_name: claude-bedrock
                litellm_params:
                  model: bedrock/converse/anthropic.claude-sonnet-4-5-20250929-v1:0
                  aws_access_key_id: {BedrockEmulator.AccessKeyId}
                  aws_secret_access_key: {BedrockEmulator.SecretAccessKey}
                  aws_region_name: {BedrockEmulator.Region}
              - model_name: claude
                litellm_params:
                  model: anthropic/claude-sonnet-4-5
                  api_key: unused
            """);
        _client = AnthropicSdk.For(_gateway);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _gateway.DisposeAsync();
    }

    [Fact]
    public async Task OpenAI_list_carries_context_window_output_limit_and_capabilities()
    {
        var models = (await _gateway.OpenAI(AnthropicSdk.MasterKey).GetOpenAIModelClient().GetModelsAsync()).Value;
        Assert.Equal(["gpt-small", "gem", "claude-bedrock", "claude"], models.Select(static m => m.Id));

        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.Add("Authorization", "Bearer " + AnthropicSdk.MasterKey);
        using var response = await _gateway.Http.SendAsync(request);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var small = doc.RootElement.GetProperty("data").EnumerateArray().Single(static m => m.GetProperty("id").GetString() == "gpt-small");
        Assert.Equal(128000, small.GetProperty("context_window").GetInt64());
        Assert.Equal(16384, small.GetProperty("max_output_tokens").GetInt64());
        Assert.Equal("chat", small.GetProperty("mode").GetString());
        Assert.Equal("openai", small.GetProperty("provider").GetString());
        var caps = small.GetProperty("capabilities").EnumerateArray().Select(static c => c.GetString()).ToList();
        Assert.Contains("function_calling", caps);
        Assert.Contains("vision", caps);
        Assert.DoesNotContain("reasoning", caps);
        var gem = doc.RootElement.GetProperty("data").EnumerateArray().Single(static m => m.GetProperty("id").GetString() == "gem");
        Assert.Equal(1048576, gem.GetProperty("context_window").GetInt64());
        Assert.Contains("reasoning", gem.GetProperty("capabilities").EnumerateArray().Select(static c => c.GetString()));
    }

    [Fact]
    public async Task Anthropic_SDK_lists_models_with_limits_and_capabilities()
    {
        var page = await _client.Models.List();
        var items = page.Items.ToList();
        Assert.Equal(["gpt-small", "gem", "claude-bedrock", "claude"], items.Select(static m => m.ID));

        var gem = items.Single(static m => m.ID == "gem");
        Assert.Equal(1048576, gem.MaxInputTokens);
        Assert.Equal(65535, gem.MaxTokens);
        Assert.True(gem.Capabilities!.Thinking.Supported);
        Assert.True(gem.Capabilities.ImageInput.Supported);
        Assert.False(gem.Capabilities.ContextManagement.Supported); // dropped with a warning there, not done

        var small = items.Single(static m => m.ID == "gpt-small");
        Assert.False(small.Capabilities!.Thinking.Supported);
        Assert.True(small.Capabilities.StructuredOutputs.Supported);

        // Anthropic's own fields work where the body reaches Claude as it is, not through Converse.
        Assert.True(items.Single(static m => m.ID == "claude").Capabilities!.ContextManagement.Supported);
        var bedrock = items.Single(static m => m.ID == "claude-bedrock");
        Assert.False(bedrock.Capabilities!.ContextManagement.Supported);
        Assert.True(bedrock.Capabilities.Thinking.Supported);
        Assert.Equal(64000, bedrock.MaxTokens);

        var one = await _client.Models.Retrieve("claude-bedrock");
        Assert.Equal(200000, one.MaxInputTokens);
    }

    [Fact]
    public async Task Anthropic_list_pages_with_limit_and_cursors()
    {
        var first = await _client.Models.List(new ModelListParams { Limit = 3 });
        Assert.Equal(["gpt-small", "gem", "claude-bedrock"], first.Items.Select(static m => m.ID));
        Assert.True(first.HasNext());
        var all = new List<string>();
        await foreach (var model in (await _client.Models.List(new ModelListParams { Limit = 1 })).Paginate()) all.Add(model.ID);
        Assert.Equal(["gpt-small", "gem", "claude-bedrock", "claude"], all);
        var before = await _client.Models.List(new ModelListParams { BeforeID = "claude", Limit = 2 });
        Assert.Equal(["gem", "claude-bedrock"], before.Items.Select(static m => m.ID));
    }
}
