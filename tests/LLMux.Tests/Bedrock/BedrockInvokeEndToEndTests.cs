using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using Anthropic;
using Anthropic.Models.Messages;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;
using LLMux.Tests.Messages;
using OpenAI.Chat;

namespace LLMux.Tests.Bedrock;

/// <summary>
/// Claude through Bedrock InvokeModel: the Anthropic SDK on /v1/messages (near-passthrough) and the OpenAI SDK on
/// /v1/chat/completions (the Anthropic writer), against the Bedrock emulator, which checks SigV4 and refuses what
/// Bedrock refuses (model or stream in the body, wrong anthropic_version, unknown fields, betas it lacks).
/// </summary>
public sealed class BedrockInvokeEndToEndTests : IAsyncLifetime
{
    private const string InvokeModelId = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
    private BedrockEmulator _upstream = null!;
    private GatewayHost _gateway = null!;
    private AnthropicClient _client = null!;

    public async Task InitializeAsync()
    {
        _upstream = await BedrockEmulator.StartNewAsync();
        var creds = $"""
                  api_base: {_upstream.ApiBase}
                  aws_access_key_id: {BedrockEmulator.AccessKeyId}
                  aws_secret_access_key: {BedrockEmulator.SecretAccessKey}
                  aws_region_name: {BedrockEmulator.Region}
                  timeout: 5
            """;
        _gateway = await GatewayHost.StartAsync($"""
            general_settings:
              master_key: {AnthropicSdk.MasterKey}
            router_settings:
              num_retries: 0
            model_list:
              - model_name: claude-invoke
                litellm_params:
                  model: bedrock/invoke/{InvokeModelId}
            {creds}
              - model_name: claude-bedrock
                litellm_params:
                  model: bedrock/{InvokeModelId}
            {creds}
              - model_name: claude-converse
                litellm_params:
                  model: bedrock/converse/{InvokeModelId}
            {creds}
              - model_name: llama-invoke
                litellm_params:
                  model: bedrock/invoke/meta.llama3-70b-instruct-v1:0
            {creds}
            """);
        _client = AnthropicSdk.For(_gateway);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private async Task<HttpResponseMessage> PostMessagesAsync(string body, string? beta = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("x-api-key", AnthropicSdk.MasterKey);
        request.Headers.TryAddWithoutValidation("anthropic-version", "2023-06-01");
        if (beta is not null) request.Headers.TryAddWithoutValidation("anthropic-beta", beta);
        return await _gateway.Http.SendAsync(request);
    }

    private static string Target(string operation) => "/model/" + Uri.EscapeDataString(InvokeModelId) + "/" + operation;

    [Fact]
    public async Task Messages_body_reaches_invoke_with_only_what_bedrock_refuses_changed()
    {
        const string body = """{"model":"claude-invoke","max_tokens":3000,"system":[{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"Hi"}],"top_k":5,"metadata":{"user_id":"u-1"},"context_management":{"edits":[{"type":"clear_thinking_20251015","keep":"all"}]},"thinking":{"type":"enabled","budget_tokens":1024}}""";
        using var response = await PostMessagesAsync(body, beta: "claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27,oauth-2025-04-20");
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        Assert.Equal(Target("invoke"), _upstream.RawTargets.Single());
        using var sent = _upstream.Requests.Single().Json();
        var root = sent.RootElement;
        Assert.False(root.TryGetProperty("model", out _));
        Assert.Equal("bedrock-2023-05-31", root.GetProperty("anthropic_version").GetString());
        Assert.Equal(["interleaved-thinking-2025-05-14", "context-management-2025-06-27"], root.GetProperty("anthropic_beta").EnumerateArray().Select(static b => b.GetString()!).ToArray());
        using var original = JsonDocument.Parse(body);
        foreach (var p in original.RootElement.EnumerateObject())
            if (p.Name != "model") Assert.True(JsonElement.DeepEquals(p.Value, root.GetProperty(p.Name)), p.Name);
        var warning = string.Join(";", response.Headers.GetValues("x-llmux-warnings"));
        Assert.Contains("claude-code-20250219", warning);
        Assert.Contains("oauth-2025-04-20", warning);
        Assert.DoesNotContain("interleaved", warning);
        Assert.Equal("bedrock", response.Headers.GetValues("x-llmux-provider").Single());
        Assert.True(response.Headers.Contains("x-llmux-response-cost"));
    }

    [Fact]
    public async Task Sdk_message_keeps_thinking_signature_tool_use_and_cache_usage()
    {
        _upstream.Enqueue(new BedrockScript
        {
            Claude = new AnthropicScript
            {
                Thinking = "Weather needs a tool.", Signature = "ErcBCkgIBxABGAIiQL+sig/==", Text = "Let me check.",
                ToolCalls = [("toolu_01A", "get_weather", """{"city":"Paris"}""")], InputTokens = 25, OutputTokens = 12, CacheCreationTokens = 7, CacheReadTokens = 100,
            },
        });
        var message = await _client.Messages.Create(WeatherParams("claude-invoke"));
        Assert.True(message.Content[0].TryPickThinking(out var thinking));
        Assert.Equal("ErcBCkgIBxABGAIiQL+sig/==", thinking!.Signature);
        Assert.True(message.Content[2].TryPickToolUse(out var tool));
        Assert.Equal("get_weather", tool!.Name);
        Assert.Equal("Paris", tool.Input["city"].GetString());
        Assert.Equal(25, message.Usage.InputTokens);
        Assert.Equal(7, message.Usage.CacheCreationInputTokens);
        Assert.Equal(100, message.Usage.CacheReadInputTokens);
        using var sent = _upstream.Requests.Single().Json();
        Assert.False(sent.RootElement.TryGetProperty("stream", out _));
    }

    [Fact]
    public async Task Sdk_stream_is_anthropic_sse_with_signature_and_tool_json_intact()
    {
        _upstream.Enqueue(new BedrockScript
        {
            Claude = new AnthropicScript
            {
                Thinking = "hmm", Signature = "EqQBsig+/=", Text = "one two three", Chunks = 3,
                ToolCalls = [("toolu_02", "get_weather", """{"city":"Oslo"}""")], InputTokens = 40, OutputTokens = 9,
            },
        });
        var text = "";
        var json = "";
        string? signature = null;
        var events = new List<string>();
        await foreach (var ev in _client.Messages.CreateStreaming(WeatherParams("claude-invoke")))
        {
            events.Add(ev.Json.GetProperty("type").GetString()!);
            if (ev.TryPickContentBlockDelta(out var delta))
            {
                if (delta!.Delta.TryPickText(out var t)) text += t!.Text;
                else if (delta.Delta.TryPickInputJson(out var ij)) json += ij!.PartialJson;
                else if (delta.Delta.TryPickSignature(out var sig)) signature = sig!.Signature;
            }
        }
        Assert.Equal("one two three", text);
        Assert.Equal("""{"city":"Oslo"}""", json);
        Assert.Equal("EqQBsig+/=", signature);
        Assert.Equal("message_start", events[0]);
        Assert.Equal("message_stop", events[^1]);
        Assert.Equal(Target("invoke-with-response-stream"), _upstream.RawTargets.Single());
    }

    private static MessageCreateParams WeatherParams(string model) => new()
    {
        Model = model,
        MaxTokens = 4096,
        Thinking = new ThinkingConfigEnabled { BudgetTokens = 2048 },
        Tools = [new Tool { Name = "get_weather", InputSchema = new InputSchema { Properties = new Dictionary<string, JsonElement> { ["city"] = JsonDocument.Parse("""{"type":"string"}""").RootElement } } }],
        Messages = [new UserMessageParam("weather in Paris?")],
    };

    [Fact]
    public async Task Throttling_before_the_first_event_is_a_429_in_anthropic_shape()
    {
        _upstream.Enqueue(new BedrockScript { Error = (429, "ThrottlingException", "Too many requests, please wait before trying again.") });
        using var response = await PostMessagesAsync("""{"model":"claude-invoke","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"Hi"}]}""");
        Assert.Equal((HttpStatusCode)429, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("error", doc.RootElement.GetProperty("type").GetString());
        Assert.Equal("rate_limit_error", doc.RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_throttling_exception_as_the_first_stream_message_is_a_429()
    {
        _upstream.Enqueue(new BedrockScript { StreamException = (0, "throttlingException", "Too many tokens, please wait before trying again.") });
        using var response = await PostMessagesAsync("""{"model":"claude-invoke","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"Hi"}]}""");
        Assert.Equal((HttpStatusCode)429, response.StatusCode);
    }

    [Fact]
    public async Task An_exception_after_streaming_began_is_a_final_error_event()
    {
        _upstream.Enqueue(new BedrockScript { StreamException = (2, "modelStreamErrorException", "The model stopped."), Claude = new AnthropicScript { Text = "abcdefgh", Chunks = 4 } });
        using var response = await PostMessagesAsync("""{"model":"claude-invoke","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"Hi"}]}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sse = await response.Content.ReadAsStringAsync();
        Assert.Contains("event: content_block_delta", sse);
        Assert.Contains("event: error", sse);
        Assert.DoesNotContain("message_stop", sse);
    }

    [Fact]
    public async Task Validation_errors_are_400_invalid_request()
    {
        _upstream.Enqueue(new BedrockScript { Error = (400, "ValidationException", "messages: roles must alternate between \"user\" and \"assistant\"") });
        using var response = await PostMessagesAsync("""{"model":"claude-invoke","max_tokens":10,"messages":[{"role":"user","content":"Hi"}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("invalid_request_error", doc.RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task Plain_bedrock_claude_uses_invoke_for_messages_and_converse_for_chat_completions()
    {
        using (var r = await PostMessagesAsync("""{"model":"claude-bedrock","max_tokens":10,"messages":[{"role":"user","content":"Hi"}]}"""))
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        await _gateway.OpenAI(AnthropicSdk.MasterKey).GetChatClient("claude-bedrock").CompleteChatAsync([new UserChatMessage("Hi")]);
        using (var r = await PostMessagesAsync("""{"model":"claude-converse","max_tokens":10,"messages":[{"role":"user","content":"Hi"}]}"""))
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal([Target("invoke"), Target("converse"), Target("converse")], _upstream.RawTargets.ToArray());
    }

    [Fact]
    public async Task Invoke_chat_for_a_non_claude_family_is_a_clear_400_without_an_upstream_call()
    {
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => _gateway.OpenAI(AnthropicSdk.MasterKey).GetChatClient("llama-invoke").CompleteChatAsync([new UserChatMessage("Hi")]));
        Assert.Equal(400, ex.Status);
        Assert.Contains("bedrock/converse/meta.llama3-70b-instruct-v1:0", ex.Message);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Chat_completions_reach_invoke_through_the_anthropic_writer()
    {
        _upstream.Enqueue(new BedrockScript { Claude = new AnthropicScript { Text = "Bonjour", InputTokens = 20, OutputTokens = 3, CacheReadTokens = 4 } });
        var chat = _gateway.OpenAI(AnthropicSdk.MasterKey).GetChatClient("claude-invoke");
        ChatCompletion completion = await chat.CompleteChatAsync([new SystemChatMessage("Be brief."), new UserChatMessage("Hello")], new ChatCompletionOptions { MaxOutputTokenCount = 50 });
        Assert.Equal("Bonjour", completion.Content[0].Text);
        Assert.Equal(24, completion.Usage.InputTokenCount);
        Assert.Equal(4, completion.Usage.InputTokenDetails.CachedTokenCount);
        using var sent = _upstream.Requests.Single().Json();
        Assert.Equal("Be brief.", sent.RootElement.GetProperty("system")[0].GetProperty("text").GetString());
        Assert.Equal(50, sent.RootElement.GetProperty("max_tokens").GetInt32());
    }

    [Fact]
    public async Task Chat_completions_stream_a_tool_call_and_usage_from_invoke()
    {
        _upstream.Enqueue(new BedrockScript { Claude = new AnthropicScript { Text = "", ToolCalls = [("toolu_9", "get_weather", """{"city":"Rome"}""")], InputTokens = 15, OutputTokens = 6 } });
        var chat = _gateway.OpenAI(AnthropicSdk.MasterKey).GetChatClient("claude-invoke");
        var tool = ChatTool.CreateFunctionTool("get_weather", "weather", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}}}"""));
        var args = new StringBuilder();
        string? name = null;
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("weather in Rome?")], new ChatCompletionOptions { Tools = { tool } }))
        {
            foreach (var call in update.ToolCallUpdates)
            {
                name ??= call.FunctionName;
                args.Append(call.FunctionArgumentsUpdate?.ToString());
            }
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }
        Assert.Equal("get_weather", name);
        Assert.Equal("""{"city":"Rome"}""", args.ToString());
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        Assert.Equal(15, usage!.InputTokenCount);
        Assert.Equal(Target("invoke-with-response-stream"), _upstream.RawTargets.Single());
    }
}
