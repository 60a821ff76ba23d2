using System.Net;
using System.Text;
using System.Text.Json;
using Anthropic;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;

namespace LLMux.Tests.Messages;

/// <summary>The Anthropic SDK talks to LLMux's /v1/messages, which serves it from the OpenAI emulator.</summary>
public sealed class MessagesOverOpenAITests : IAsyncLifetime
{
    private OpenAIEmulator _upstream = null!;
    private GatewayHost _gateway = null!;
    private AnthropicClient _client = null!;

    public async Task InitializeAsync()
    {
        _upstream = await OpenAIEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync($"""
            general_settings:
              master_key: {AnthropicSdk.MasterKey}
            router_settings:
              num_retries: 0
            model_list:
              - model_name: gpt-test
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: {_upstream.ApiBase}
                  api_key: sk-upstream-secret
                  timeout: 5
            """);
        _client = AnthropicSdk.For(_gateway);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private static MessageCreateParams Ask(string text, long maxTokens = 256) => new()
    {
        Model = "gpt-test",
        MaxTokens = maxTokens,
        Messages = [new UserMessageParam(text)],
    };

    private JsonElement LastUpstreamBody()
    {
        var sent = _upstream.Requests.Last();
        Assert.Equal("/v1/chat/completions", sent.Path);
        return sent.Json().RootElement;
    }

    [Fact]
    public async Task Non_stream_answer_becomes_an_Anthropic_message_with_usage()
    {
        _upstream.Enqueue(new OpenAIScript { Content = "Bonjour!", PromptTokens = 20, CachedTokens = 8, CompletionTokens = 3 });
        var message = await _client.Messages.Create(Ask("Say hello in French") with
        {
            System = "Be brief.",
            StopSequences = ["END"],
            Metadata = new() { UserID = "user-42" },
        });

        Assert.Equal("gpt-4o-mini", message.Model.Raw());
        Assert.StartsWith("msg_", message.ID);
        var block = Assert.Single(message.Content);
        Assert.True(block.TryPickText(out var text));
        Assert.Equal("Bonjour!", text!.Text);
        Assert.Equal(StopReason.EndTurn, message.StopReason!.Value());
        Assert.Equal(12, message.Usage.InputTokens); // prompt minus cache reads
        Assert.Equal(8, message.Usage.CacheReadInputTokens);
        Assert.Equal(3, message.Usage.OutputTokens);

        var sent = _upstream.Requests.Single();
        Assert.Equal("Bearer sk-upstream-secret", sent.Headers["authorization"]);
        var body = LastUpstreamBody();
        Assert.Equal("gpt-4o-mini", body.GetProperty("model").GetString());
        Assert.Equal(256, body.GetProperty("max_tokens").GetInt32());
        Assert.Equal("user-42", body.GetProperty("user").GetString());
        Assert.Equal("END", body.GetProperty("stop")[0].GetString());
        var messages = body.GetProperty("messages");
        Assert.Equal("system", messages[0].GetProperty("role").GetString());
        Assert.Equal("Be brief.", messages[0].GetProperty("content").GetString());
        Assert.Equal("user", messages[1].GetProperty("role").GetString());
        Assert.Equal("Say hello in French", messages[1].GetProperty("content").GetString());
        Assert.False(body.TryGetProperty("system", out _));
        Assert.False(body.TryGetProperty("metadata", out _));
        Assert.False(body.TryGetProperty("stop_sequences", out _));
    }

    [Fact]
    public async Task Streamed_answer_aggregates_into_the_final_message_and_asks_for_usage()
    {
        _upstream.Enqueue(new OpenAIScript { Content = "Streaming through LLMux works.", Chunks = 5, PromptTokens = 9, CompletionTokens = 6 });
        var events = new List<string>();
        var aggregator = new global::Anthropic.Helpers.MessageContentAggregator();
        await foreach (var e in _client.Messages.CreateStreaming(Ask("stream please")).CollectAsync(aggregator))
        {
            events.Add(e.Json.GetProperty("type").GetString()!);
        }
        var message = aggregator.Message();

        Assert.Equal("message_start", events[0]);
        Assert.Equal("message_stop", events[^1]);
        Assert.True(events.Count(static e => e == "content_block_delta") >= 5);
        var block = Assert.Single(message.Content);
        Assert.True(block.TryPickText(out var text));
        Assert.Equal("Streaming through LLMux works.", text!.Text);
        Assert.Equal(StopReason.EndTurn, message.StopReason!.Value());
        Assert.Equal(9, message.Usage.InputTokens);
        Assert.Equal(6, message.Usage.OutputTokens);

        var body = LastUpstreamBody();
        Assert.True(body.GetProperty("stream").GetBoolean());
        Assert.True(body.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
    }

    [Fact]
    public async Task Tool_round_trip_tool_use_then_tool_result_then_answer()
    {
        Tool weather = new()
        {
            Name = "get_weather",
            Description = "Weather for a city",
            InputSchema = new() { Properties = new Dictionary<string, JsonElement> { ["city"] = JsonSerializer.SerializeToElement(new { type = "string" }) }, Required = ["city"] },
        };
        _upstream.Enqueue(new OpenAIScript { ToolCall = ("get_weather", """{"city":"Paris"}""") });
        var first = await _client.Messages.Create(Ask("Weather in Paris?") with { Tools = [weather], ToolChoice = new ToolChoiceAny() });

        Assert.Equal(StopReason.ToolUse, first.StopReason!.Value());
        var use = first.Content.Single(static b => b.TryPickToolUse(out _));
        use.TryPickToolUse(out var toolUse);
        Assert.Equal("call_emu_1", toolUse!.ID);
        Assert.Equal("get_weather", toolUse.Name);
        Assert.Equal("Paris", toolUse.Input["city"].GetString());

        var firstBody = LastUpstreamBody();
        Assert.Equal("required", firstBody.GetProperty("tool_choice").GetString());
        var fn = firstBody.GetProperty("tools")[0].GetProperty("function");
        Assert.Equal("get_weather", fn.GetProperty("name").GetString());
        Assert.Equal("object", fn.GetProperty("parameters").GetProperty("type").GetString());

        _upstream.Enqueue(new OpenAIScript { Content = "It is sunny in Paris." });
        var second = await _client.Messages.Create(new MessageCreateParams
        {
            Model = "gpt-test",
            MaxTokens = 256,
            Tools = [weather],
            Messages =
            [
                new UserMessageParam("Weather in Paris?"),
                new AssistantMessageParam { Content = new List<ContentBlockParam> { new ToolUseBlockParam { ID = toolUse.ID, Name = toolUse.Name, Input = toolUse.Input } } },
                new UserMessageParam { Content = new List<ContentBlockParam> { new ToolResultBlockParam { ToolUseID = toolUse.ID, Content = "sunny, 21C" }, new TextBlockParam { Text = "Summarise." } } },
            ],
        });
        second.Content[0].TryPickText(out var answer);
        Assert.Equal("It is sunny in Paris.", answer!.Text);

        var messages = LastUpstreamBody().GetProperty("messages");
        Assert.Equal(4, messages.GetArrayLength());
        var call = messages[1].GetProperty("tool_calls")[0];
        Assert.Equal("call_emu_1", call.GetProperty("id").GetString());
        using (var args = JsonDocument.Parse(call.GetProperty("function").GetProperty("arguments").GetString()!))
            Assert.Equal("Paris", args.RootElement.GetProperty("city").GetString());
        Assert.Equal("tool", messages[2].GetProperty("role").GetString());
        Assert.Equal("call_emu_1", messages[2].GetProperty("tool_call_id").GetString());
        Assert.Equal("sunny, 21C", messages[2].GetProperty("content").GetString());
        Assert.Equal("user", messages[3].GetProperty("role").GetString());
        Assert.Equal("Summarise.", messages[3].GetProperty("content").GetString());
    }

    [Fact]
    public async Task Streamed_tool_call_aggregates_into_tool_use_with_parsed_input()
    {
        _upstream.Enqueue(new OpenAIScript { ToolCall = ("get_weather", """{"city":"Paris","unit":"celsius"}"""), Chunks = 6 });
        var message = await _client.Messages.CreateStreaming(Ask("Weather?") with
        {
            Tools = [new Tool { Name = "get_weather", InputSchema = new() { Properties = new Dictionary<string, JsonElement>() } }],
        }).Aggregate();

        Assert.Equal(StopReason.ToolUse, message.StopReason!.Value());
        var block = Assert.Single(message.Content);
        Assert.True(block.TryPickToolUse(out var use));
        Assert.Equal("call_emu_1", use!.ID);
        Assert.Equal("celsius", use.Input["unit"].GetString());
    }

    [Fact]
    public async Task Thinking_maps_to_reasoning_effort_and_reasoning_comes_back_as_a_thinking_block()
    {
        _upstream.Enqueue(new OpenAIScript { Content = "42.", Reasoning = "Six times seven." });
        var message = await _client.Messages.Create(Ask("Answer?", 8192) with { Thinking = new ThinkingConfigEnabled { BudgetTokens = 4096 } });

        Assert.Equal(2, message.Content.Count);
        Assert.True(message.Content[0].TryPickThinking(out var thinking));
        Assert.Equal("Six times seven.", thinking!.Thinking);
        Assert.True(message.Content[1].TryPickText(out var text));
        Assert.Equal("42.", text!.Text);

        var body = LastUpstreamBody();
        Assert.Equal("low", body.GetProperty("reasoning_effort").GetString());
        Assert.False(body.TryGetProperty("thinking", out _));
    }

    [Fact]
    public async Task Streamed_reasoning_becomes_a_thinking_block_before_the_text_block()
    {
        _upstream.Enqueue(new OpenAIScript { Content = "Done.", Reasoning = "Thinking it over carefully." });
        var message = await _client.Messages.CreateStreaming(Ask("Think") with { Thinking = new ThinkingConfigEnabled { BudgetTokens = 12000 }, MaxTokens = 16000 }).Aggregate();

        Assert.Equal(2, message.Content.Count);
        Assert.True(message.Content[0].TryPickThinking(out var thinking));
        Assert.Equal("Thinking it over carefully.", thinking!.Thinking);
        Assert.True(message.Content[1].TryPickText(out var text));
        Assert.Equal("Done.", text!.Text);
        Assert.Equal("high", LastUpstreamBody().GetProperty("reasoning_effort").GetString());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Long_tool_names_are_shortened_for_the_upstream_and_restored_for_the_client(bool stream)
    {
        const string longName = "mcp__filesystem_server_with_a_long_name__read_multiple_files_at_once";
        var sentName = LLMux.Stages.Messages.ToolNameShortener.Shorten(longName);
        _upstream.Enqueue(new OpenAIScript { ToolCall = (sentName, """{"paths":["a"]}""") });
        var request = Ask("read") with { Tools = [new Tool { Name = longName, InputSchema = new() { Properties = new Dictionary<string, JsonElement>() } }] };
        var message = stream ? await _client.Messages.CreateStreaming(request).Aggregate() : await _client.Messages.Create(request);

        Assert.True(message.Content.Single().TryPickToolUse(out var use));
        Assert.Equal(longName, use!.Name);
        Assert.Equal(sentName, LastUpstreamBody().GetProperty("tools")[0].GetProperty("function").GetProperty("name").GetString());
    }

    [Fact]
    public async Task Claude_only_hints_are_dropped_for_an_OpenAI_model_and_named_in_the_warnings_header()
    {
        _upstream.Enqueue(new OpenAIScript { Content = "ok" });
        using var raw = await PostAsync("""{"model":"gpt-test","max_tokens":10,"context_management":{"edits":[{"type":"clear_tool_uses_20250919"}]},"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.OK, raw.StatusCode);
        Assert.Contains("context_management", raw.Headers.GetValues("x-llmux-warnings").Single());
        Assert.False(LastUpstreamBody().TryGetProperty("context_management", out _));
    }

    [Fact]
    public async Task Images_reach_the_upstream_as_data_uri_image_parts()
    {
        const string png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
        _upstream.Enqueue(new OpenAIScript { Content = "A pixel." });
        await _client.Messages.Create(new MessageCreateParams
        {
            Model = "gpt-test",
            MaxTokens = 64,
            Messages =
            [
                new UserMessageParam
                {
                    Content = new List<ContentBlockParam>
                    {
                        new ImageBlockParam { Source = new Base64ImageSource { Data = png, MediaType = MediaType.ImagePng } },
                        new ImageBlockParam { Source = new UrlImageSource { Url = "https://example.com/cat.jpg" } },
                        new TextBlockParam { Text = "What is this?" },
                    },
                },
            ],
        });

        var parts = LastUpstreamBody().GetProperty("messages")[0].GetProperty("content");
        Assert.Equal("image_url", parts[0].GetProperty("type").GetString());
        Assert.Equal("data:image/png;base64," + png, parts[0].GetProperty("image_url").GetProperty("url").GetString());
        Assert.Equal("https://example.com/cat.jpg", parts[1].GetProperty("image_url").GetProperty("url").GetString());
        Assert.Equal("What is this?", parts[2].GetProperty("text").GetString());
    }

    [Fact]
    public async Task Invalid_request_is_a_400_in_Anthropic_error_format_and_never_reaches_the_upstream()
    {
        var ex = await Assert.ThrowsAsync<AnthropicBadRequestException>(() => _client.Messages.Create(new MessageCreateParams
        {
            Model = "gpt-test",
            MaxTokens = 0,
            Messages = [new UserMessageParam("hi")],
        }));
        Assert.Contains("max_tokens", ex.Message);

        using var raw = await PostAsync("""{"model":"gpt-test","max_tokens":10,"messages":[{"role":"tool","content":"no"}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, raw.StatusCode);
        using var doc = JsonDocument.Parse(await raw.Content.ReadAsStringAsync());
        Assert.Equal("error", doc.RootElement.GetProperty("type").GetString());
        Assert.Equal("invalid_request_error", doc.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Contains("messages.0.role", doc.RootElement.GetProperty("error").GetProperty("message").GetString());

        using var fractional = await PostAsync("""{"model":"gpt-test","max_tokens":1.5,"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, fractional.StatusCode);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Unknown_model_is_an_Anthropic_error_naming_the_served_models()
    {
        var ex = await Assert.ThrowsAsync<AnthropicBadRequestException>(() => _client.Messages.Create(Ask("hi") with { Model = "claude-nonexistent" }));
        Assert.Contains("claude-nonexistent", ex.Message);
        Assert.Contains("gpt-test", ex.Message);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Upstream_429_is_a_rate_limit_error_with_retry_after()
    {
        _upstream.Enqueue(new OpenAIScript
        {
            ErrorStatus = 429,
            ErrorBody = """{"error":{"message":"Rate limit reached for gpt-4o-mini","type":"requests","param":null,"code":"rate_limit_exceeded"}}""",
            ErrorHeaders = new Dictionary<string, string> { ["retry-after"] = "7" },
        });
        await Assert.ThrowsAsync<AnthropicRateLimitException>(() => _client.Messages.Create(Ask("hi")));

        _upstream.Enqueue(new OpenAIScript { ErrorStatus = 429, ErrorHeaders = new Dictionary<string, string> { ["retry-after"] = "7" } });
        using var raw = await PostAsync("""{"model":"gpt-test","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal((HttpStatusCode)429, raw.StatusCode);
        Assert.Equal("7", raw.Headers.GetValues("Retry-After").Single());
        using var doc = JsonDocument.Parse(await raw.Content.ReadAsStringAsync());
        Assert.Equal("rate_limit_error", doc.RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task Upstream_error_mid_stream_becomes_an_error_event_and_no_message_stop()
    {
        _upstream.Enqueue(new OpenAIScript { Content = "This answer will break off.", Chunks = 6, ErrorEventAfter = 2 });
        var texts = new StringBuilder();
        var ex = await Assert.ThrowsAsync<AnthropicSseException>(async () =>
        {
            await foreach (var e in _client.Messages.CreateStreaming(Ask("go")))
            {
                if (e.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickText(out var t)) texts.Append(t.Text);
            }
        });
        Assert.NotEmpty(texts.ToString());
        Assert.Contains("api_error", ex.Message);

        _upstream.Enqueue(new OpenAIScript { Content = "This answer will break off.", Chunks = 6, ErrorEventAfter = 2 });
        using var raw = await PostAsync("""{"model":"gpt-test","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.OK, raw.StatusCode);
        var sse = await raw.Content.ReadAsStringAsync();
        Assert.Contains("event: content_block_delta", sse);
        Assert.EndsWith("\n\n", sse);
        Assert.Contains("event: error\ndata: {\"type\":\"error\"", sse);
        Assert.DoesNotContain("message_stop", sse);
    }

    [Fact]
    public async Task Upstream_error_before_any_content_is_an_ordinary_http_error()
    {
        _upstream.Enqueue(new OpenAIScript { Content = "never", ErrorEventAfter = 0 });
        using var raw = await PostAsync("""{"model":"gpt-test","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.InternalServerError, raw.StatusCode);
        Assert.StartsWith("application/json", raw.Content.Headers.ContentType!.ToString());
        using var doc = JsonDocument.Parse(await raw.Content.ReadAsStringAsync());
        Assert.Equal("api_error", doc.RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task Truncated_upstream_stream_ends_with_an_error_event_not_a_clean_stop()
    {
        _upstream.Enqueue(new OpenAIScript { Content = "cut short here", Chunks = 4, TruncateAfter = 2 });
        using var raw = await PostAsync("""{"model":"gpt-test","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}]}""");
        var sse = await raw.Content.ReadAsStringAsync();
        Assert.Contains("event: error", sse);
        Assert.DoesNotContain("message_stop", sse);
    }

    [Fact]
    public async Task Master_key_is_accepted_as_x_api_key_or_bearer_and_anything_else_is_401()
    {
        _upstream.Enqueue(new OpenAIScript { Content = "ok" });
        await _client.Messages.Create(Ask("hi")); // the SDK sends x-api-key

        _upstream.Enqueue(new OpenAIScript { Content = "ok" });
        using var bearer = new HttpRequestMessage(HttpMethod.Post, "/v1/messages")
        {
            Content = new StringContent("""{"model":"gpt-test","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        bearer.Headers.TryAddWithoutValidation("Authorization", "Bearer " + AnthropicSdk.MasterKey);
        bearer.Headers.TryAddWithoutValidation("anthropic-version", "2023-06-01");
        bearer.Headers.TryAddWithoutValidation("anthropic-beta", "prompt-caching-2024-07-31");
        using var ok = await _gateway.Http.SendAsync(bearer);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);

        using var wrongClient = AnthropicSdk.For(_gateway, "sk-wrong");
        await Assert.ThrowsAsync<AnthropicUnauthorizedException>(() => wrongClient.Messages.Create(Ask("hi")));
        Assert.Equal(2, _upstream.Requests.Count);
    }

    [Fact]
    public async Task Count_tokens_estimates_with_o200k_and_counts_images()
    {
        var small = await _client.Messages.CountTokens(new MessageCountTokensParams { Model = "gpt-test", Messages = [new UserMessageParam("hello")] });
        var large = await _client.Messages.CountTokens(new MessageCountTokensParams
        {
            Model = "gpt-test",
            System = "You are a helpful assistant that answers in French.",
            Messages = [new UserMessageParam("hello there, how is the weather in Paris today?")],
        });
        var withImage = await _client.Messages.CountTokens(new MessageCountTokensParams
        {
            Model = "gpt-test",
            Messages = [new UserMessageParam { Content = new List<ContentBlockParam> { new TextBlockParam { Text = "hello" }, new ImageBlockParam { Source = new UrlImageSource { Url = "https://example.com/a.png" } } } }],
        });

        Assert.InRange(small.InputTokens, 2, 12);
        Assert.True(large.InputTokens > small.InputTokens + 15);
        Assert.Equal(small.InputTokens + 1600, withImage.InputTokens);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Wrong_method_and_unknown_count_tokens_model_answer_in_Anthropic_error_format()
    {
        using var get = await _gateway.Http.GetAsync("/v1/messages");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        using (var doc = JsonDocument.Parse(await get.Content.ReadAsStringAsync()))
            Assert.Equal("invalid_request_error", doc.RootElement.GetProperty("error").GetProperty("type").GetString());

        var ex = await Assert.ThrowsAsync<AnthropicBadRequestException>(() => _client.Messages.CountTokens(new MessageCountTokensParams { Model = "nope", Messages = [new UserMessageParam("hi")] }));
        Assert.Contains("nope", ex.Message);
    }

    private Task<HttpResponseMessage> PostAsync(string json)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("x-api-key", AnthropicSdk.MasterKey);
        return _gateway.Http.SendAsync(request);
    }
}
