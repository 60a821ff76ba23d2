using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;
using OpenAI.Chat;
using OpenAI.Embeddings;

namespace LLMux.Tests.Bedrock;

/// <summary>The OpenAI SDK talks to LLMux, which signs and sends Converse / ConverseStream / InvokeModel calls to the Bedrock emulator.</summary>
public sealed class BedrockEndToEndTests : IAsyncLifetime
{
    private BedrockEmulator _upstream = null!;
    private GatewayHost _gateway = null!;

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
            model_list:
              - model_name: claude
                litellm_params:
                  model: bedrock/us.anthropic.claude-3-5-sonnet-20241022-v2:0
            {creds}
              - model_name: claude-converse
                litellm_params:
                  model: bedrock/converse/anthropic.claude-3-haiku-20240307-v1:0
            {creds}
              - model_name: titan
                litellm_params:
                  model: bedrock/amazon.titan-embed-text-v2:0
            {creds}
              - model_name: cohere
                litellm_params:
                  model: bedrock/cohere.embed-english-v3
            {creds}
              - model_name: session
                litellm_params:
                  model: bedrock/anthropic.claude-3-haiku-20240307-v1:0
                  aws_session_token: FwoGZXIvYXdzEXAMPLE/token+=
                  model_id: arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123
            {creds}
              - model_name: api-key
                litellm_params:
                  model: bedrock/anthropic.claude-3-haiku-20240307-v1:0
                  api_base: {_upstream.ApiBase}
                  api_key: {BedrockEmulator.BearerToken}
              - model_name: no-creds
                litellm_params:
                  model: bedrock/anthropic.claude-3-haiku-20240307-v1:0
                  api_base: {_upstream.ApiBase}
              - model_name: wrong-secret
                litellm_params:
                  model: bedrock/anthropic.claude-3-haiku-20240307-v1:0
                  api_base: {_upstream.ApiBase}
                  aws_access_key_id: {BedrockEmulator.AccessKeyId}
                  aws_secret_access_key: not-the-secret
                  aws_region_name: {BedrockEmulator.Region}
            router_settings:
              num_retries: 0
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private ChatClient Chat(string model = "claude") => _gateway.OpenAI().GetChatClient(model);

