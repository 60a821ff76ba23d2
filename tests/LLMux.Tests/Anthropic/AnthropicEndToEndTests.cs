using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;
using OpenAI.Chat;

namespace LLMux.Tests.Anthropic;

/// <summary>The OpenAI SDK talks to LLMux, which translates to the Anthropic emulator and back.</summary>
public sealed class AnthropicEndToEndTests : IAsyncLifetime
{
    private AnthropicEmulator _upstream = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await AnthropicEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync($"""
            model_list:
              - model_name: claude
                litellm_params:
                  model: anthropic/claude-sonnet-4-5
                  api_base: {_upstream.ApiBase}
                  api_key: sk-ant-upstream-secret
                  timeout: 5
              - model_name: claude-old
                litellm_params:
                  model: anthropic/claude-3-5-haiku-20241022
                  api_base: {_upstream.ApiBase}/v1/messages
                  api_key: sk-ant-upstream-secret
            router_settings:
              num_retries: 0
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private ChatClient Chat => _gateway.OpenAI().GetChatClient("claude");

    private static ChatCompletionOptions WeatherTool => new()
    {
        Tools = { ChatTool.CreateFunctionTool("get_weather", "Weather", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}}}""")) },
    };

    private async Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> PostAsync(string json)
    {
        var response = await _gateway.Http.PostAsync("/v1/chat/completions", new StringContent(json, Encoding.UTF8, "application/json"));
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    [Fact]
    public async Task Text_completion_reaches_anthropic_translated_and_comes_back_as_openai()
    {
        _upstream.Enqueue(new AnthropicScript { Text = "Bonjour!" });
        ChatCompletion completion = await Chat.CompleteChatAsync([new SystemChatMessage("Be brief."), new UserChatMessage("Say hello in French")]);

        Assert.Equal("Bonjour!", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(25, completion.Usage.InputTokenCount);
        Assert.Equal(12, completion.Usage.OutputTokenCount);
        Assert.StartsWith("msg_emu_", completion.Id, StringComparison.Ordinal);

        var sent = Assert.Single(_upstream.Requests);
        Assert.Equal("/v1/messages", sent.Path);
        Assert.Equal("sk-ant-upstream-secret", sent.Headers["x-api-key"]);
        Assert.Equal("2023-06-01", sent.Headers["anthropic-version"]);
        Assert.False(sent.Headers.ContainsKey("authorization"));
        using var body = sent.Json();
        var root = body.RootElement;
        Assert.Equal("claude-sonnet-4-5", root.GetProperty("model").GetString());
        Assert.Equal(64000, root.GetProperty("max_tokens").GetInt32());
        Assert.Equal("Be brief.", root.GetProperty("system")[0].GetProperty("text").GetString());
        Assert.Equal("Say hello in French", root.GetProperty("messages")[0].GetProperty("content")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task Api_base_ending_in_v1_messages_is_used_as_is()
    {
        ChatCompletion completion = await _gateway.OpenAI().GetChatClient("claude-old").CompleteChatAsync([new UserChatMessage("hi")]);
        Assert.NotNull(completion.Content[0].Text);
        var sent = Assert.Single(_upstream.Requests);
        Assert.Equal("/v1/messages", sent.Path);
        using var body = sent.Json();
        Assert.Equal(8192, body.RootElement.GetProperty("max_tokens").GetInt32());
    }

    [Fact]
    public async Task Streamed_text_arrives_in_order_and_ends_with_a_finish_reason()
    {
        _upstream.Enqueue(new AnthropicScript { Text = "one two three four five", Chunks = 5 });
        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in Chat.CompleteChatStreamingAsync([new UserChatMessage("count")]))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            finish ??= update.FinishReason;
        }
        Assert.Equal("one two three four five", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        using var sent = _upstream.Requests.Single().Json();
        Assert.True(sent.RootElement.GetProperty("stream").GetBoolean());
        Assert.False(sent.RootElement.TryGetProperty("stream_options", out _));
    }

    [Fact]
    public async Task Streamed_tool_call_arguments_are_reassembled_by_the_sdk()
    {
        _upstream.Enqueue(new AnthropicScript { Text = null, ToolCalls = [("toolu_01XY", "get_weather", """{"city":"Paris","unit":"celsius"}""")], Chunks = 6 });
        var args = new StringBuilder();
        string? name = null, id = null;
        ChatFinishReason? finish = null;
        await foreach (var update in Chat.CompleteChatStreamingAsync([new UserChatMessage("weather?")], WeatherTool))
        {
            foreach (var tc in update.ToolCallUpdates)
            {
                name ??= tc.FunctionName;
                id ??= tc.ToolCallId;
                if (tc.FunctionArgumentsUpdate is { } u && !u.ToMemory().IsEmpty) args.Append(u.ToString());
            }
            finish ??= update.FinishReason;
        }
        Assert.Equal("get_weather", name);
        Assert.Equal("toolu_01XY", id);
        Assert.Equal("""{"city":"Paris","unit":"celsius"}""", args.ToString());
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        using var sent = _upstream.Requests.Single().Json();
        Assert.Equal("get_weather", sent.RootElement.GetProperty("tools")[0].GetProperty("name").GetString());
    }

    [Fact]
    public async Task Non_stream_tool_call_round_trip_sends_tool_use_and_tool_result()
    {
        _upstream.Enqueue(new AnthropicScript { Text = null, ToolCalls = [("toolu_A", "get_weather", """{"city":"Rome"}""")] });
        ChatCompletion first = await Chat.CompleteChatAsync([new UserChatMessage("weather in Rome?")], WeatherTool);
        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        var call = Assert.Single(first.ToolCalls);
        Assert.Equal("toolu_A", call.Id);
        Assert.Equal("""{"city":"Rome"}""", call.FunctionArguments.ToString());

        _upstream.Enqueue(new AnthropicScript { Text = "It is sunny." });
        ChatCompletion second = await Chat.CompleteChatAsync([new UserChatMessage("weather in Rome?"), new AssistantChatMessage(first), new ToolChatMessage("toolu_A", "sunny, 24C")], WeatherTool);
        Assert.Equal("It is sunny.", second.Content[0].Text);
        using var sent = _upstream.Requests.Last().Json();
        var messages = sent.RootElement.GetProperty("messages");
        Assert.Equal("tool_use", messages[1].GetProperty("content")[0].GetProperty("type").GetString());
        Assert.Equal("Rome", messages[1].GetProperty("content")[0].GetProperty("input").GetProperty("city").GetString());
        Assert.Equal("tool_result", messages[2].GetProperty("content")[0].GetProperty("type").GetString());
        Assert.Equal("toolu_A", messages[2].GetProperty("content")[0].GetProperty("tool_use_id").GetString());
    }

    [Fact]
    public async Task Thinking_comes_back_as_reasoning_content_with_signed_thinking_blocks()
    {
        _upstream.Enqueue(new AnthropicScript { Thinking = "Two plus two is four.", Text = "4" });
        var (status, body, _) = await PostAsync("""{"model":"claude","messages":[{"role":"user","content":"2+2?"}],"reasoning_effort":"low"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        using var doc = JsonDocument.Parse(body);
        var message = doc.RootElement.GetProperty("choices")[0].GetProperty("message");
        Assert.Equal("4", message.GetProperty("content").GetString());
        Assert.Equal("Two plus two is four.", message.GetProperty("reasoning_content").GetString());
        var block = message.GetProperty("thinking_blocks")[0];
        Assert.Equal("thinking", block.GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(block.GetProperty("signature").GetString()));
        using var sent = _upstream.Requests.Single().Json();
        Assert.Equal(1024, sent.RootElement.GetProperty("thinking").GetProperty("budget_tokens").GetInt32());
        Assert.Equal(1024 + 4096, sent.RootElement.GetProperty("max_tokens").GetInt32());
    }

    [Fact]
    public async Task Streamed_thinking_arrives_as_reasoning_content_deltas_before_the_text()
    {
        _upstream.Enqueue(new AnthropicScript { Thinking = "Let me see.", Text = "Done.", Chunks = 3 });
        var (status, body, _) = await PostAsync("""{"model":"claude","stream":true,"messages":[{"role":"user","content":"go"}],"thinking":{"type":"enabled","budget_tokens":1024}}""");
        Assert.Equal(HttpStatusCode.OK, status);
        var reasoning = new StringBuilder();
        var text = new StringBuilder();
        var sawTextBeforeReasoningEnded = false;
        foreach (var frame in body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var data = frame["data: ".Length..];
            if (data == "[DONE]") continue;
            using var doc = JsonDocument.Parse(data);
            var delta = doc.RootElement.GetProperty("choices")[0].GetProperty("delta");
            if (delta.TryGetProperty("reasoning_content", out var r)) { reasoning.Append(r.GetString()); sawTextBeforeReasoningEnded |= text.Length > 0; }
            if (delta.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String) text.Append(c.GetString());
        }
        Assert.Equal("Let me see.", reasoning.ToString());
        Assert.Equal("Done.", text.ToString());
        Assert.False(sawTextBeforeReasoningEnded);
        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Images_as_data_uri_and_http_url_become_anthropic_image_blocks()
    {
        var png = BinaryData.FromBytes([0x89, 0x50, 0x4E, 0x47]);
        await Chat.CompleteChatAsync([new UserChatMessage(
            ChatMessageContentPart.CreateTextPart("What is in these?"),
            ChatMessageContentPart.CreateImagePart(png, "image/png"),
            ChatMessageContentPart.CreateImagePart(new Uri("http://images.example.com/cat.jpg")))]);
        using var sent = _upstream.Requests.Single().Json();
        var content = sent.RootElement.GetProperty("messages")[0].GetProperty("content");
        Assert.Equal(3, content.GetArrayLength());
        var b64 = content[1].GetProperty("source");
        Assert.Equal("base64", b64.GetProperty("type").GetString());
        Assert.Equal("image/png", b64.GetProperty("media_type").GetString());
        Assert.Equal(Convert.ToBase64String(png.ToArray()), b64.GetProperty("data").GetString());
        var url = content[2].GetProperty("source");
        Assert.Equal("url", url.GetProperty("type").GetString());
        Assert.Equal("http://images.example.com/cat.jpg", url.GetProperty("url").GetString());
    }

    [Fact]
    public async Task Translated_stream_usage_chunk_carries_the_cost()
    {
        // claude-sonnet-4-5: 10 × $3/M + 1000 cache reads × $0.30/M + 200 cache writes × $3.75/M + 30 × $15/M.
        _upstream.Enqueue(new AnthropicScript { InputTokens = 10, CacheCreationTokens = 200, CacheReadTokens = 1000, OutputTokens = 30 });
        var (_, body, _) = await PostAsync("""{"model":"claude","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}""");
        var frame = body.Split("\n\n").Single(f => f.Contains("\"usage\":{", StringComparison.Ordinal));
        using var doc = JsonDocument.Parse(frame["data: ".Length..]);
        Assert.Equal(0.00153m, doc.RootElement.GetProperty("usage").GetProperty("cost").GetDecimal());
    }

    [Fact]
    public async Task Usage_counts_cache_writes_and_reads_in_prompt_tokens()
    {
        _upstream.Enqueue(new AnthropicScript { InputTokens = 10, CacheCreationTokens = 200, CacheReadTokens = 1000, OutputTokens = 30 });
        ChatCompletion completion = await Chat.CompleteChatAsync([new UserChatMessage("hi")]);
        Assert.Equal(1210, completion.Usage.InputTokenCount);
        Assert.Equal(30, completion.Usage.OutputTokenCount);
        Assert.Equal(1240, completion.Usage.TotalTokenCount);
        Assert.Equal(1000, completion.Usage.InputTokenDetails.CachedTokenCount);

        _upstream.Enqueue(new AnthropicScript { InputTokens = 10, CacheCreationTokens = 200, CacheReadTokens = 1000, OutputTokens = 30 });
        ChatTokenUsage? usage = null;
        await foreach (var update in Chat.CompleteChatStreamingAsync([new UserChatMessage("hi")])) usage ??= update.Usage;
        Assert.NotNull(usage);
        Assert.Equal(1210, usage!.InputTokenCount);
        Assert.Equal(1000, usage.InputTokenDetails.CachedTokenCount);

        _upstream.Enqueue(new AnthropicScript { InputTokens = 10, CacheCreationTokens = 200, CacheReadTokens = 1000, OutputTokens = 30 });
        var (_, body, _) = await PostAsync("""{"model":"claude","messages":[{"role":"user","content":"hi"}]}""");
        using var doc = JsonDocument.Parse(body);
        var u = doc.RootElement.GetProperty("usage");
        Assert.Equal(200, u.GetProperty("prompt_tokens_details").GetProperty("cache_creation_tokens").GetInt64());
        Assert.Equal(200, u.GetProperty("cache_creation_input_tokens").GetInt64());
        Assert.Equal(1000, u.GetProperty("cache_read_input_tokens").GetInt64());
    }

    [Theory]
    [InlineData("end_turn", "stop")]
    [InlineData("stop_sequence", "stop")]
    [InlineData("max_tokens", "length")]
    [InlineData("refusal", "content_filter")]
    public async Task Stop_reasons_map_to_openai_finish_reasons(string stopReason, string finishReason)
    {
        _upstream.Enqueue(new AnthropicScript { StopReason = stopReason });
        var (_, body, _) = await PostAsync("""{"model":"claude","messages":[{"role":"user","content":"hi"}]}""");
        using var doc = JsonDocument.Parse(body);
        Assert.Equal(finishReason, doc.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());

        _upstream.Enqueue(new AnthropicScript { StopReason = stopReason });
        var (_, sse, _) = await PostAsync("""{"model":"claude","stream":true,"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Contains($"\"finish_reason\":\"{finishReason}\"", sse, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_schema_on_an_older_model_comes_back_as_content()
    {
        _upstream.Enqueue(new AnthropicScript { Text = null, ToolCalls = [("toolu_J", "json_tool_call", """{"answer":42}""")] });
        var (_, body, _) = await PostAsync("""{"model":"claude-old","messages":[{"role":"user","content":"answer?"}],"response_format":{"type":"json_schema","json_schema":{"name":"a","schema":{"type":"object","properties":{"answer":{"type":"integer"}}}}}}""");
        using var doc = JsonDocument.Parse(body);
        var choice = doc.RootElement.GetProperty("choices")[0];
        Assert.Equal("""{"answer":42}""", choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.False(choice.GetProperty("message").TryGetProperty("tool_calls", out _));
    }

    [Theory]
    [InlineData(400, "invalid_request_error", "messages: roles must alternate", 400, "invalid_request_error")]
    [InlineData(400, "invalid_request_error", "prompt is too long: 250000 tokens > 200000 maximum", 400, "invalid_request_error")]
    [InlineData(401, "authentication_error", "invalid x-api-key", 401, "authentication_error")]
    [InlineData(403, "permission_error", "Your API key does not have permission to use the specified resource.", 403, "permission_error")]
    [InlineData(404, "not_found_error", "model: claude-nope", 404, "not_found_error")]
    [InlineData(413, "request_too_large", "Request exceeds the maximum allowed number of bytes.", 400, "invalid_request_error")]
    [InlineData(500, "api_error", "Internal server error", 500, "server_error")]
    [InlineData(529, "overloaded_error", "Overloaded", 503, "service_unavailable_error")]
    public async Task Upstream_errors_map_to_the_litellm_status_and_keep_the_request_id(int upstreamStatus, string type, string message, int status, string openAIType)
    {
        _upstream.Enqueue(new AnthropicScript { ErrorStatus = upstreamStatus, ErrorType = type, ErrorMessage = message });
        var (actual, body, response) = await PostAsync("""{"model":"claude","messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(status, (int)actual);
        using var doc = JsonDocument.Parse(body);
        var error = doc.RootElement.GetProperty("error");
        Assert.Equal(openAIType, error.GetProperty("type").GetString());
        Assert.Contains(message, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(type, error.GetProperty("code").GetString());
        Assert.Equal(upstreamStatus, error.GetProperty("upstream_status").GetInt32());
        Assert.StartsWith("req_emu_", error.GetProperty("upstream_request_id").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("sk-ant-upstream-secret", body, StringComparison.Ordinal);
        response.Dispose();
    }

    [Fact]
    public async Task Rate_limit_keeps_retry_after_and_the_sdk_sees_429()
    {
        _upstream.Enqueue(new AnthropicScript { ErrorStatus = 429, ErrorType = "rate_limit_error", ErrorMessage = "Number of request tokens has exceeded your per-minute rate limit", ErrorHeaders = new Dictionary<string, string> { ["retry-after"] = "17" } });
        var (status, _, response) = await PostAsync("""{"model":"claude","messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Equal("17", response.Headers.GetValues("Retry-After").Single());
        response.Dispose();

        _upstream.Enqueue(new AnthropicScript { ErrorStatus = 429, ErrorType = "rate_limit_error", ErrorMessage = "slow down" });
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Chat.CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(429, ex.Status);
    }

    [Fact]
    public async Task Overloaded_error_event_before_content_is_an_http_503()
    {
        _upstream.Enqueue(new AnthropicScript { ErrorEventAfter = 0, ErrorType = "overloaded_error", ErrorMessage = "Overloaded" });
        var (status, body, _) = await PostAsync("""{"model":"claude","stream":true,"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        using var doc = JsonDocument.Parse(body);
        Assert.Equal("overloaded_error", doc.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Error_event_mid_stream_becomes_a_final_error_frame_without_done()
    {
        _upstream.Enqueue(new AnthropicScript { Text = "partial answer here", Chunks = 4, ErrorEventAfter = 2, ErrorType = "overloaded_error", ErrorMessage = "Overloaded" });
        var (status, body, _) = await PostAsync("""{"model":"claude","stream":true,"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.DoesNotContain("[DONE]", body, StringComparison.Ordinal);
        var frames = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        using var last = JsonDocument.Parse(frames[^1]["data: ".Length..]);
        var error = last.RootElement.GetProperty("error");
        Assert.Equal("service_unavailable_error", error.GetProperty("type").GetString());
        Assert.Contains("Overloaded", error.GetProperty("message").GetString(), StringComparison.Ordinal);

        _upstream.Enqueue(new AnthropicScript { Text = "partial answer here", Chunks = 4, ErrorEventAfter = 2, ErrorType = "overloaded_error", ErrorMessage = "Overloaded" });
        // The OpenAI SDK does not raise on an error frame; what it must not see is a finish_reason.
        ChatFinishReason? finish = null;
        var text = new StringBuilder();
        await foreach (var update in Chat.CompleteChatStreamingAsync([new UserChatMessage("hi")]))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            finish ??= update.FinishReason;
        }
        Assert.Null(finish);
        Assert.True(text.Length > 0 && text.Length < "partial answer here".Length);
    }

    [Fact]
    public async Task Truncated_stream_ends_with_an_error_frame_not_a_finish_reason()
    {
        _upstream.Enqueue(new AnthropicScript { Text = "cut short here", Chunks = 4, TruncateAfter = 2 });
        var (status, body, _) = await PostAsync("""{"model":"claude","stream":true,"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.DoesNotContain("[DONE]", body, StringComparison.Ordinal);
        Assert.DoesNotContain("\"finish_reason\":\"", body, StringComparison.Ordinal);
        var frames = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        using var last = JsonDocument.Parse(frames[^1]["data: ".Length..]);
        Assert.Equal("bad_gateway_error", last.RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task Unsupported_params_are_a_400_naming_the_param_unless_drop_params()
    {
        var (status, body, _) = await PostAsync("""{"model":"claude","messages":[{"role":"user","content":"hi"}],"logit_bias":{"50256":-100}}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("logit_bias", body, StringComparison.Ordinal);
        Assert.Contains("drop_params", body, StringComparison.Ordinal);
        Assert.Empty(_upstream.Requests);

        var (okStatus, _, response) = await PostAsync("""{"model":"claude","messages":[{"role":"user","content":"hi"}],"logit_bias":{"50256":-100},"seed":3,"drop_params":true}""");
        Assert.Equal(HttpStatusCode.OK, okStatus);
        Assert.Contains("logit_bias", response.Headers.GetValues("x-llmux-warnings").Single(), StringComparison.Ordinal);
        using var sent = _upstream.Requests.Single().Json();
        Assert.False(sent.RootElement.TryGetProperty("logit_bias", out _));
        Assert.False(sent.RootElement.TryGetProperty("seed", out _));
        Assert.False(sent.RootElement.TryGetProperty("drop_params", out _));
        response.Dispose();
    }

    [Fact]
    public async Task Rejected_param_is_a_400_even_with_drop_params()
    {
        var (status, body, _) = await PostAsync("""{"model":"claude","messages":[{"role":"user","content":"hi"}],"audio":{"voice":"alloy","format":"wav"},"drop_params":true}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("`audio` cannot be used with anthropic", body, StringComparison.Ordinal);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Embeddings_on_an_anthropic_model_answer_4xx_without_an_upstream_call()
    {
        var (status, body, _) = await PostEmbeddingsAsync();
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("embeddings", body, StringComparison.Ordinal);
        Assert.Empty(_upstream.Requests);
    }

    private async Task<(HttpStatusCode, string, HttpResponseMessage)> PostEmbeddingsAsync()
    {
        var response = await _gateway.Http.PostAsync("/v1/embeddings", new StringContent("""{"model":"claude","input":"hi"}""", Encoding.UTF8, "application/json"));
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }
}
