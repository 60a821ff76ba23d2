using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anthropic;
using Anthropic.Models.Beta.Messages;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;
using LLMux.Tests.Messages;

namespace LLMux.Tests.Agents;

/// <summary>
/// The requests the real Claude Code CLI sends (captured once, kept as test data) through /v1/messages onto
/// each translating backend's emulator, with the official Anthropic SDK as the client: every one succeeds,
/// Claude Code's hints are dropped with a warning, and each upstream receives only fields of its own API.
/// </summary>
public sealed class ClaudeCodeCaptureTests : IAsyncLifetime
{
    private OpenAIEmulator _openai = null!;
    private GeminiEmulator _gemini = null!;
    private BedrockEmulator _bedrock = null!;
    private AnthropicEmulator _anthropic = null!;
    private GatewayHost _gateway = null!;
    private AnthropicClient _client = null!;

    public async Task InitializeAsync()
    {
        _openai = await OpenAIEmulator.StartNewAsync();
        _gemini = await GeminiEmulator.StartNewAsync();
        _bedrock = await BedrockEmulator.StartNewAsync();
        _anthropic = await AnthropicEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync($"""
            general_settings:
              master_key: {AnthropicSdk.MasterKey}
            router_settings:
              num_retries: 0
            model_list:
              - model_name: cc-openai
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: {_openai.ApiBase}
                  api_key: sk-upstream
              - model_name: cc-gemini
                litellm_params:
                  model: gemini/gemini-2.5-flash
                  api_base: {_gemini.GeminiApiBase}
                  api_key: gemini-test-key
              - model_name: cc-bedrock
                litellm_params:
                  model: bedrock/converse/anthropic.claude-sonnet-4-5-20250929-v1:0
                  api_base: {_bedrock.ApiBase}
                  aws_access_key_id: {BedrockEmulator.AccessKeyId}
                  aws_secret_access_key: {BedrockEmulator.SecretAccessKey}
                  aws_region_name: {BedrockEmulator.Region}
              - model_name: cc-anthropic
                litellm_params:
                  model: anthropic/claude-sonnet-4-5
                  api_base: {_anthropic.ApiBase}
                  api_key: sk-ant-upstream
            """);
        _client = AnthropicSdk.For(_gateway);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _gateway.DisposeAsync();
        await _openai.DisposeAsync();
        await _gemini.DisposeAsync();
        await _bedrock.DisposeAsync();
        await _anthropic.DisposeAsync();
    }