    [Fact]
    public async Task Converse_answer_reaches_the_client_through_a_signed_request_with_the_model_id_escaped()
    {
        _upstream.Enqueue(new BedrockScript { Content = "Bonjour!" });
        ChatCompletion completion = await Chat().CompleteChatAsync(
            [new SystemChatMessage("Be brief."), new UserChatMessage("Say hello in French")],
            new ChatCompletionOptions { MaxOutputTokenCount = 100, Temperature = 0.5f });

        Assert.Equal("Bonjour!", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(12, completion.Usage.InputTokenCount);
        Assert.Equal(8, completion.Usage.OutputTokenCount);

        Assert.Equal("/model/us.anthropic.claude-3-5-sonnet-20241022-v2%3A0/converse", Assert.Single(_upstream.RawTargets));
        var sent = Assert.Single(_upstream.Requests);
        Assert.StartsWith($"AWS4-HMAC-SHA256 Credential={BedrockEmulator.AccessKeyId}/", sent.Headers["authorization"]);
        Assert.Contains("/us-east-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, Signature=", sent.Headers["authorization"]);
        using var body = sent.Json();
        var root = body.RootElement;
        Assert.Equal("Be brief.", root.GetProperty("system")[0].GetProperty("text").GetString());
        Assert.Equal("Say hello in French", root.GetProperty("messages")[0].GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal(100, root.GetProperty("inferenceConfig").GetProperty("maxTokens").GetInt32());
        Assert.Equal(0.5, root.GetProperty("inferenceConfig").GetProperty("temperature").GetDouble(), 3);
        foreach (var openAiOnly in new[] { "model", "stream", "max_tokens", "max_completion_tokens", "temperature", "stream_options" })
            Assert.False(root.TryGetProperty(openAiOnly, out _), $"`{openAiOnly}` must not reach Bedrock");
    }

    [Fact]
    public async Task Explicit_converse_route_strips_the_route_prefix_from_the_model_id()
    {
        await Chat("claude-converse").CompleteChatAsync([new UserChatMessage("hi")]);
        Assert.Equal("/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse", Assert.Single(_upstream.RawTargets));
    }

    [Fact]
    public async Task Streamed_text_arrives_in_order_with_usage_and_a_stop_finish()
    {
        _upstream.Enqueue(new BedrockScript { Content = "One two three four five", Chunks = 4 });
        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in Chat().CompleteChatStreamingAsync([new UserChatMessage("count")]))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }
        Assert.Equal("One two three four five", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.NotNull(usage);
        Assert.Equal(12, usage!.InputTokenCount);
        Assert.Equal(8, usage.OutputTokenCount);
        Assert.EndsWith("/converse-stream", Assert.Single(_upstream.RawTargets));
    }

    [Fact]
    public async Task Streamed_tool_call_is_reassembled_with_its_id_and_the_clients_tool_name()
    {
        _upstream.Enqueue(new BedrockScript { Content = "", ToolCall = ("get_weather", """{"city":"Paris","unit":"c"}""") });
        var options = new ChatCompletionOptions();
        options.Tools.Add(ChatTool.CreateFunctionTool("get-weather", "weather", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""")));
        var args = new StringBuilder();
        string? id = null, name = null;
        ChatFinishReason? finish = null;
        await foreach (var update in Chat().CompleteChatStreamingAsync([new UserChatMessage("weather?")], options))
        {
            foreach (var tc in update.ToolCallUpdates)
            {
                id ??= tc.ToolCallId;
                name ??= tc.FunctionName;
                if (tc.FunctionArgumentsUpdate is { } a) args.Append(a.ToString());
            }
            finish ??= update.FinishReason;
        }
        Assert.Equal("tooluse_emu1", id);
        Assert.Equal("get-weather", name);
        Assert.Equal("""{"city":"Paris","unit":"c"}""", args.ToString());
        Assert.Equal(ChatFinishReason.ToolCalls, finish);

        using var body = Assert.Single(_upstream.Requests).Json();
        var spec = body.RootElement.GetProperty("toolConfig").GetProperty("tools")[0].GetProperty("toolSpec");
        Assert.Equal("get_weather", spec.GetProperty("name").GetString());
        Assert.Equal("object", spec.GetProperty("inputSchema").GetProperty("json").GetProperty("type").GetString());
    }

    [Fact]
    public async Task Non_stream_tool_call_has_its_id_arguments_and_finish_reason()
    {
        _upstream.Enqueue(new BedrockScript { ToolCall = ("lookup", """{"q":"x"}""") });
        var options = new ChatCompletionOptions { ToolChoice = ChatToolChoice.CreateRequiredChoice() };
        options.Tools.Add(ChatTool.CreateFunctionTool("lookup", "find", BinaryData.FromString("""{"type":"object","properties":{"q":{"type":"string"}}}""")));
        ChatCompletion completion = await Chat().CompleteChatAsync([new UserChatMessage("find x")], options);
        var call = Assert.Single(completion.ToolCalls);
        Assert.Equal("tooluse_emu1", call.Id);
        Assert.Equal("lookup", call.FunctionName);
        Assert.Equal("""{"q":"x"}""", call.FunctionArguments.ToString());
        Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
        using var body = Assert.Single(_upstream.Requests).Json();
        Assert.True(body.RootElement.GetProperty("toolConfig").GetProperty("toolChoice").TryGetProperty("any", out _));
    }

    [Fact]
    public async Task Cache_reads_and_writes_count_as_prompt_tokens_with_cached_details()
    {
        _upstream.Enqueue(new BedrockScript { InputTokens = 10, CacheReadTokens = 100, CacheWriteTokens = 20, OutputTokens = 5 });
        using var response = await PostChatAsync("""{"model":"claude","messages":[{"role":"user","content":"hi"}]}""");
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var usage = doc.RootElement.GetProperty("usage");
        Assert.Equal(130, usage.GetProperty("prompt_tokens").GetInt64());
        Assert.Equal(5, usage.GetProperty("completion_tokens").GetInt64());
        Assert.Equal(100, usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt64());
        Assert.Equal(20, usage.GetProperty("cache_creation_input_tokens").GetInt64());
    }

    [Theory]
    [InlineData("max_tokens", "length")]
    [InlineData("stop_sequence", "stop")]
    [InlineData("guardrail_intervened", "content_filter")]
    [InlineData("content_filtered", "content_filter")]
    public async Task Stop_reason_maps_to_the_openai_finish_reason(string stopReason, string finishReason)
    {
        _upstream.Enqueue(new BedrockScript { StopReason = stopReason });
        _upstream.Enqueue(new BedrockScript { StopReason = stopReason });
        using var response = await PostChatAsync("""{"model":"claude","messages":[{"role":"user","content":"hi"}]}""");
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(finishReason, doc.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());

        using var stream = await PostChatAsync("""{"model":"claude","stream":true,"messages":[{"role":"user","content":"hi"}]}""");
        var sse = await stream.Content.ReadAsStringAsync();
        Assert.Contains($"\"finish_reason\":\"{finishReason}\"", sse);
        Assert.EndsWith("data: [DONE]\n\n", sse);
    }

    [Theory]
    [InlineData(429, "ThrottlingException", "Too many requests, please wait before trying again.", 429, "rate_limit_error")]
    [InlineData(403, "AccessDeniedException", "You don't have access to the model with the specified model ID.", 403, "permission_error")]
    [InlineData(400, "ValidationException", "Input is too long for requested model.", 400, "invalid_request_error")]
    [InlineData(400, "ValidationException", "messages: text content blocks must be non-empty", 400, "invalid_request_error")]
    [InlineData(404, "ResourceNotFoundException", "Could not resolve the foundation model from the provided model identifier.", 404, "not_found_error")]
    [InlineData(408, "ModelTimeoutException", "Model has timed out in processing the request.", 408, "timeout_error")]
    [InlineData(503, "ServiceUnavailableException", "Bedrock is unable to process your request.", 503, "service_unavailable_error")]
    public async Task Aws_error_answers_map_to_the_litellm_status(int status, string awsType, string message, int expected, string type)
    {
        _upstream.Enqueue(new BedrockScript { Error = (status, awsType, message) });
        using var response = await PostChatAsync("""{"model":"claude","messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(expected, (int)response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = doc.RootElement.GetProperty("error");
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.Contains(message, error.GetProperty("message").GetString());
        Assert.StartsWith("emu-", error.GetProperty("upstream_request_id").GetString());
        if (status == 429) Assert.Equal("7", response.Headers.GetValues("Retry-After").Single());
    }

    [Fact]
    public async Task Context_window_validation_error_is_recognised()
    {
        _upstream.Enqueue(new BedrockScript { Error = (400, "ValidationException", "Input is too long for requested model.") });
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Chat().CompleteChatAsync([new UserChatMessage("long")]));
        Assert.Equal(400, ex.Status);
        Assert.Contains("context window", ex.Message);
    }

    [Fact]
    public async Task Throttling_exception_before_content_is_an_http_429()
    {
        _upstream.Enqueue(new BedrockScript { StreamException = (0, "throttlingException", "Too many tokens, please wait before trying again.") });
        using var response = await PostChatAsync("""{"model":"claude","stream":true,"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(429, (int)response.StatusCode);
    }

    [Fact]
    public async Task Model_stream_error_after_content_ends_the_stream_with_an_error_frame()
    {
        _upstream.Enqueue(new BedrockScript { Content = "abcdef", Chunks = 3, StreamException = (2, "modelStreamErrorException", "The model stream failed.") });
        using var response = await PostChatAsync("""{"model":"claude","stream":true,"messages":[{"role":"user","content":"hi"}]}""");
        var sse = await ReadToEndOrAbortAsync(response);
        Assert.Contains("\"content\":\"ab\"", sse);
        Assert.Contains("\"error\"", sse);
        Assert.Contains("The model stream failed.", sse);
        Assert.DoesNotContain("[DONE]", sse);
    }

    [Fact]
    public async Task Corrupted_frame_is_an_error_never_a_hang()
    {
        _upstream.Enqueue(new BedrockScript { Content = "abcdef", Chunks = 3, CorruptAfter = 1 });
        using var response = await PostChatAsync("""{"model":"claude","stream":true,"messages":[{"role":"user","content":"hi"}]}""");
        var sse = await ReadToEndOrAbortAsync(response);
        Assert.Contains("\"error\"", sse);
        Assert.Contains("CRC", sse);
        Assert.DoesNotContain("[DONE]", sse);
    }

    [Fact]
    public async Task Stream_cut_before_message_stop_is_an_error()
    {
        _upstream.Enqueue(new BedrockScript { Content = "abcdef", Chunks = 3, TruncateAfter = 2 });
        using var response = await PostChatAsync("""{"model":"claude","stream":true,"messages":[{"role":"user","content":"hi"}]}""");
        var sse = await ReadToEndOrAbortAsync(response);
        Assert.Contains("messageStop", sse);
        Assert.DoesNotContain("[DONE]", sse);
    }

    [Fact]
    public async Task Wrong_secret_is_a_clear_auth_error()
    {
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Chat("wrong-secret").CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(401, ex.Status);
        Assert.Contains("aws_secret_access_key", ex.Message);
    }

    [Fact]
    public async Task Titan_embeddings_float_and_base64_with_one_call_per_input()
    {
        var client = _gateway.OpenAI().GetEmbeddingClient("titan");
        // The SDK asks for base64 and decodes it into floats.
        OpenAIEmbeddingCollection result = await client.GenerateEmbeddingsAsync(["hello world", "abc"]);
        Assert.Equal(BedrockEmulator.VectorValues("hello world".Length), result[0].ToFloats().ToArray());
        Assert.Equal(BedrockEmulator.VectorValues("abc".Length), result[1].ToFloats().ToArray());
        Assert.Equal(3, result.Usage.InputTokenCount);
        Assert.Equal(2, _upstream.RawTargets.Count);
        Assert.All(_upstream.RawTargets, t => Assert.Equal("/model/amazon.titan-embed-text-v2%3A0/invoke", t));
        using (var first = _upstream.Requests.First().Json())
        {
            Assert.Equal("hello world", first.RootElement.GetProperty("inputText").GetString());
            Assert.Equal("float", first.RootElement.GetProperty("embeddingTypes")[0].GetString());
        }

        using var response = await _gateway.Http.PostAsync("/v1/embeddings", new StringContent("""{"model":"titan","input":"xy","encoding_format":"float","dimensions":256}""", Encoding.UTF8, "application/json"));
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var vector = doc.RootElement.GetProperty("data")[0].GetProperty("embedding");
        Assert.Equal(JsonValueKind.Array, vector.ValueKind);
        Assert.Equal(2f, vector[0].GetSingle());
        using var sent = _upstream.Requests.Last().Json();
        Assert.Equal(256, sent.RootElement.GetProperty("dimensions").GetInt32());
    }

    [Fact]
    public async Task Cohere_embeddings_send_all_inputs_in_one_call()
    {
        OpenAIEmbeddingCollection result = await _gateway.OpenAI().GetEmbeddingClient("cohere").GenerateEmbeddingsAsync(["a", "bbbb"]);
        Assert.Equal(BedrockEmulator.VectorValues(1), result[0].ToFloats().ToArray());
        Assert.Equal(BedrockEmulator.VectorValues(4), result[1].ToFloats().ToArray());
        Assert.Equal(8, result.Usage.InputTokenCount);
        using var sent = Assert.Single(_upstream.Requests).Json();
        Assert.Equal("search_document", sent.RootElement.GetProperty("input_type").GetString());
        Assert.Equal(2, sent.RootElement.GetProperty("texts").GetArrayLength());
    }

    [Fact]
    public async Task Session_token_is_sent_and_signed_and_model_id_replaces_the_id_in_the_path()
    {
        await Chat("session").CompleteChatAsync([new UserChatMessage("hi")]);
        var sent = Assert.Single(_upstream.Requests);
        Assert.Equal("FwoGZXIvYXdzEXAMPLE/token+=", sent.Headers["x-amz-security-token"]);
        Assert.Contains("SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token,", sent.Headers["authorization"]);
        Assert.Equal("/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Aapplication-inference-profile%2Fabc123/converse", Assert.Single(_upstream.RawTargets));
    }

    [Fact]
    public async Task Missing_credentials_answer_401_naming_the_setting()
    {
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Chat("no-creds").CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(401, ex.Status);
        Assert.Contains("aws_access_key_id", ex.Message);
        // Without AWS variables in the environment the request never leaves the gateway.
        if (Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID") is null && Environment.GetEnvironmentVariable("AWS_BEARER_TOKEN_BEDROCK") is null)
            Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Reasoning_reaches_the_client_as_reasoning_content_and_thinking_blocks()
    {
        _upstream.Enqueue(new BedrockScript { Content = "42", Reasoning = ("Six times seven.", "sig-1") });
        using var response = await PostChatAsync("""{"model":"claude","messages":[{"role":"user","content":"answer?"}]}""");
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var message = doc.RootElement.GetProperty("choices")[0].GetProperty("message");
        Assert.Equal("42", message.GetProperty("content").GetString());
        Assert.Equal("Six times seven.", message.GetProperty("reasoning_content").GetString());
        Assert.Equal("sig-1", message.GetProperty("thinking_blocks")[0].GetProperty("signature").GetString());
    }

    [Fact]
    public async Task Image_parts_reach_bedrock_as_bytes()
    {
        var png = BinaryData.FromBytes([0x89, 0x50, 0x4E, 0x47]);
        await Chat().CompleteChatAsync([new UserChatMessage(ChatMessageContentPart.CreateTextPart("what is it?"), ChatMessageContentPart.CreateImagePart(png, "image/png"))]);
        using var body = Assert.Single(_upstream.Requests).Json();
        var image = body.RootElement.GetProperty("messages")[0].GetProperty("content")[1].GetProperty("image");
        Assert.Equal("png", image.GetProperty("format").GetString());
        Assert.Equal(Convert.ToBase64String(png.ToArray()), image.GetProperty("source").GetProperty("bytes").GetString());
    }

    [Fact]
    public async Task Json_mode_answer_is_the_content_with_a_stop_finish()
    {
        _upstream.Enqueue(new BedrockScript { ToolCall = ("json_tool_call", """{"answer":42}""") });
        var options = new ChatCompletionOptions { ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("a", BinaryData.FromString("""{"type":"object","properties":{"answer":{"type":"integer"}}}""")) };
        ChatCompletion completion = await Chat().CompleteChatAsync([new UserChatMessage("json please")], options);
        Assert.Equal("""{"answer":42}""", completion.Content[0].Text);
        Assert.Empty(completion.ToolCalls);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
    }

    [Fact]
    public async Task Unsupported_openai_parameter_is_refused_before_any_upstream_call_unless_dropped()
    {
        using var refused = await PostChatAsync("""{"model":"claude","seed":7,"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(400, (int)refused.StatusCode);
        Assert.Empty(_upstream.Requests);
        using var dropped = await PostChatAsync("""{"model":"claude","seed":7,"drop_params":true,"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(200, (int)dropped.StatusCode);
        Assert.DoesNotContain("seed", Assert.Single(_upstream.Requests).BodyText);
    }

    [Fact]
    public async Task Api_key_is_sent_as_a_bearer_token_without_sigv4()
    {
        ChatCompletion completion = await Chat("api-key").CompleteChatAsync([new UserChatMessage("hi")]);
        Assert.Equal("Hello from Bedrock.", completion.Content[0].Text);
        var sent = Assert.Single(_upstream.Requests);
        Assert.Equal("Bearer " + BedrockEmulator.BearerToken, sent.Headers["authorization"]);
        Assert.False(sent.Headers.ContainsKey("x-amz-date"));
    }

    [Fact]
    public async Task Reasoning_effort_on_a_model_without_thinking_is_refused_unless_dropped()
    {
        using var refused = await PostChatAsync("""{"model":"claude","reasoning_effort":"low","messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(400, (int)refused.StatusCode);
        Assert.Contains("reasoning_effort", await refused.Content.ReadAsStringAsync());
        Assert.Empty(_upstream.Requests);
        using var dropped = await PostChatAsync("""{"model":"claude","reasoning_effort":"low","drop_params":true,"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(200, (int)dropped.StatusCode);
        Assert.DoesNotContain("thinking", Assert.Single(_upstream.Requests).BodyText);
    }

    private Task<HttpResponseMessage> PostChatAsync(string json) =>
        _gateway.Http.PostAsync("/v1/chat/completions", new StringContent(json, Encoding.UTF8, "application/json"));

    /// <summary>Reads the SSE body; a connection the gateway aborted counts as the end.</summary>
    private static async Task<string> ReadToEndOrAbortAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new MemoryStream();
        try
        {
            await stream.CopyToAsync(buffer);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
