using System.Net;
using System.Text;
using System.Text.Json;
using Anthropic;
using Anthropic.Models.Messages;
using LLMux.Emulators;
using LLMux.Providers.Gemini;
using LLMux.Tests.Gemini;
using LLMux.Tests.Infrastructure;
using LLMux.Tests.Messages;
using OpenAI.Chat;

namespace LLMux.Tests.VertexClaude;

/// <summary>
/// Claude on Vertex AI: the Anthropic SDK on /v1/messages and the OpenAI SDK on /v1/chat/completions, through a
/// service account, against the Vertex Claude emulator, which refuses what Vertex refuses.
/// </summary>
public sealed class VertexClaudeEndToEndTests : IAsyncLifetime
{
    private const string Model = "claude-sonnet-4-5@20250929";
    private VertexClaudeEmulator _upstream = null!;
    private GatewayHost _gateway = null!;
    private AnthropicClient _client = null!;
    private string _credentialsFile = null!;

    public async Task InitializeAsync()
    {
        _upstream = await VertexClaudeEmulator.StartNewAsync();
        _credentialsFile = Path.Combine(Path.GetTempPath(), $"llmux-vertex-claude-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(_credentialsFile, _upstream.ServiceAccountJson);
        _gateway = await GatewayHost.StartAsync($"""
            general_settings:
              master_key: {AnthropicSdk.MasterKey}
            router_settings:
              num_retries: 0
            model_list:
              - model_name: claude-vertex
                litellm_params:
                  model: vertex_ai/{Model}
                  api_base: {_upstream.ApiBase(Model)}
                  vertex_credentials: {_credentialsFile}
              - model_name: claude-vertex-nocreds
                litellm_params:
                  model: vertex_ai/{Model}
                  api_base: {_upstream.ApiBase(Model)}
            """);
        _client = AnthropicSdk.For(_gateway);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        File.Delete(_credentialsFile);
    }

    private async Task<HttpResponseMessage> PostMessagesAsync(string body, string? beta = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("x-api-key", AnthropicSdk.MasterKey);
        request.Headers.TryAddWithoutValidation("anthropic-version", "2023-06-01");
        if (beta is not null) request.Headers.TryAddWithoutValidation("anthropic-beta", beta);
        return await _gateway.Http.SendAsync(request);
    }

    private static string Path_(string method) => $"/v1/projects/{VertexClaudeEmulator.Project}/locations/us-east5/publishers/anthropic/models/{Model}:{method}";

    [Fact]
    public async Task Messages_body_reaches_raw_predict_without_model_and_with_vertex_version_and_betas()
    {
        const string body = """{"model":"claude-vertex","max_tokens":3000,"system":"Be brief.","messages":[{"role":"user","content":"Hi"}],"metadata":{"user_id":"u-1"},"context_management":{"edits":[{"type":"clear_thinking_20251015","keep":"all"}]},"thinking":{"type":"enabled","budget_tokens":1024},"output_config":{"effort":"medium"}}""";
        using var response = await PostMessagesAsync(body, beta: "claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27,effort-2025-11-24");
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var sent = _upstream.ModelRequests.Single();
        Assert.Equal(Path_("rawPredict"), sent.Path);
        Assert.StartsWith("Bearer ya29.claude-emu-", sent.Headers["authorization"]);
        using var doc = sent.Json();
        var root = doc.RootElement;
        Assert.False(root.TryGetProperty("model", out _));
        Assert.False(root.TryGetProperty("output_config", out _));
        Assert.Equal("vertex-2023-10-16", root.GetProperty("anthropic_version").GetString());
        Assert.Equal(["interleaved-thinking-2025-05-14", "context-management-2025-06-27"], root.GetProperty("anthropic_beta").EnumerateArray().Select(static b => b.GetString()!).ToArray());
        var warning = string.Join(";", response.Headers.GetValues("x-llmux-warnings"));
        Assert.Contains("claude-code-20250219", warning);
        Assert.Contains("effort-2025-11-24", warning);
        Assert.Contains("output_config", warning);
        Assert.Equal("vertex_ai", response.Headers.GetValues("x-llmux-provider").Single());
        Assert.True(response.Headers.Contains("x-llmux-response-cost"));
    }

    [Fact]
    public async Task Sdk_message_keeps_thinking_signature_tool_use_and_cache_usage()
    {
        _upstream.Enqueue(new VertexClaudeScript
        {
            Claude = new AnthropicScript
            {
                Thinking = "Needs a tool.", Signature = "ErcBvertex+sig/==", Text = "Checking.",
                ToolCalls = [("toolu_v1", "get_weather", """{"city":"Lyon"}""")], InputTokens = 30, OutputTokens = 10, CacheCreationTokens = 3, CacheReadTokens = 50,
            },
        });
        var message = await _client.Messages.Create(WeatherParams());
        Assert.True(message.Content[0].TryPickThinking(out var thinking));
        Assert.Equal("ErcBvertex+sig/==", thinking!.Signature);
        Assert.True(message.Content[2].TryPickToolUse(out var tool));
        Assert.Equal("Lyon", tool!.Input["city"].GetString());
        Assert.Equal(3, message.Usage.CacheCreationInputTokens);
        Assert.Equal(50, message.Usage.CacheReadInputTokens);
    }

    [Fact]
    public async Task Sdk_stream_goes_to_stream_raw_predict_and_passes_frames_through()
    {
        _upstream.Enqueue(new VertexClaudeScript { Claude = new AnthropicScript { Thinking = "hm", Signature = "sigV+/=", Text = "a b c", Chunks = 3, ToolCalls = [("toolu_v2", "get_weather", """{"city":"Nice"}""")] } });
        var text = "";
        var json = "";
        string? signature = null;
        await foreach (var ev in _client.Messages.CreateStreaming(WeatherParams()))
        {
            if (!ev.TryPickContentBlockDelta(out var delta)) continue;
            if (delta!.Delta.TryPickText(out var t)) text += t!.Text;
            else if (delta.Delta.TryPickInputJson(out var ij)) json += ij!.PartialJson;
            else if (delta.Delta.TryPickSignature(out var sig)) signature = sig!.Signature;
        }
        Assert.Equal("a b c", text);
        Assert.Equal("""{"city":"Nice"}""", json);
        Assert.Equal("sigV+/=", signature);
        var sent = _upstream.ModelRequests.Single();
        Assert.Equal(Path_("streamRawPredict"), sent.Path);
        using var doc = sent.Json();
        Assert.True(doc.RootElement.GetProperty("stream").GetBoolean());
    }

    private static MessageCreateParams WeatherParams() => new()
    {
        Model = "claude-vertex",
        MaxTokens = 4096,
        Thinking = new ThinkingConfigEnabled { BudgetTokens = 2048 },
        Tools = [new Tool { Name = "get_weather", InputSchema = new InputSchema { Properties = new Dictionary<string, JsonElement> { ["city"] = JsonDocument.Parse("""{"type":"string"}""").RootElement } } }],
        Messages = [new UserMessageParam("weather?")],
    };

    [Fact]
    public async Task Quota_exhausted_is_a_429_and_overloaded_mid_stream_is_an_error_event()
    {
        _upstream.Enqueue(new VertexClaudeScript { GoogleError = (429, "RESOURCE_EXHAUSTED", "Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model") });
        using (var r = await PostMessagesAsync("""{"model":"claude-vertex","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"Hi"}]}"""))
        {
            Assert.Equal((HttpStatusCode)429, r.StatusCode);
            using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
            Assert.Equal("rate_limit_error", doc.RootElement.GetProperty("error").GetProperty("type").GetString());
        }
        _upstream.Enqueue(new VertexClaudeScript { Claude = new AnthropicScript { Text = "abcdef", Chunks = 3, ErrorEventAfter = 1, ErrorType = "overloaded_error", ErrorMessage = "Overloaded" } });
        using (var r = await PostMessagesAsync("""{"model":"claude-vertex","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"Hi"}]}"""))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            var sse = await r.Content.ReadAsStringAsync();
            Assert.Contains("event: content_block_delta", sse);
            Assert.Contains("event: error", sse);
            Assert.DoesNotContain("message_stop", sse);
            Assert.Equal("vertex_ai", r.Headers.GetValues("x-llmux-provider").Single());
        }
    }