    public static readonly string[] Backends = ["cc-openai", "cc-gemini", "cc-bedrock"];

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var name in ClaudeCodeCapture.Names())
            foreach (var backend in Backends) data.Add(name, backend);
        return data;
    }

    /// <summary>Scripts the backend: a Bash tool call for a first turn, a text answer after the tool result.</summary>
    private void Script(string backend, bool toolCall)
    {
        const string args = """{"command":"cat hello.txt"}""";
        switch (backend)
        {
            case "cc-openai":
                _openai.Enqueue(toolCall ? new OpenAIScript { ToolCall = ("Bash", args) } : new OpenAIScript { Content = "The file says hello." });
                break;
            case "cc-gemini":
                _gemini.Enqueue(toolCall ? new GeminiScript { FunctionCalls = [("Bash", args)] } : new GeminiScript { Text = "The file says hello." });
                break;
            default:
                _bedrock.Enqueue(toolCall ? new BedrockScript { ToolCall = ("Bash", args) } : new BedrockScript { Content = "The file says hello." });
                break;
        }
    }

    private RecordedRequest LastUpstream(string backend) => backend switch
    {
        "cc-openai" => _openai.Requests.Last(),
        "cc-gemini" => _gemini.ModelRequests.Last(),
        _ => _bedrock.Requests.Last(),
    };

    /// <summary>The captured headers and body as SDK parameters: what Claude Code sent, model renamed.</summary>
    private static MessageCreateParams Params(ClaudeCodeCapture capture, string model, bool stream)
    {
        var body = JsonNode.Parse(capture.BodyFor(model))!.AsObject();
        body.Remove("stream"); // the SDK sets it per call
        if (!stream) body["max_tokens"] = Math.Min(body["max_tokens"]!.GetValue<long>(), 16000);
        var rawBody = body.ToDictionary(static p => p.Key, static p => JsonSerializer.SerializeToElement(p.Value));
        var headers = new Dictionary<string, JsonElement> { ["anthropic-beta"] = JsonSerializer.SerializeToElement(capture.Betas) };
        return MessageCreateParams.FromRawUnchecked(headers, new Dictionary<string, JsonElement>(), rawBody);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Claude_Code_request_streams_a_complete_answer_on_every_backend(string captureName, string backend)
    {
        var capture = ClaudeCodeCapture.Load(captureName);
        Script(backend, toolCall: !capture.IsAfterTool);
        var message = await _client.Beta.Messages.CreateStreaming(Params(capture, backend, stream: true)).Aggregate();
        if (capture.IsAfterTool)
        {
            Assert.True(message.Content.Last().TryPickText(out var text), string.Join(",", message.Content.Select(static c => c.ToString())));
            Assert.Equal("The file says hello.", text!.Text);
            Assert.Equal(BetaStopReason.EndTurn, message.StopReason!.Value());
        }
        else
        {
            var block = message.Content.Single(static b => b.TryPickToolUse(out _));
            block.TryPickToolUse(out var use);
            Assert.Equal("Bash", use!.Name);
            Assert.Equal("cat hello.txt", use.Input["command"].GetString());
            Assert.Equal(BetaStopReason.ToolUse, message.StopReason!.Value());
        }
        AssertUpstreamGotItsOwnApi(capture, backend, LastUpstream(backend));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Claude_Code_hints_and_betas_are_dropped_with_a_warning(string captureName, string backend)
    {
        var capture = ClaudeCodeCapture.Load(captureName);
        Script(backend, toolCall: false);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages?beta=true")
        {
            Content = new StringContent(capture.BodyFor(backend), Encoding.UTF8, "application/json"),
        };
        foreach (var (name, value) in capture.Headers)
        {
            if (name is "content-type" or "accept-encoding" or "x-api-key" or "authorization" or "connection") continue;
            request.Headers.TryAddWithoutValidation(name, value);
        }
        request.Headers.TryAddWithoutValidation("x-api-key", AnthropicSdk.MasterKey);
        using var response = await _gateway.Http.SendAsync(request);
        var sse = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, sse);

        var warnings = string.Join(" | ", response.Headers.GetValues("x-llmux-warnings"));
        Assert.Contains("context_management", warnings, StringComparison.Ordinal);
        Assert.Contains("anthropic-beta not sent to", warnings, StringComparison.Ordinal);
        Assert.Contains("context-management-2025-06-27", warnings, StringComparison.Ordinal);
        if (backend != "cc-bedrock") Assert.Contains("cache_control", warnings, StringComparison.Ordinal); // Converse maps it to cachePoint
        if (backend == "cc-openai") Assert.Contains($"max_tokens {capture.Body["max_tokens"]} lowered to 16384", warnings, StringComparison.Ordinal);

        // Anthropic's event grammar, as Claude Code parses it.
        var events = AnthropicEventStream.Parse(sse);
        AnthropicEventStream.AssertValid(events, complete: true);
    }

    public static TheoryData<string> Captures()
    {
        var data = new TheoryData<string>();
        foreach (var name in ClaudeCodeCapture.Names()) data.Add(name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Captures))]
    public async Task Claude_Code_request_reaches_Anthropic_as_it_was_sent(string captureName)
    {
        var capture = ClaudeCodeCapture.Load(captureName);
        var message = await _client.Beta.Messages.CreateStreaming(Params(capture, "cc-anthropic", stream: true)).Aggregate();
        Assert.NotEmpty(message.Content);

        var sent = _anthropic.Requests.Last();
        Assert.Equal(capture.Betas, sent.Headers["anthropic-beta"]);
        using var doc = sent.Json();
        var expected = JsonNode.Parse(capture.BodyFor("claude-sonnet-4-5"))!.AsObject();
        var actual = JsonNode.Parse(sent.BodyText)!.AsObject();
        // Every field Claude Code set arrives unchanged (the SDK sets `stream` itself).
        foreach (var (key, value) in expected)
            Assert.True(JsonNode.DeepEquals(value, actual[key]), key);
    }

    private static void AssertUpstreamGotItsOwnApi(ClaudeCodeCapture capture, string backend, RecordedRequest sent)
    {
        var body = sent.BodyText;
        foreach (var anthropicOnly in new[] { "context_management", "output_config", "defer_loading", "x-anthropic-billing-header", "\"metadata\"", "tool_reference" })
            Assert.DoesNotContain(anthropicOnly, body, StringComparison.Ordinal);
        using var doc = sent.Json();
        var root = doc.RootElement;
        var midSystem = capture.Body["messages"]!.AsArray().Any(static m => m!["role"]!.GetValue<string>() == "system");
        switch (backend)
        {
            case "cc-openai":
                Assert.DoesNotContain("cache_control", body, StringComparison.Ordinal);
                Assert.DoesNotContain("\"thinking\"", body, StringComparison.Ordinal);
                Assert.Equal(16384, root.GetProperty("max_tokens").GetInt32());
                if (midSystem) Assert.Contains(root.GetProperty("messages").EnumerateArray(), static m => m.GetProperty("role").GetString() == "system" && m.GetProperty("content").ToString().Contains("# Environment", StringComparison.Ordinal));
                if (capture.IsAfterTool) Assert.Contains(root.GetProperty("messages").EnumerateArray(), static m => m.GetProperty("role").GetString() == "tool");
                Assert.Contains(root.GetProperty("tools").EnumerateArray(), static t => t.GetProperty("function").GetProperty("name").GetString() == "Bash");
                break;
            case "cc-gemini":
                Assert.DoesNotContain("cache_control", body, StringComparison.Ordinal);
                Assert.DoesNotContain("\"thinking\"", body, StringComparison.Ordinal);
                if (midSystem) Assert.Contains("# Environment", root.GetProperty("system_instruction").ToString(), StringComparison.Ordinal);
                if (capture.IsAfterTool) Assert.Contains("function_response", body, StringComparison.Ordinal);
                break;
            default:
                var system = root.GetProperty("system");
                var cachePoints = CountCachePoints(root);
                Assert.InRange(cachePoints, 1, 4); // Claude's limit of four cache breakpoints
                Assert.Contains(system.EnumerateArray(), static b => b.TryGetProperty("cachePoint", out _));
                if (midSystem) Assert.Contains("# Environment", system.ToString(), StringComparison.Ordinal);
                var thinking = capture.Body["thinking"]!;
                var sentThinking = root.GetProperty("additionalModelRequestFields").GetProperty("thinking");
                Assert.Equal(thinking["type"]!.GetValue<string>(), sentThinking.GetProperty("type").GetString());
                Assert.False(sentThinking.TryGetProperty("display", out _));
                if (thinking["budget_tokens"] is { } budget)
                    Assert.True(sentThinking.GetProperty("budget_tokens").GetInt64() < root.GetProperty("inferenceConfig").GetProperty("maxTokens").GetInt64());
                if (capture.IsAfterTool) Assert.Contains("toolResult", body, StringComparison.Ordinal);
                break;
        }
    }

    private static int CountCachePoints(JsonElement element)
    {
        var n = 0;
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var p in element.EnumerateObject()) n += (p.Name == "cachePoint" ? 1 : 0) + CountCachePoints(p.Value);
                break;
            case JsonValueKind.Array:
                foreach (var e in element.EnumerateArray()) n += CountCachePoints(e);
                break;
        }
        return n;
    }
}
