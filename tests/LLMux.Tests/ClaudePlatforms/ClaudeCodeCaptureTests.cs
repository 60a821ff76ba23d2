using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;
using LLMux.Tests.Messages;

namespace LLMux.Tests.ClaudePlatforms;

/// <summary>
/// Real Claude Code requests (captured from <c>claude -p</c>: thinking with signatures, adaptive thinking with effort,
/// tool search with <c>defer_loading</c>, <c>context_management</c>, its beta list) sent to /v1/messages in front of
/// Bedrock InvokeModel and Vertex Claude. Each emulator refuses what its platform refuses, so a request that would
/// fail on the real platform fails here; the body that arrives must be Claude Code's, changed only where the
/// platform demands it.
/// </summary>
public sealed class ClaudeCodeCaptureTests : IAsyncLifetime
{
    private BedrockEmulator _bedrock = null!;
    private VertexClaudeEmulator _vertex = null!;
    private GatewayHost _gateway = null!;
    private string _credentials = null!;

    public static IEnumerable<object[]> Cases()
    {
        foreach (var capture in new[] { "sonnet45-thinking-signature-turn2-after-tool", "haiku45-budget-turn2-after-tool", "sonnet45-toolsearch-turn1", "haiku45-budget-turn1" })
            foreach (var backend in new[] { "bedrock", "vertex" })
                yield return [capture, backend];
    }

    public async Task InitializeAsync()
    {
        _bedrock = await BedrockEmulator.StartNewAsync();
        _vertex = await VertexClaudeEmulator.StartNewAsync();
        _credentials = Path.Combine(Path.GetTempPath(), $"llmux-cc-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(_credentials, _vertex.ServiceAccountJson);
        _gateway = await GatewayHost.StartAsync($"""
            general_settings:
              master_key: {AnthropicSdk.MasterKey}
            router_settings:
              num_retries: 0
            model_list:
              - model_name: bedrock
                litellm_params:
                  model: bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0
                  api_base: {_bedrock.ApiBase}
                  aws_access_key_id: {BedrockEmulator.AccessKeyId}
                  aws_secret_access_key: {BedrockEmulator.SecretAccessKey}
                  aws_region_name: {BedrockEmulator.Region}
              - model_name: vertex
                litellm_params:
                  model: vertex_ai/claude-sonnet-4-5@20250929
                  api_base: {_vertex.ApiBase("claude-sonnet-4-5@20250929", "global")}
                  vertex_credentials: {_credentials}
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _bedrock.DisposeAsync();
        await _vertex.DisposeAsync();
        File.Delete(_credentials);
    }

    private static JsonObject Capture(string name)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "LLMux.sln"))) dir = dir.Parent;
        var path = Path.Combine(dir!.FullName, "tests", "LLMux.Tests", "ClaudePlatforms", "captures", name + ".json");
        return JsonNode.Parse(File.ReadAllText(path))!.AsObject();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Claude_code_request_goes_through_and_arrives_as_claude_code_wrote_it(string captureName, string backend)
    {
        var capture = Capture(captureName);
        var body = capture["body"]!.AsObject();
        body["model"] = backend;
        var headers = capture["headers"]!.AsObject();
        var request = new HttpRequestMessage(HttpMethod.Post, capture["path"]!.GetValue<string>())
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("x-api-key", AnthropicSdk.MasterKey);
        foreach (var name in new[] { "anthropic-version", "anthropic-beta", "user-agent", "x-app" })
            request.Headers.TryAddWithoutValidation(name, headers[name]!.GetValue<string>());

        using var response = await _gateway.Http.SendAsync(request);
        var answer = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, answer);
        Assert.Contains("event: message_start", answer);
        Assert.EndsWith("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", answer);

        var sent = backend == "bedrock" ? _bedrock.Requests.Single() : _vertex.ModelRequests.Single();
        var arrived = JsonNode.Parse(sent.Body)!.AsObject();
        // Only what the platform refuses changed; everything else (messages with thinking signatures, tools, system, metadata...) is Claude Code's.
        foreach (var (key, value) in body)
        {
            if (key is "model" || (key is "stream" && backend == "bedrock") || key is "output_config") { Assert.False(arrived.ContainsKey(key), key); continue; }
            Assert.True(JsonNode.DeepEquals(value, arrived[key]), $"{key} changed on the way to {backend}");
        }
        Assert.Equal(backend == "bedrock" ? "bedrock-2023-05-31" : "vertex-2023-10-16", arrived["anthropic_version"]!.GetValue<string>());
        var betas = arrived["anthropic_beta"]!.AsArray().Select(static b => b!.GetValue<string>()).ToHashSet();
        Assert.Contains("interleaved-thinking-2025-05-14", betas);
        Assert.Contains("context-management-2025-06-27", betas);
        Assert.Contains("tool-search-tool-2025-10-19", betas); // Claude Code's advanced-tool-use, as the platforms name it
        Assert.DoesNotContain("claude-code-20250219", betas);
        var warnings = string.Join(";", response.Headers.GetValues("x-llmux-warnings"));
        Assert.Contains("claude-code-20250219", warnings);
        Assert.Contains("thinking-token-count-2026-05-13", warnings);
    }
}