    [Fact]
    public async Task A_model_validation_error_is_a_400_in_anthropic_shape()
    {
        _upstream.Enqueue(new VertexClaudeScript { Claude = new AnthropicScript { ErrorStatus = 400, ErrorType = "invalid_request_error", ErrorMessage = "messages.0.content: Field required" } });
        using var r = await PostMessagesAsync("""{"model":"claude-vertex","max_tokens":10,"messages":[{"role":"user","content":"Hi"}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
        Assert.Equal("invalid_request_error", doc.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Contains("Field required", doc.RootElement.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Without_credentials_the_call_is_refused_before_vertex()
    {
        using var r = await PostMessagesAsync("""{"model":"claude-vertex-nocreds","max_tokens":10,"messages":[{"role":"user","content":"Hi"}]}""");
        Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        Assert.Empty(_upstream.ModelRequests);
    }

    [Fact]
    public async Task Chat_completions_stream_a_tool_call_through_the_anthropic_writer()
    {
        _upstream.Enqueue(new VertexClaudeScript { Claude = new AnthropicScript { Text = "", ToolCalls = [("toolu_v3", "get_weather", """{"city":"Bern"}""")], InputTokens = 14, OutputTokens = 5, CacheReadTokens = 2 } });
        var chat = _gateway.OpenAI(AnthropicSdk.MasterKey).GetChatClient("claude-vertex");
        var tool = ChatTool.CreateFunctionTool("get_weather", "weather", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}}}"""));
        var args = new StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("weather in Bern?")], new ChatCompletionOptions { Tools = { tool } }))
        {
            foreach (var call in update.ToolCallUpdates) args.Append(call.FunctionArgumentsUpdate?.ToString());
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }
        Assert.Equal("""{"city":"Bern"}""", args.ToString());
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        Assert.Equal(16, usage!.InputTokenCount);
        Assert.Equal(2, usage.InputTokenDetails.CachedTokenCount);
        var sent = _upstream.ModelRequests.Single();
        Assert.Equal(Path_("streamRawPredict"), sent.Path);
        using var doc = sent.Json();
        Assert.False(doc.RootElement.TryGetProperty("model", out _));
        Assert.Equal("get_weather", doc.RootElement.GetProperty("tools")[0].GetProperty("name").GetString());
    }

    [Fact]
    public async Task Chat_completions_non_stream_answer_maps_back_to_openai()
    {
        _upstream.Enqueue(new VertexClaudeScript { Claude = new AnthropicScript { Text = "Grüezi", InputTokens = 9, OutputTokens = 2 } });
        ChatCompletion completion = await _gateway.OpenAI(AnthropicSdk.MasterKey).GetChatClient("claude-vertex").CompleteChatAsync([new UserChatMessage("Hello")]);
        Assert.Equal("Grüezi", completion.Content[0].Text);
        Assert.Equal(9, completion.Usage.InputTokenCount);
        Assert.Equal(Path_("rawPredict"), _upstream.ModelRequests.Single().Path);
    }

    [Theory]
    [InlineData("global", "https://aiplatform.googleapis.com/v1/projects/proj/locations/global/publishers/anthropic/models/claude-opus-4-5@20251101:rawPredict")]
    [InlineData("us-east5", "https://us-east5-aiplatform.googleapis.com/v1/projects/proj/locations/us-east5/publishers/anthropic/models/claude-opus-4-5@20251101:rawPredict")]
    public void Claude_urls_use_the_anthropic_publisher_in_every_region(string location, string expected)
    {
        var deployment = GeminiTestContext.Deployment("claude-opus-4-5@20251101", vertex: true, settings: new Dictionary<string, string> { ["vertex_project"] = "proj", ["vertex_location"] = location });
        using var provider = new VertexProvider();
        Assert.IsType<VertexClaudeProvider>(provider.ForModel("claude-opus-4-5@20251101"));
        Assert.Same(provider, provider.ForModel("gemini-2.5-pro"));
        Assert.Equal(expected, provider.PublisherUrl(deployment, VertexClaudeProvider.Publisher, "claude-opus-4-5@20251101", "rawPredict"));
    }
}
