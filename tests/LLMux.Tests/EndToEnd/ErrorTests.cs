using System.ClientModel;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;
using OpenAI.Chat;

namespace LLMux.Tests.EndToEnd;

/// <summary>Every failure reaches the client as OpenAI error JSON with LiteLLM's status and an actionable message.</summary>
public sealed class ErrorTests : IAsyncLifetime
{
    private OpenAIEmulator _upstream = null!;
    private GatewayHost _gateway = null!;
    private int _deadPort;

    public async Task InitializeAsync()
    {
        _upstream = await OpenAIEmulator.StartNewAsync();
        using (var l = new TcpListener(IPAddress.Loopback, 0)) { l.Start(); _deadPort = ((IPEndPoint)l.LocalEndpoint).Port; }
        _gateway = await GatewayHost.StartAsync($"""
            model_list:
              - model_name: gpt-test
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: {_upstream.ApiBase}
                  api_key: sk-upstream-secret-123
                  timeout: 1
              - model_name: dead
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: http://127.0.0.1:{_deadPort}/v1
                  api_key: sk-upstream-secret-123
            router_settings:
              num_retries: 0
            general_settings:
              master_key: sk-master
              max_request_size_mb: 1
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private ChatClient Chat(string model = "gpt-test") => _gateway.OpenAI("sk-master").GetChatClient(model);

    private async Task<(HttpStatusCode Status, JsonElement Error, HttpResponseMessage Response)> PostAsync(string path, string body, string? key = "sk-master")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (key is not null) request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        var response = await _gateway.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        using var doc = JsonDocument.Parse(text);
        var error = doc.RootElement.GetProperty("error").Clone();
        // The four keys are always there.
        foreach (var key4 in new[] { "message", "type", "param", "code" }) Assert.True(error.TryGetProperty(key4, out _), $"missing {key4} in {text}");
        Assert.False(string.IsNullOrEmpty(error.GetProperty("type").GetString()));
        Assert.DoesNotContain("sk-upstream-secret-123", text);
        Assert.DoesNotContain("sk-master", text);
        return (response.StatusCode, error, response);
    }

    [Theory]
    [InlineData("{\"model\":\"gpt-test\",\"messages\":[", "invalid_json")]
    [InlineData("not json at all", "invalid_json")]
    [InlineData("", null)]
    [InlineData("[1,2,3]", null)]
    public async Task Malformed_json_is_a_400_before_any_upstream_call(string body, string? code)
    {
        var (status, error, _) = await PostAsync("/v1/chat/completions", body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        if (code is not null) Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Empty(_upstream.Requests);
    }

    [Theory]
    [InlineData("""{"model":"gpt-test","messages":[{"role":"user","content":"hi"}],"temperature":"hot"}""", "temperature")]
    [InlineData("""{"model":"gpt-test","messages":[{"role":"user","content":"hi"}],"max_tokens":1.5}""", "max_tokens")]
    [InlineData("""{"model":"gpt-test","messages":[{"role":"user","content":"hi"}],"stream":"yes"}""", "stream")]
    [InlineData("""{"model":"gpt-test","messages":"hi"}""", "messages")]
    [InlineData("""{"model":"gpt-test","messages":[]}""", "messages")]
    [InlineData("""{"model":"gpt-test","messages":[{"role":"wizard","content":"hi"}]}""", "messages[0].role")]
    [InlineData("""{"model":"gpt-test","messages":[{"role":"user","content":42}]}""", "messages[0].content")]
    [InlineData("""{"model":"gpt-test","messages":[{"role":"user","content":"hi"}],"temperature":3}""", "temperature")]
    [InlineData("""{"model":"gpt-test","messages":[{"role":"user","content":"hi"}],"n":0}""", "n")]
    [InlineData("""{"model":"gpt-test","messages":[{"role":"user","content":"hi"}],"max_tokens":0}""", "max_tokens")]
    [InlineData("""{"model":"gpt-test","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":{"type":"function","function":{"name":"b"}}}""", "tool_choice")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}]}""", "model")]
    public async Task Wrong_types_and_values_name_the_parameter(string body, string param)
    {
        var (status, error, _) = await PostAsync("/v1/chat/completions", body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Too_deep_nesting_is_refused()
    {
        var deep = new string('[', 200) + new string(']', 200);
        var (status, _, _) = await PostAsync("/v1/chat/completions", "{\"model\":\"gpt-test\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"x\":" + deep + "}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
    }

    [Fact]
    public async Task Unknown_model_lists_what_exists()
    {
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Chat("gpt-nope").CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(400, ex.Status);
        Assert.Contains("gpt-nope", ex.Message);
        Assert.Contains("gpt-test", ex.Message);
        Assert.Empty(_upstream.Requests);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("sk-wrong")]
    public async Task Missing_or_invalid_master_key_is_401(string? key)
    {
        var (status, error, _) = await PostAsync("/v1/chat/completions", """{"model":"gpt-test","messages":[{"role":"user","content":"hi"}]}""", key);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("authentication_error", error.GetProperty("type").GetString());
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Oversized_body_is_413()
    {
        var big = new string('a', 2 * 1024 * 1024);
        var (status, _, _) = await PostAsync("/v1/chat/completions", "{\"model\":\"gpt-test\",\"messages\":[{\"role\":\"user\",\"content\":\"" + big + "\"}]}");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Unknown_route_is_json_404_and_wrong_method_json_405()
    {
        using var r1 = await _gateway.Http.GetAsync("/v1/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, r1.StatusCode);
        Assert.Equal("not_found_error", JsonDocument.Parse(await r1.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("type").GetString());
        using var r2 = await _gateway.Http.GetAsync("/v1/chat/completions");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, r2.StatusCode);
        Assert.Contains("POST", r2.Content.Headers.Allow);
        Assert.True(JsonDocument.Parse(await r2.Content.ReadAsStringAsync()).RootElement.TryGetProperty("error", out _));
        // A route bound to GET answers another method with the same JSON 404 as an unknown route (no fallback route is mapped).
        using var r3 = await _gateway.Http.DeleteAsync("/v1/capabilities");
        Assert.Equal(HttpStatusCode.NotFound, r3.StatusCode);
        Assert.Equal("route_not_found", JsonDocument.Parse(await r3.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());
        using var r4 = await _gateway.Http.GetAsync("/v1/capabilities");
        Assert.Equal(HttpStatusCode.OK, r4.StatusCode);
    }

    [Theory]
    [InlineData(400, 400, "invalid_request_error")]
    [InlineData(401, 401, "authentication_error")]
    [InlineData(403, 403, "permission_error")]
    [InlineData(404, 404, "not_found_error")]
    [InlineData(408, 408, "timeout_error")]
    [InlineData(422, 400, "invalid_request_error")]
    [InlineData(500, 500, "server_error")]
    [InlineData(502, 502, "bad_gateway_error")]
    [InlineData(503, 503, "service_unavailable_error")]
    [InlineData(504, 504, "timeout_error")]
    public async Task Upstream_statuses_map_as_litellm_does(int upstream, int expected, string type)
    {
        _upstream.Enqueue(new OpenAIScript { ErrorStatus = upstream, ErrorBody = "{\"error\":{\"message\":\"upstream says no (" + upstream + ")\",\"type\":\"x\",\"param\":null,\"code\":null}}" });
        var (status, error, response) = await PostAsync("/v1/chat/completions", """{"model":"gpt-test","messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(expected, (int)status);
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.Contains($"upstream says no ({upstream})", error.GetProperty("message").GetString());
        Assert.Equal(upstream, error.GetProperty("upstream_status").GetInt32());
        Assert.StartsWith("req_emu_", error.GetProperty("upstream_request_id").GetString());
        Assert.Equal("openai", response.Headers.GetValues("x-llmux-provider").Single());
    }

    [Fact]
    public async Task Rate_limit_keeps_retry_after_and_the_upstream_code()
    {
        _upstream.Enqueue(new OpenAIScript
        {
            ErrorStatus = 429,
            ErrorBody = """{"error":{"message":"Rate limit reached for gpt-4o-mini","type":"requests","param":null,"code":"rate_limit_exceeded"}}""",
            ErrorHeaders = new Dictionary<string, string> { ["retry-after"] = "7" },
        });
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Chat().CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(429, ex.Status);
        var raw = ex.GetRawResponse()!;
        Assert.True(raw.Headers.TryGetValue("Retry-After", out var ra));
        Assert.Equal("7", ra);
        using var body = JsonDocument.Parse(raw.Content.ToString());
        Assert.Equal("rate_limit_exceeded", body.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("rate_limit_error", body.RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task Context_window_error_keeps_the_upstream_code()
    {
        _upstream.Enqueue(new OpenAIScript
        {
            ErrorStatus = 400,
            ErrorBody = """{"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}""",
        });
        var (status, error, _) = await PostAsync("/v1/chat/completions", """{"model":"gpt-test","messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("context_length_exceeded", error.GetProperty("code").GetString());
        Assert.Equal("messages", error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task Upstream_timeout_is_408_and_the_upstream_call_is_aborted()
    {
        _upstream.Enqueue(new OpenAIScript { HeaderDelay = TimeSpan.FromSeconds(30) });
        var (status, error, _) = await PostAsync("/v1/chat/completions", """{"model":"gpt-test","messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.RequestTimeout, status);
        Assert.Contains("timeout", error.GetProperty("message").GetString());
        Assert.True(await _upstream.WaitForCancelledAsync(1, TimeSpan.FromSeconds(5)), "the upstream request was not aborted");
    }

    [Fact]
    public async Task Connection_refused_is_503_naming_the_upstream_not_the_key()
    {
        var (status, error, _) = await PostAsync("/v1/chat/completions", """{"model":"dead","messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains($"127.0.0.1:{_deadPort}", error.GetProperty("message").GetString());
        Assert.Equal("upstream_unreachable", error.GetProperty("code").GetString());
    }

    private async Task<string> StreamRawAsync(OpenAIScript script)
    {
        _upstream.Enqueue(script);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"gpt-test","stream":true,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer sk-master");
        using var response = await _gateway.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task Truncated_stream_ends_with_an_error_frame_not_done()
    {
        var body = await StreamRawAsync(new OpenAIScript { Content = "abcdefgh", Chunks = 4, TruncateAfter = 2 });
        Assert.DoesNotContain("[DONE]", body);
        Assert.DoesNotContain("finish_reason\":\"stop", body);
        var last = body.TrimEnd().Split("\n\n").Last();
        Assert.StartsWith("data: {\"error\":", last);
        Assert.Contains("\"type\":\"bad_gateway_error\"", last);
    }

    [Fact]
    public async Task Garbage_in_the_stream_ends_with_an_error_frame()
    {
        var body = await StreamRawAsync(new OpenAIScript { Content = "abcdefgh", Chunks = 4, GarbageAfter = 2 });
        Assert.DoesNotContain("[DONE]", body);
        Assert.Contains("data: {\"error\":", body);
    }

    [Fact]
    public async Task Reset_connection_mid_stream_ends_with_an_error_frame()
    {
        var body = await StreamRawAsync(new OpenAIScript { Content = "abcdefgh", Chunks = 4, ResetAfter = 2 });
        Assert.DoesNotContain("[DONE]", body);
        Assert.Contains("data: {\"error\":", body);
    }

    [Fact]
    public async Task Upstream_error_event_mid_stream_becomes_the_final_error_frame()
    {
        var body = await StreamRawAsync(new OpenAIScript { Content = "abcdefgh", Chunks = 4, ErrorEventAfter = 2 });
        Assert.DoesNotContain("[DONE]", body);
        var last = body.TrimEnd().Split("\n\n").Last();
        Assert.StartsWith("data: {\"error\":", last);
        Assert.Contains("\"type\":\"server_error\"", last);
        Assert.Contains("\"content\":\"cd\"", body);
    }

    [Fact]
    public async Task Sdk_sees_the_text_before_a_mid_stream_error_and_no_finish_reason()
    {
        _upstream.Enqueue(new OpenAIScript { Content = "abcdefgh", Chunks = 4, ErrorEventAfter = 2 });
        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        try
        {
            await foreach (var u in Chat().CompleteChatStreamingAsync([new UserChatMessage("hi")]))
            {
                foreach (var p in u.ContentUpdate) text.Append(p.Text);
                finish ??= u.FinishReason;
            }
        }
        catch (Exception ex) when (ex is ClientResultException or System.Text.Json.JsonException or InvalidOperationException)
        {
            // Newer SDKs surface the error frame; either way the answer must not look complete.
        }
        Assert.Equal("abcd", text.ToString());
        Assert.Null(finish);
    }

    [Fact]
    public async Task Error_event_before_any_content_is_an_http_error()
    {
        _upstream.Enqueue(new OpenAIScript { ErrorEventAfter = 0, Chunks = 2 });
        // The role chunk comes first, so this one is mid-stream; a stream whose very first event is an error:
        _upstream.Scripts.Clear();
        _upstream.Enqueue(new OpenAIScript { ErrorStatus = 500 });
        var ex = await Assert.ThrowsAsync<ClientResultException>(async () =>
        {
            await foreach (var _ in Chat().CompleteChatStreamingAsync([new UserChatMessage("hi")])) { }
        });
        Assert.Equal(500, ex.Status);
    }

    [Fact]
    public async Task Client_disconnect_cancels_the_upstream_stream()
    {
        _upstream.Enqueue(new OpenAIScript { Content = "abcdefgh", Chunks = 4, HangAfter = 2 });
        using var cts = new CancellationTokenSource();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"gpt-test","stream":true,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer sk-master");
        var response = await _gateway.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        var stream = await response.Content.ReadAsStreamAsync(cts.Token);
        var buffer = new byte[256];
        Assert.True(await stream.ReadAsync(buffer, cts.Token) > 0);
        Assert.Equal(0, _upstream.CancelledRequests);
        response.Dispose();
        cts.Cancel();
        Assert.True(await _upstream.WaitForCancelledAsync(1, TimeSpan.FromSeconds(5)), "the upstream request was not cancelled after the client left");
    }
}
