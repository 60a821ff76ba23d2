using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;
using LLMux.Tests.Messages;

namespace LLMux.Tests.ClaudePlatforms;

/// <summary>
/// Multi-turn tool use with thinking on chat completions, onto Bedrock InvokeModel and Vertex Claude: the signed
/// thinking block of turn one comes back as <c>thinking_blocks</c> and reaches the platform again, first in the
/// assistant turn and byte for byte, beside the tool call and its result.
/// </summary>
public sealed class ThinkingRoundTripTests : IAsyncLifetime
{
    private const string Signature = "EuYBCkQYAiJAbXlzaWduYXR1cmU+/w==";
    private BedrockEmulator _bedrock = null!;
    private VertexClaudeEmulator _vertex = null!;
    private GatewayHost _gateway = null!;
    private string _credentials = null!;

    public async Task InitializeAsync()
    {
        _bedrock = await BedrockEmulator.StartNewAsync();
        _vertex = await VertexClaudeEmulator.StartNewAsync();
        _credentials = Path.Combine(Path.GetTempPath(), $"llmux-rt-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(_credentials, _vertex.ServiceAccountJson);
        _gateway = await GatewayHost.StartAsync($"""
            general_settings:
              master_key: {AnthropicSdk.MasterKey}
            router_settings:
              num_retries: 0
            model_list:
              - model_name: bedrock
                litellm_params:
                  model: bedrock/invoke/us.anthropic.claude-sonnet-4-5-20250929-v1:0
                  api_base: {_bedrock.ApiBase}
                  aws_access_key_id: {BedrockEmulator.AccessKeyId}
                  aws_secret_access_key: {BedrockEmulator.SecretAccessKey}
                  aws_region_name: {BedrockEmulator.Region}
              - model_name: vertex
                litellm_params:
                  model: vertex_ai/claude-sonnet-4-5@20250929
                  api_base: {_vertex.ApiBase("claude-sonnet-4-5@20250929")}
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

    private async Task<JsonObject> ChatAsync(JsonObject body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("authorization", "Bearer " + AnthropicSdk.MasterKey);
        using var response = await _gateway.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK) Assert.Fail(text);
        return JsonNode.Parse(text)!.AsObject();
    }

    [Theory]
    [InlineData("bedrock")]
    [InlineData("vertex")]
    public async Task Signed_thinking_survives_a_tool_round_trip(string backend)
    {
        var claude = new AnthropicScript { Thinking = "I need the weather tool.", Signature = Signature, Text = "", ToolCalls = [("toolu_rt1", "get_weather", """{"city":"Paris"}""")] };
        if (backend == "bedrock") _bedrock.Enqueue(new BedrockScript { Claude = claude });
        else _vertex.Enqueue(new VertexClaudeScript { Claude = claude });

        var tools = JsonNode.Parse("""[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]""")!;
        var messages = new JsonArray { new JsonObject { ["role"] = "user", ["content"] = "Weather in Paris?" } };
        var first = await ChatAsync(new JsonObject { ["model"] = backend, ["max_tokens"] = 4000, ["thinking"] = JsonNode.Parse("""{"type":"enabled","budget_tokens":2048}"""), ["tools"] = tools.DeepClone(), ["messages"] = messages.DeepClone() });
        var message = first["choices"]![0]!["message"]!.AsObject();
        Assert.Equal("tool_calls", first["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.Equal(Signature, message["thinking_blocks"]![0]!["signature"]!.GetValue<string>());

        messages.Add(message.DeepClone());
        messages.Add(new JsonObject { ["role"] = "tool", ["tool_call_id"] = message["tool_calls"]![0]!["id"]!.GetValue<string>(), ["content"] = "18°C, sunny" });
        await ChatAsync(new JsonObject { ["model"] = backend, ["max_tokens"] = 4000, ["thinking"] = JsonNode.Parse("""{"type":"enabled","budget_tokens":2048}"""), ["tools"] = tools.DeepClone(), ["messages"] = messages });

        var second = backend == "bedrock" ? _bedrock.Requests.Last() : _vertex.ModelRequests.Last();
        var sent = JsonNode.Parse(second.Body)!;
        var assistant = sent["messages"]![1]!;
        Assert.Equal("assistant", assistant["role"]!.GetValue<string>());
        Assert.Equal("thinking", assistant["content"]![0]!["type"]!.GetValue<string>());
        Assert.Equal(Signature, assistant["content"]![0]!["signature"]!.GetValue<string>());
        Assert.Equal("I need the weather tool.", assistant["content"]![0]!["thinking"]!.GetValue<string>());
        Assert.Equal("tool_use", assistant["content"]![1]!["type"]!.GetValue<string>());
        Assert.Equal("toolu_rt1", assistant["content"]![1]!["id"]!.GetValue<string>());
        var result = sent["messages"]![2]!["content"]![0]!;
        Assert.Equal("tool_result", result["type"]!.GetValue<string>());
        Assert.Equal("toolu_rt1", result["tool_use_id"]!.GetValue<string>());
    }
}
