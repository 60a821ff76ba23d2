using System.Net;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;
using OpenAI.Chat;
using OpenAI.Embeddings;

namespace LLMux.Tests.EndToEnd;

/// <summary>The OpenAI SDK talks to LLMux, which talks to the OpenAI emulator.</summary>
public sealed class OpenAIPassthroughTests : IAsyncLifetime
{
    private OpenAIEmulator _upstream = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await OpenAIEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync($"""
            model_list:
              - model_name: gpt-test
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: {_upstream.ApiBase}
                  api_key: sk-upstream-secret
                  timeout: 2
              - model_name: embed-test
                litellm_params:
                  model: openai/text-embedding-3-small
                  api_base: {_upstream.ApiBase}
                  api_key: sk-upstream-secret
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private ChatClient Chat => _gateway.OpenAI().GetChatClient("gpt-test");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Upstream_rate_limit_headers_reach_the_client_and_other_upstream_headers_do_not(bool stream)
    {
        _upstream.Enqueue(new OpenAIScript
        {
            ResponseHeaders = new Dictionary<string, string>
            {
                ["x-ratelimit-remaining-requests"] = "4999",
                ["X-RateLimit-Reset-Tokens"] = "6ms",
                ["openai-organization"] = "org-secret-upstream",
            },
        });
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = new StringContent($$"""{"model":"gpt-test","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        using var response = await _gateway.Http.SendAsync(request);
        await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("4999", Assert.Single(response.Headers.GetValues("x-ratelimit-remaining-requests")));
        Assert.Equal("6ms", Assert.Single(response.Headers.GetValues("x-ratelimit-reset-tokens")));
        Assert.False(response.Headers.Contains("openai-organization"));
    }

    [Fact]
    public async Task Chat_completion_reaches_the_upstream_with_the_model_rewritten_and_the_upstream_key()
    {
        _upstream.Enqueue(new OpenAIScript { Content = "Bonjour!" });
        ChatCompletion completion = await Chat.CompleteChatAsync([new UserChatMessage("Say hello in French")]);

        Assert.Equal("Bonjour!", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(11, completion.Usage.InputTokenCount);
        Assert.Equal(7, completion.Usage.OutputTokenCount);

        var sent = Assert.Single(_upstream.Requests);
        Assert.Equal("/v1/chat/completions", sent.Path);
        Assert.Equal("Bearer sk-upstream-secret", sent.Headers["authorization"]);
        using var body = sent.Json();
        Assert.Equal("gpt-4o-mini", body.RootElement.GetProperty("model").GetString());
        Assert.Equal("Say hello in French", body.RootElement.GetProperty("messages")[0].GetProperty("content").GetString());
    }

    [Fact]
    public async Task Unknown_request_fields_are_forwarded_byte_for_byte()
    {
        var payload = """{"model":"gpt-test","messages":[{"role":"user","content":"hi"}],"x_vendor_knob":{"a":[1,2,{"b":"\u00e9"}]},"temperature":0.5}""";
        using var response = await _gateway.Http.PostAsync("/v1/chat/completions", new StringContent(payload, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = Assert.Single(_upstream.Requests).BodyText;
        Assert.Contains("""
            "x_vendor_knob":{"a":[1,2,{"b":"\u00e9"}]}
            """.Trim(), sent);
        Assert.Contains("\"temperature\":0.5", sent);
        Assert.Contains("\"model\":\"gpt-4o-mini\"", sent);
        Assert.True(response.Headers.Contains("x-llmux-overhead-us"));
        Assert.Equal("openai", response.Headers.GetValues("x-llmux-provider").Single());
    }

    [Fact]
    public async Task Stream_overhead_header_leaves_out_the_wait_for_the_first_upstream_event()
    {
        // The model sends its headers at once, then takes a full second before its first event; none of it is LLMux's time.
        _upstream.Enqueue(new OpenAIScript { Content = "slow start", Chunks = 1, FirstEventDelay = TimeSpan.FromSeconds(1) });
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = new StringContent("""{"model":"gpt-test","stream":true,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        using var response = await _gateway.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var overhead = long.Parse(response.Headers.GetValues("x-llmux-overhead-us").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("slow start", await response.Content.ReadAsStringAsync());
        // Not a speed target: a bound far above any real overhead and far below the upstream's 1,000,000 µs wait.
        Assert.True(overhead < 500_000, $"x-llmux-overhead-us = {overhead} counts the upstream wait");
    }

    [Fact]
    public async Task Streamed_text_arrives_in_order_and_ends_with_a_finish_reason()
    {
        _upstream.Enqueue(new OpenAIScript { Content = "one two three four five", Chunks = 5 });
        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in Chat.CompleteChatStreamingAsync([new UserChatMessage("count")]))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            finish ??= update.FinishReason;
        }
        Assert.Equal("one two three four five", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
    }

    [Fact]
    public async Task Stream_usage_chunk_reaches_the_client_when_it_asks_for_it()
    {
        _upstream.Enqueue(new OpenAIScript { PromptTokens = 21, CompletionTokens = 9, CachedTokens = 4, ReasoningTokens = 2 });
        ChatTokenUsage? usage = null;
        await foreach (var update in Chat.CompleteChatStreamingAsync([new UserChatMessage("hi")], new ChatCompletionOptions()))
        {
            usage ??= update.Usage;
        }
        // The .NET SDK always asks for include_usage.
        Assert.NotNull(usage);
        Assert.Equal(21, usage!.InputTokenCount);
        Assert.Equal(9, usage.OutputTokenCount);
        Assert.Equal(4, usage.InputTokenDetails.CachedTokenCount);
        Assert.Equal(2, usage.OutputTokenDetails.ReasoningTokenCount);
    }

    [Fact]
    public async Task Stream_without_include_usage_still_asks_upstream_for_usage_but_hides_the_usage_chunk()
    {
        var payload = """{"model":"gpt-test","stream":true,"messages":[{"role":"user","content":"hi"}]}""";
        using var response = await _gateway.Http.PostAsync("/v1/chat/completions", new StringContent(payload, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("\"usage\":{", body);
        Assert.EndsWith("data: [DONE]\n\n", body);
        using var sent = Assert.Single(_upstream.Requests).Json();
        Assert.True(sent.RootElement.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
    }

    [Fact]
    public async Task Stream_usage_chunk_carries_the_cost()
    {
        // gpt-4o-mini: 11 prompt × $0.15/M + 7 completion × $0.60/M.
        var payload = """{"model":"gpt-test","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}""";
        using var response = await _gateway.Http.PostAsync("/v1/chat/completions", new StringContent(payload, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        var usageFrame = body.Split("\n\n").Single(f => f.Contains("\"usage\":{", StringComparison.Ordinal));
        using var doc = JsonDocument.Parse(usageFrame["data: ".Length..]);
        var usage = doc.RootElement.GetProperty("usage");
        Assert.Equal(0.00000585m, usage.GetProperty("cost").GetDecimal());
        Assert.Equal(11, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(0, doc.RootElement.GetProperty("choices").GetArrayLength());
    }

    [Fact]
    public async Task Streamed_tool_call_arguments_are_reassembled_by_the_sdk()
    {
        _upstream.Enqueue(new OpenAIScript { ToolCall = ("get_weather", """{"city":"Paris","unit":"celsius"}"""), Chunks = 6 });
        var options = new ChatCompletionOptions { Tools = { ChatTool.CreateFunctionTool("get_weather", "Weather", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}}}""")) } };
        var args = new StringBuilder();
        string? name = null, id = null;
        ChatFinishReason? finish = null;
        await foreach (var update in Chat.CompleteChatStreamingAsync([new UserChatMessage("weather?")], options))
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
        Assert.Equal("call_emu_1", id);
        Assert.Equal("""{"city":"Paris","unit":"celsius"}""", args.ToString());
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
    }

    [Fact]
    public async Task Embeddings_pass_through_in_float_and_base64()
    {
        var client = _gateway.OpenAI().GetEmbeddingClient("embed-test");
        // The SDK asks for base64 and decodes it.
        OpenAIEmbedding embedding = await client.GenerateEmbeddingAsync("hello");
        Assert.Equal([0.25f, -0.5f, 0.125f], embedding.ToFloats().ToArray());
        using var sent = _upstream.Requests.Last().Json();
        Assert.Equal("text-embedding-3-small", sent.RootElement.GetProperty("model").GetString());

        using var response = await _gateway.Http.PostAsync("/v1/embeddings", new StringContent("""{"model":"embed-test","input":["a","b"],"encoding_format":"float"}""", Encoding.UTF8, "application/json"));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(2, json.RootElement.GetProperty("data").GetArrayLength());
        Assert.Equal(0.5, json.RootElement.GetProperty("data")[1].GetProperty("embedding")[0].GetDouble());
    }

    [Fact]
    public async Task Models_lists_the_public_names()
    {
        var models = await _gateway.OpenAI().GetOpenAIModelClient().GetModelsAsync();
        Assert.Equal(["gpt-test", "embed-test"], models.Value.Select(m => m.Id).ToArray());
    }
}
