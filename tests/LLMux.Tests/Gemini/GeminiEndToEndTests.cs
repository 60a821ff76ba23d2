using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;
using OpenAI.Chat;
using OpenAI.Embeddings;

namespace LLMux.Tests.Gemini;

/// <summary>The OpenAI SDK talks to LLMux, which talks to the Gemini emulator as Google AI Studio (<c>gemini/...</c>).</summary>
public sealed class GeminiEndToEndTests : IAsyncLifetime
{
    private GeminiEmulator _upstream = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await GeminiEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync($"""
            router_settings:
              num_retries: 0
            model_list:
              - model_name: gemini-flash
                litellm_params:
                  model: gemini/gemini-2.5-flash
                  api_base: {_upstream.GeminiApiBase}
                  api_key: gemini-test-key
                  timeout: 5
              - model_name: gemini-old
                litellm_params:
                  model: gemini/gemini-1.5-pro
                  api_base: {_upstream.GeminiApiBase}
                  api_key: gemini-test-key
              - model_name: gemini-badkey
                litellm_params:
                  model: gemini/gemini-2.5-flash
                  api_base: {_upstream.GeminiApiBase}
                  api_key: not-the-key
              - model_name: gemini-nokey
                litellm_params:
                  model: gemini/gemini-2.5-flash
                  api_base: {_upstream.GeminiApiBase}
              - model_name: gemini-embed
                litellm_params:
                  model: gemini/text-embedding-004
                  api_base: {_upstream.GeminiApiBase}
                  api_key: gemini-test-key
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private ChatClient Chat(string model = "gemini-flash") => _gateway.OpenAI().GetChatClient(model);

    private static ChatTool WeatherTool => ChatTool.CreateFunctionTool("get_weather", "Current weather", BinaryData.FromString(
        """{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}"""));

    [Fact]
    public async Task Text_completion_reaches_generateContent_with_the_key_in_a_header_and_maps_usage()
    {
        _upstream.Enqueue(new GeminiScript { Text = "Bonjour!", PromptTokens = 12, CandidatesTokens = 3, CachedTokens = 5 });
        ChatCompletion completion = await Chat().CompleteChatAsync(
            [new SystemChatMessage("Answer in French."), new UserChatMessage("Say hello")],
            new ChatCompletionOptions { Temperature = 0.3f, MaxOutputTokenCount = 64, StopSequences = { "END" } });

        Assert.Equal("Bonjour!", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal("resp-emu-1", completion.Id);
        Assert.Equal(12, completion.Usage.InputTokenCount);
        Assert.Equal(3, completion.Usage.OutputTokenCount);
        Assert.Equal(15, completion.Usage.TotalTokenCount);
        Assert.Equal(5, completion.Usage.InputTokenDetails.CachedTokenCount);

        var sent = Assert.Single(_upstream.Requests);
        Assert.Equal("/v1beta/models/gemini-2.5-flash:generateContent", sent.Path);
        Assert.Equal("", sent.Query);
        Assert.Equal("gemini-test-key", sent.Headers["x-goog-api-key"]);
        Assert.False(sent.Headers.ContainsKey("authorization"));
        using var body = sent.Json();
        var root = body.RootElement;
        Assert.Equal("Answer in French.", root.GetProperty("system_instruction").GetProperty("parts")[0].GetProperty("text").GetString());
        Assert.Equal("Say hello", root.GetProperty("contents")[0].GetProperty("parts")[0].GetProperty("text").GetString());
        var config = root.GetProperty("generationConfig");
        Assert.Equal(0.3, config.GetProperty("temperature").GetDouble(), 3);
        Assert.Equal(64, config.GetProperty("max_output_tokens").GetInt32());
        Assert.Equal("END", config.GetProperty("stop_sequences")[0].GetString());
    }

    [Fact]
    public async Task Streamed_text_arrives_in_order_with_usage_and_a_finish_reason()
    {
        _upstream.Enqueue(new GeminiScript { Text = "One, two, three, four.", Chunks = 4 });
        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in Chat().CompleteChatStreamingAsync([new UserChatMessage("count")]))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }
        Assert.Equal("One, two, three, four.", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.NotNull(usage);
        Assert.Equal(9, usage.InputTokenCount);
        Assert.Equal(5, usage.OutputTokenCount);
        var sent = Assert.Single(_upstream.Requests);
        Assert.Equal("/v1beta/models/gemini-2.5-flash:streamGenerateContent", sent.Path);
        Assert.Equal("?alt=sse", sent.Query);
    }

    [Fact]
    public async Task The_json_array_stream_form_is_understood_too()
    {
        _upstream.Enqueue(new GeminiScript { Text = "Array form works.", Chunks = 3, JsonArray = true });
        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in Chat().CompleteChatStreamingAsync([new UserChatMessage("hi")]))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            finish ??= update.FinishReason;
        }
        Assert.Equal("Array form works.", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
    }

    [Fact]
    public async Task Streamed_tool_calls_get_ids_and_finish_with_tool_calls()
    {
        _upstream.Enqueue(new GeminiScript { FunctionCalls = [("get_weather", """{"city":"Paris"}"""), ("get_weather", """{"city":"Oslo"}""")] });
        var options = new ChatCompletionOptions { Tools = { WeatherTool }, ToolChoice = ChatToolChoice.CreateRequiredChoice() };
        var calls = new Dictionary<int, (string? Id, string? Name, StringBuilder Args)>();
        ChatFinishReason? finish = null;
        await foreach (var update in Chat().CompleteChatStreamingAsync([new UserChatMessage("weather in Paris and Oslo")], options))
        {
            foreach (var call in update.ToolCallUpdates)
            {
                if (!calls.TryGetValue(call.Index, out var c)) calls[call.Index] = c = (call.ToolCallId, call.FunctionName, new StringBuilder());
                c.Args.Append(call.FunctionArgumentsUpdate?.ToString());
            }
            finish ??= update.FinishReason;
        }
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        Assert.Equal(2, calls.Count);
        Assert.StartsWith("call_", calls[0].Id);
        Assert.StartsWith("call_", calls[1].Id);
        Assert.NotEqual(calls[0].Id, calls[1].Id);
        Assert.Equal("get_weather", calls[1].Name);
        Assert.Equal("""{"city":"Paris"}""", calls[0].Args.ToString());
        Assert.Equal("""{"city":"Oslo"}""", calls[1].Args.ToString());

        using var body = Assert.Single(_upstream.Requests).Json();
        var declaration = body.RootElement.GetProperty("tools")[0].GetProperty("function_declarations")[0];
        Assert.Equal("get_weather", declaration.GetProperty("name").GetString());
        Assert.False(declaration.GetProperty("parameters").TryGetProperty("additionalProperties", out _));
        Assert.Equal("ANY", body.RootElement.GetProperty("toolConfig").GetProperty("functionCallingConfig").GetProperty("mode").GetString());
    }

    [Fact]
    public async Task A_tool_call_round_trip_sends_function_call_and_function_response_parts()
    {
        _upstream.Enqueue(new GeminiScript { FunctionCalls = [("get_weather", """{"city":"Paris"}""")] });
        var options = new ChatCompletionOptions { Tools = { WeatherTool } };
        List<ChatMessage> messages = [new UserChatMessage("weather in Paris?")];
        ChatCompletion first = await Chat().CompleteChatAsync(messages, options);
        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        var call = Assert.Single(first.ToolCalls);
        Assert.StartsWith("call_", call.Id);
        Assert.Equal("""{"city":"Paris"}""", call.FunctionArguments.ToString());

        messages.Add(new AssistantChatMessage(first));
        messages.Add(new ToolChatMessage(call.Id, """{"temp_c":21}"""));
        _upstream.Enqueue(new GeminiScript { Text = "It is 21 °C." });
        ChatCompletion second = await Chat().CompleteChatAsync(messages, options);
        Assert.Equal("It is 21 °C.", second.Content[0].Text);

        using var body = _upstream.Requests.Last().Json();
        var contents = body.RootElement.GetProperty("contents");
        Assert.Equal("model", contents[1].GetProperty("role").GetString());
        Assert.Equal("Paris", contents[1].GetProperty("parts")[0].GetProperty("function_call").GetProperty("args").GetProperty("city").GetString());
        var response = contents[2].GetProperty("parts")[0].GetProperty("function_response");
        Assert.Equal("get_weather", response.GetProperty("name").GetString());
        Assert.Equal(21, response.GetProperty("response").GetProperty("temp_c").GetInt32());
    }

    [Fact]
    public async Task Structured_output_sends_a_converted_schema_and_returns_the_json()
    {
        const string schema = """{"type":"object","properties":{"answer":{"type":"string"},"confidence":{"type":["number","null"]}},"required":["answer","confidence"],"additionalProperties":false}""";
        var options = new ChatCompletionOptions { ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("result", BinaryData.FromString(schema), jsonSchemaIsStrict: true) };

        _upstream.Enqueue(new GeminiScript { Text = """{"answer":"42","confidence":null}""" });
        ChatCompletion modern = await Chat().CompleteChatAsync([new UserChatMessage("meaning of life")], options);
        Assert.Equal("42", JsonDocument.Parse(modern.Content[0].Text).RootElement.GetProperty("answer").GetString());
        using (var body = _upstream.Requests.Last().Json())
        {
            var config = body.RootElement.GetProperty("generationConfig");
            Assert.Equal("application/json", config.GetProperty("response_mime_type").GetString());
            var converted = config.GetProperty("response_json_schema");
            Assert.Equal("number", converted.GetProperty("properties").GetProperty("confidence").GetProperty("type").GetString());
            Assert.True(converted.GetProperty("properties").GetProperty("confidence").GetProperty("nullable").GetBoolean());
        }

        _upstream.Enqueue(new GeminiScript { Text = """{"answer":"42","confidence":0.9}""" });
        await Chat("gemini-old").CompleteChatAsync([new UserChatMessage("meaning of life")], options);
        using (var body = _upstream.Requests.Last().Json())
        {
            var converted = body.RootElement.GetProperty("generationConfig").GetProperty("response_schema");
            Assert.False(converted.TryGetProperty("additionalProperties", out _));
            Assert.Equal("[\"answer\",\"confidence\"]", converted.GetProperty("propertyOrdering").GetRawText());
        }
    }

    [Fact]
    public async Task Reasoning_effort_becomes_a_thinking_budget_and_thoughts_come_back_as_reasoning()
    {
        _upstream.Enqueue(new GeminiScript { Text = "4", Thought = "2+2 is 4", ThoughtsTokens = 6, CandidatesTokens = 1 });
#pragma warning disable OPENAI001 // reasoning effort is marked experimental in the SDK
        var options = new ChatCompletionOptions { ReasoningEffortLevel = ChatReasoningEffortLevel.Low };
#pragma warning restore OPENAI001
        ChatCompletion completion = await Chat().CompleteChatAsync([new UserChatMessage("2+2?")], options);
        Assert.Equal("4", completion.Content[0].Text);
        Assert.Equal(7, completion.Usage.OutputTokenCount);
        Assert.Equal(6, completion.Usage.OutputTokenDetails.ReasoningTokenCount);
        using var body = _upstream.Requests.Last().Json();
        var thinking = body.RootElement.GetProperty("generationConfig").GetProperty("thinkingConfig");
        Assert.Equal(1024, thinking.GetProperty("thinkingBudget").GetInt32());
        Assert.True(thinking.GetProperty("includeThoughts").GetBoolean());

        // The SDK does not surface reasoning_content; the wire does.
        _upstream.Enqueue(new GeminiScript { Text = "4", Thought = "2+2 is 4" });
        using var raw = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"gemini-flash","messages":[{"role":"user","content":"2+2?"}],"reasoning_effort":"low"}"""));
        using var answer = JsonDocument.Parse(await raw.Content.ReadAsStringAsync());
        Assert.Equal("2+2 is 4", answer.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("reasoning_content").GetString());
    }

    [Fact]
    public async Task An_image_data_uri_becomes_inline_data()
    {
        _upstream.Enqueue(new GeminiScript { Text = "A red pixel." });
        var png = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==");
        await Chat().CompleteChatAsync([new UserChatMessage(ChatMessageContentPart.CreateTextPart("what is this?"), ChatMessageContentPart.CreateImagePart(BinaryData.FromBytes(png), "image/png"))]);
        using var body = _upstream.Requests.Last().Json();
        var parts = body.RootElement.GetProperty("contents")[0].GetProperty("parts");
        Assert.Equal("what is this?", parts[0].GetProperty("text").GetString());
        Assert.Equal("image/png", parts[1].GetProperty("inline_data").GetProperty("mime_type").GetString());
        Assert.Equal(png, Convert.FromBase64String(parts[1].GetProperty("inline_data").GetProperty("data").GetString()!));
    }

    [Theory]
    [InlineData("SAFETY", "content_filter")]
    [InlineData("MAX_TOKENS", "length")]
    [InlineData("RECITATION", "content_filter")]
    public async Task Finish_reasons_are_mapped(string gemini, string openai)
    {
        _upstream.Enqueue(new GeminiScript { FinishReason = gemini });
        using var raw = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"gemini-flash","messages":[{"role":"user","content":"x"}]}"""));
        Assert.Equal(HttpStatusCode.OK, raw.StatusCode);
        using var answer = JsonDocument.Parse(await raw.Content.ReadAsStringAsync());
        var choice = answer.RootElement.GetProperty("choices")[0];
        Assert.Equal(openai, choice.GetProperty("finish_reason").GetString());
        if (openai == "content_filter")
        {
            var message = choice.GetProperty("message");
            Assert.True(!message.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null, "a blocked answer carries no content");
        }
    }

    [Fact]
    public async Task A_blocked_prompt_answers_content_filter_through_the_sdk()
    {
        _upstream.Enqueue(new GeminiScript { BlockReason = "SAFETY" });
        ChatCompletion completion = await Chat().CompleteChatAsync([new UserChatMessage("something bad")]);
        Assert.Equal(ChatFinishReason.ContentFilter, completion.FinishReason);
    }

    [Fact]
    public async Task Embeddings_come_back_as_floats_and_as_base64()
    {
        var client = _gateway.OpenAI().GetEmbeddingClient("gemini-embed");
        OpenAIEmbeddingCollection result = await client.GenerateEmbeddingsAsync(["first", "second"]); // the SDK asks for base64
        Assert.Equal(2, result.Count);
        Assert.Equal(0, result[0].Index);
        Assert.Equal(1, result[1].Index);
        Assert.Equal([0.5f, -0.5f, 0.125f], result[1].ToFloats().ToArray());
        var sent = _upstream.Requests.Last();
        Assert.Equal("/v1beta/models/text-embedding-004:batchEmbedContents", sent.Path);
        using (var body = sent.Json())
        {
            Assert.Equal("models/text-embedding-004", body.RootElement.GetProperty("requests")[0].GetProperty("model").GetString());
            Assert.Equal("second", body.RootElement.GetProperty("requests")[1].GetProperty("content").GetProperty("parts")[0].GetProperty("text").GetString());
        }

        using var raw = await _gateway.Http.PostAsync("/v1/embeddings", Json("""{"model":"gemini-embed","input":"hello","encoding_format":"float","dimensions":4}"""));
        using var answer = JsonDocument.Parse(await raw.Content.ReadAsStringAsync());
        var embedding = answer.RootElement.GetProperty("data")[0].GetProperty("embedding");
        Assert.Equal(JsonValueKind.Array, embedding.ValueKind);
        Assert.Equal(4, embedding.GetArrayLength());
        using var dims = _upstream.Requests.Last().Json();
        Assert.Equal(4, dims.RootElement.GetProperty("requests")[0].GetProperty("outputDimensionality").GetInt32());
    }

    [Theory]
    [InlineData(400, "INVALID_ARGUMENT", "Request contains an invalid argument.", 400)]
    [InlineData(403, "PERMISSION_DENIED", "Permission denied on resource project x.", 403)]
    [InlineData(404, "NOT_FOUND", "models/gemini-9 is not found for API version v1beta.", 404)]
    [InlineData(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).", 429)]
    [InlineData(500, "INTERNAL", "An internal error has occurred.", 500)]
    [InlineData(503, "UNAVAILABLE", "The service is currently unavailable.", 503)]
    [InlineData(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete.", 504)]
    [InlineData(400, "INVALID_ARGUMENT", "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).", 400)]
    public async Task Google_errors_reach_the_client_with_litellm_statuses(int status, string rpc, string message, int expected)
    {
        _upstream.Enqueue(new GeminiScript { ErrorStatus = status, ErrorRpcStatus = rpc, ErrorMessage = message, ErrorHeaders = status == 429 ? new Dictionary<string, string> { ["Retry-After"] = "7" } : null });
        using var raw = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"gemini-flash","messages":[{"role":"user","content":"x"}]}"""));
        Assert.Equal(expected, (int)raw.StatusCode);
        using var error = JsonDocument.Parse(await raw.Content.ReadAsStringAsync());
        var e = error.RootElement.GetProperty("error");
        Assert.Contains(message, e.GetProperty("message").GetString());
        Assert.True(e.TryGetProperty("type", out _) && e.TryGetProperty("param", out _) && e.TryGetProperty("code", out _));
        if (status == 429) Assert.Equal("7", raw.Headers.GetValues("Retry-After").Single());
        var expectedCode = message.Contains("exceeds the maximum number of tokens", StringComparison.Ordinal) ? "context_length_exceeded" : rpc;
        Assert.Equal(expectedCode, e.GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_wrong_api_key_is_an_authentication_error_that_does_not_leak_the_key()
    {
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Chat("gemini-badkey").CompleteChatAsync([new UserChatMessage("x")]));
        Assert.Equal(401, ex.Status);
        Assert.DoesNotContain("not-the-key", ex.Message);
        Assert.Contains("api_key", ex.Message);
    }

    [Fact]
    public async Task A_missing_api_key_is_an_authentication_error_naming_the_setting_without_an_upstream_call()
    {
        if (Environment.GetEnvironmentVariable("GEMINI_API_KEY") is not null) return; // the environment would supply the key
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Chat("gemini-nokey").CompleteChatAsync([new UserChatMessage("x")]));
        Assert.Equal(401, ex.Status);
        Assert.Contains("GEMINI_API_KEY", ex.Message);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task A_stream_error_before_content_is_an_http_error()
    {
        _upstream.Enqueue(new GeminiScript { ErrorEventAfter = 0 });
        using var raw = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"gemini-flash","messages":[{"role":"user","content":"x"}],"stream":true}"""));
        Assert.Equal(500, (int)raw.StatusCode);
        Assert.Contains("Internal error encountered.", await raw.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_stream_error_after_content_is_a_final_error_frame_without_done()
    {
        _upstream.Enqueue(new GeminiScript { Text = "abcdef", Chunks = 3, ErrorEventAfter = 2 });
        using var raw = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"gemini-flash","messages":[{"role":"user","content":"x"}],"stream":true}"""));
        var text = await raw.Content.ReadAsStringAsync();
        Assert.Contains("\"content\":\"ab\"", text);
        Assert.Contains("data: {\"error\":", text);
        Assert.DoesNotContain("[DONE]", text);
    }

    [Fact]
    public async Task A_truncated_stream_is_an_error_not_a_clean_end()
    {
        _upstream.Enqueue(new GeminiScript { Text = "abcdef", Chunks = 3, TruncateAfter = 2 });
        using var raw = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"gemini-flash","messages":[{"role":"user","content":"x"}],"stream":true}"""));
        var text = await raw.Content.ReadAsStringAsync();
        Assert.Contains("data: {\"error\":", text);
        Assert.DoesNotContain("[DONE]", text);
        Assert.DoesNotContain("finish_reason\":\"stop", text);
    }

    [Fact]
    public async Task Unsupported_params_are_refused_before_any_upstream_call_or_dropped_on_request()
    {
        using var refused = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"gemini-flash","messages":[{"role":"user","content":"x"}],"logit_bias":{"1":5}}"""));
        Assert.Equal(400, (int)refused.StatusCode);
        Assert.Contains("logit_bias", await refused.Content.ReadAsStringAsync());
        Assert.Empty(_upstream.Requests);

        using var dropped = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"gemini-flash","messages":[{"role":"user","content":"x"}],"logit_bias":{"1":5},"seed":3,"drop_params":true}"""));
        Assert.Equal(HttpStatusCode.OK, dropped.StatusCode);
        var warnings = string.Join(",", dropped.Headers.GetValues("x-llmux-warnings"));
        Assert.Contains("logit_bias", warnings);
        Assert.Contains("seed", warnings);
        var sent = Assert.Single(_upstream.Requests).BodyText;
        Assert.DoesNotContain("logit_bias", sent);
        Assert.DoesNotContain("seed", sent);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
