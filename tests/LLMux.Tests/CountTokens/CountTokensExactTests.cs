using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anthropic.Models.Messages;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;
using LLMux.Tests.Messages;

namespace LLMux.Tests.CountTokens;

/// <summary>
/// <c>/v1/messages/count_tokens</c> asks the backend wherever it can count (Anthropic, Bedrock CountTokens, Vertex
/// count-tokens for Claude, Gemini countTokens) and says so in <c>x-llmux-token-count</c>; elsewhere it estimates.
/// Each emulator computes its count from the body it received, so a count that did not come from there fails.
/// </summary>
public sealed class CountTokensExactTests : IAsyncLifetime
{
    private AnthropicEmulator _anthropic = null!;
    private BedrockEmulator _bedrock = null!;
    private VertexClaudeEmulator _vertexClaude = null!;
    private GeminiEmulator _gemini = null!;
    private GatewayHost _gateway = null!;
    private string _claudeCredentials = null!;
    private string _geminiCredentials = null!;

    public async Task InitializeAsync()
    {
        _anthropic = await AnthropicEmulator.StartNewAsync();
        _bedrock = await BedrockEmulator.StartNewAsync();
        _vertexClaude = await VertexClaudeEmulator.StartNewAsync();
        _gemini = await GeminiEmulator.StartNewAsync();
        _claudeCredentials = Path.Combine(Path.GetTempPath(), $"llmux-count-claude-{Guid.NewGuid():N}.json");
        _geminiCredentials = Path.Combine(Path.GetTempPath(), $"llmux-count-gemini-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(_claudeCredentials, _vertexClaude.ServiceAccountJson);
        await File.WriteAllTextAsync(_geminiCredentials, _gemini.ServiceAccountJson);
        var aws = $"""
                  api_base: {_bedrock.ApiBase}
                  aws_access_key_id: {BedrockEmulator.AccessKeyId}
                  aws_secret_access_key: {BedrockEmulator.SecretAccessKey}
                  aws_region_name: {BedrockEmulator.Region}
            """;
        _gateway = await GatewayHost.StartAsync($"""
            general_settings:
              master_key: {AnthropicSdk.MasterKey}
            router_settings:
              num_retries: 0
            model_list:
              - model_name: anthropic
                litellm_params:
                  model: anthropic/claude-sonnet-4-5
                  api_base: {_anthropic.ApiBase}
                  api_key: sk-ant-upstream
              - model_name: bedrock-invoke
                litellm_params:
                  model: bedrock/invoke/us.anthropic.claude-sonnet-4-5-20250929-v1:0
            {aws}
              - model_name: bedrock-converse
                litellm_params:
                  model: bedrock/converse/anthropic.claude-haiku-4-5-20251001-v1:0
            {aws}
              - model_name: bedrock-nova
                litellm_params:
                  model: bedrock/amazon.nova-pro-v1:0
            {aws}
              - model_name: vertex-claude
                litellm_params:
                  model: vertex_ai/claude-sonnet-4-5@20250929
                  api_base: {_vertexClaude.ApiBase("claude-sonnet-4-5@20250929")}
                  vertex_credentials: {_claudeCredentials}
              - model_name: vertex-gemini
                litellm_params:
                  model: vertex_ai/gemini-2.5-flash
                  api_base: {_gemini.VertexApiBase("gemini-2.5-flash")}
                  vertex_credentials: {_geminiCredentials}
              - model_name: gemini
                litellm_params:
                  model: gemini/gemini-2.5-flash
                  api_base: {_gemini.GeminiApiBase}
                  api_key: {_gemini.ApiKey}
              - model_name: openai
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: http://127.0.0.1:9/v1
                  api_key: sk-unused
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _anthropic.DisposeAsync();
        await _bedrock.DisposeAsync();
        await _vertexClaude.DisposeAsync();
        await _gemini.DisposeAsync();
        File.Delete(_claudeCredentials);
        File.Delete(_geminiCredentials);
    }

    private static string Body(string model) => """
        {"model":"MODEL","system":"You are a careful assistant who answers in full sentences and explains the reasoning behind every step.",
         "messages":[{"role":"user","content":"What is the capital of France?"},{"role":"assistant","content":"Paris."},{"role":"user","content":[{"type":"text","text":"And of Italy?"}]}],
         "tools":[{"name":"lookup","description":"Looks a city up","input_schema":{"type":"object","properties":{"q":{"type":"string"}}}}]}
        """.Replace("MODEL", model, StringComparison.Ordinal);

    private async Task<(long Tokens, string Source)> CountAsync(string model, string? beta = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages/count_tokens") { Content = new StringContent(Body(model), Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("x-api-key", AnthropicSdk.MasterKey);
        request.Headers.TryAddWithoutValidation("anthropic-version", "2023-06-01");
        if (beta is not null) request.Headers.TryAddWithoutValidation("anthropic-beta", beta);
        using var response = await _gateway.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK) Assert.Fail(response.StatusCode + " " + text);
        using var doc = JsonDocument.Parse(text);
        return (doc.RootElement.GetProperty("input_tokens").GetInt64(), response.Headers.GetValues("x-llmux-token-count").Single());
    }

    [Fact]
    public async Task Anthropic_counts_at_its_count_endpoint_with_the_upstream_model()
    {
        var (tokens, source) = await CountAsync("anthropic", beta: "token-counting-2024-11-01");
        Assert.Equal("exact:anthropic", source);
        var sent = _anthropic.Requests.Single();
        Assert.Equal("/v1/messages/count_tokens", sent.Path);
        Assert.Equal("token-counting-2024-11-01", sent.Headers["anthropic-beta"]);
        using var body = sent.Json();
        Assert.Equal("claude-sonnet-4-5", body.RootElement.GetProperty("model").GetString());
        Assert.Equal(ClaudePlatformRules.CountTokens(body.RootElement), tokens);
    }

    [Theory]
    [InlineData("bedrock-invoke", "anthropic.claude-sonnet-4-5-20250929-v1:0")]
    [InlineData("bedrock-converse", "anthropic.claude-haiku-4-5-20251001-v1:0")]
    public async Task Bedrock_counts_with_count_tokens_on_the_foundation_model(string model, string foundation)
    {
        var (tokens, source) = await CountAsync(model, beta: "claude-code-20250219,interleaved-thinking-2025-05-14");
        Assert.Equal("exact:bedrock", source);
        Assert.Equal("/model/" + Uri.EscapeDataString(foundation) + "/count-tokens", _bedrock.RawTargets.Single());
        using var sent = _bedrock.Requests.Single().Json();
        var invokeBody = Convert.FromBase64String(sent.RootElement.GetProperty("input").GetProperty("invokeModel").GetProperty("body").GetString()!);
        using var inner = JsonDocument.Parse(invokeBody);
        Assert.Equal("bedrock-2023-05-31", inner.RootElement.GetProperty("anthropic_version").GetString());
        Assert.False(inner.RootElement.TryGetProperty("model", out _));
        Assert.Equal(["interleaved-thinking-2025-05-14"], inner.RootElement.GetProperty("anthropic_beta").EnumerateArray().Select(static b => b.GetString()!).ToArray());
        Assert.Equal(ClaudePlatformRules.CountTokens(inner.RootElement), tokens);
    }

    [Fact]
    public async Task Vertex_claude_counts_at_the_anthropic_publishers_count_tokens()
    {
        var (tokens, source) = await CountAsync("vertex-claude");
        Assert.Equal("exact:vertex_ai", source);
        var sent = _vertexClaude.ModelRequests.Single();
        Assert.Equal($"/v1/projects/{VertexClaudeEmulator.Project}/locations/us-east5/publishers/anthropic/models/count-tokens:rawPredict", sent.Path);
        Assert.StartsWith("Bearer ya29.", sent.Headers["authorization"]);
        using var body = sent.Json();
        Assert.Equal("claude-sonnet-4-5@20250929", body.RootElement.GetProperty("model").GetString());
        Assert.Equal(ClaudePlatformRules.CountTokens(body.RootElement), tokens);
    }

    [Theory]
    [InlineData("gemini", "gemini")]
    [InlineData("vertex-gemini", "vertex_ai")]
    public async Task Gemini_counts_the_translated_contents_with_count_tokens(string model, string provider)
    {
        var (tokens, source) = await CountAsync(model);
        Assert.Equal("exact:" + provider, source);
        var sent = _gemini.ModelRequests.Single();
        Assert.EndsWith("/gemini-2.5-flash:countTokens", sent.Path);
        var root = JsonNode.Parse(sent.Body)!.AsObject();
        var request = provider == "gemini" ? root["generateContentRequest"]!.AsObject() : root;
        Assert.Equal(3, request["contents"]!.AsArray().Count);
        Assert.Equal(GeminiEmulator.CountTokens(request), tokens);
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("bedrock-nova")]
    public async Task Providers_without_a_count_are_estimated_and_say_so(string model)
    {
        var (tokens, source) = await CountAsync(model);
        Assert.Equal("estimate:o200k_base", source);
        Assert.True(tokens > 20);
        Assert.Empty(_bedrock.Requests);
    }

    [Fact]
    public async Task The_anthropic_sdk_reads_the_exact_count()
    {
        using var client = AnthropicSdk.For(_gateway);
        var count = await client.Messages.CountTokens(new MessageCountTokensParams { Model = "bedrock-invoke", Messages = [new UserMessageParam("Hello there")] });
        using var sent = _bedrock.Requests.Single().Json();
        using var inner = JsonDocument.Parse(Convert.FromBase64String(sent.RootElement.GetProperty("input").GetProperty("invokeModel").GetProperty("body").GetString()!));
        Assert.Equal(ClaudePlatformRules.CountTokens(inner.RootElement), count.InputTokens);
    }

    [Fact]
    public async Task An_upstream_refusal_is_an_anthropic_error()
    {
        _bedrock.Enqueue(new BedrockScript { Error = (429, "ThrottlingException", "Too many requests") });
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages/count_tokens") { Content = new StringContent(Body("bedrock-invoke"), Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("x-api-key", AnthropicSdk.MasterKey);
        using var response = await _gateway.Http.SendAsync(request);
        Assert.Equal((HttpStatusCode)429, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("rate_limit_error", doc.RootElement.GetProperty("error").GetProperty("type").GetString());
    }
}
