using System.Net;
using System.Text;
using LLMux.Emulators;
using LLMux.Host;
using LLMux.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace LLMux.Tests.Routing;

/// <summary>LiteLLM's router behaviour through the host, against emulators that fail on cue.</summary>
public sealed class RouterTests : IAsyncLifetime
{
    private OpenAIEmulator _good = null!;
    private OpenAIEmulator _bad = null!;
    private OpenAIEmulator _other = null!;

    public async Task InitializeAsync()
    {
        _good = await OpenAIEmulator.StartNewAsync();
        _bad = await OpenAIEmulator.StartNewAsync();
        _other = await OpenAIEmulator.StartNewAsync();
        _bad.Default = new OpenAIScript { ErrorStatus = 500 };
    }

    public async Task DisposeAsync()
    {
        await _good.DisposeAsync();
        await _bad.DisposeAsync();
        await _other.DisposeAsync();
    }

    private static string Deployment(string name, OpenAIEmulator e, string id, string extra = "") => $"""
          - model_name: {name}
            litellm_params:
              model: openai/gpt-4o-mini
              api_base: {e.ApiBase}
              api_key: sk-x{extra}
            model_info:
              id: {id}

        """;

    private static async Task<HttpResponseMessage> ChatAsync(GatewayHost gw, string model, bool stream = false) =>
        await gw.Http.PostAsync("/v1/chat/completions", new StringContent(
            $$"""{"model":"{{model}}","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));

    private static string Header(HttpResponseMessage r, string name) => r.Headers.GetValues(name).Single();

    [Fact]
    public async Task Two_deployments_one_failing_every_request_is_served_by_the_other()
    {
        await using var gw = await GatewayHost.StartAsync("model_list:\n" + Deployment("pair", _good, "good") + Deployment("pair", _bad, "bad") + """
            router_settings:
              num_retries: 2
              disable_cooldowns: true
            """);
        for (var i = 0; i < 20; i++)
        {
            using var r = await ChatAsync(gw, "pair");
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal("good", Header(r, "x-llmux-model-id"));
            Assert.True(int.Parse(Header(r, "x-llmux-attempts")) <= 2);
        }
        Assert.Equal(20, _good.Requests.Count);
        Assert.True(_bad.Requests.Count is > 0 and <= 20, $"bad saw {_bad.Requests.Count}");
    }

    [Fact]
    public async Task Num_retries_zero_means_one_attempt()
    {
        await using var gw = await GatewayHost.StartAsync("model_list:\n" + Deployment("solo", _bad, "bad") + """
            router_settings:
              num_retries: 0
            """);
        using var r = await ChatAsync(gw, "solo");
        Assert.Equal(HttpStatusCode.InternalServerError, r.StatusCode);
        Assert.Single(_bad.Requests);
    }

    [Fact]
    public async Task Retry_waits_for_retry_after_on_a_single_deployment()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var app = TestApp.Build(new LlmuxHostOptions
        {
            Port = 0,
            TimeProvider = time,
            ConfigYaml = "model_list:\n" + Deployment("solo", _good, "g") + "router_settings:\n  num_retries: 1\n",
        });
        _good.Enqueue(new OpenAIScript { ErrorStatus = 429, ErrorHeaders = new Dictionary<string, string> { ["retry-after"] = "3" } });
        await using var gw = await GatewayHost.StartAsync(app);
        var pending = ChatAsync(gw, "solo");
        await WaitUntil(() => _good.Requests.Count == 1);
        await Task.Delay(100);
        Assert.False(pending.IsCompleted, "the retry did not wait for Retry-After");
        Assert.Single(_good.Requests);
        time.Advance(TimeSpan.FromSeconds(4));
        using var r = await pending;
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("2", Header(r, "x-llmux-attempts"));
        Assert.Equal(2, _good.Requests.Count);
    }

    [Fact]
    public async Task Fallback_group_answers_when_the_group_fails()
    {
        await using var gw = await GatewayHost.StartAsync("model_list:\n" + Deployment("primary", _bad, "bad") + Deployment("backup", _good, "good") + """
            router_settings:
              num_retries: 0
              fallbacks: [{"primary": ["backup"]}]
            """);
        using var r = await ChatAsync(gw, "primary");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("good", Header(r, "x-llmux-model-id"));
    }

    [Fact]
    public async Task Context_window_error_goes_to_the_context_window_fallback()
    {
        _bad.Default = new OpenAIScript
        {
            ErrorStatus = 400,
            ErrorBody = """{"error":{"message":"This model's maximum context length is 8192 tokens","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}""",
        };
        await using var gw = await GatewayHost.StartAsync("model_list:\n" + Deployment("small", _bad, "small") + Deployment("general", _other, "general") + Deployment("large", _good, "large") + """
            router_settings:
              num_retries: 2
              fallbacks: [{"small": ["general"]}]
              context_window_fallbacks: [{"small": ["large"]}]
            """);
        using var r = await ChatAsync(gw, "small");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("large", Header(r, "x-llmux-model-id"));
        Assert.Single(_bad.Requests); // not retried: it has a context-window fallback
        Assert.Empty(_other.Requests);
    }

    [Fact]
    public async Task Content_policy_error_goes_to_the_content_policy_fallback()
    {
        _bad.Default = new OpenAIScript
        {
            ErrorStatus = 400,
            ErrorBody = """{"error":{"message":"Your request was rejected as a result of our safety system.","type":"invalid_request_error","param":null,"code":"content_policy_violation"}}""",
        };
        await using var gw = await GatewayHost.StartAsync("model_list:\n" + Deployment("strict", _bad, "strict") + Deployment("general", _other, "general") + Deployment("lenient", _good, "lenient") + """
            router_settings:
              num_retries: 2
              fallbacks: [{"strict": ["general"]}]
              content_policy_fallbacks: [{"strict": ["lenient"]}]
            """);
        using var r = await ChatAsync(gw, "strict");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("lenient", Header(r, "x-llmux-model-id"));
        Assert.Single(_bad.Requests);
        Assert.Empty(_other.Requests);
    }

    [Fact]
    public async Task Default_fallbacks_serve_any_group_without_its_own()
    {
        await using var gw = await GatewayHost.StartAsync("model_list:\n" + Deployment("anything", _bad, "bad") + Deployment("safety-net", _good, "net") + """
            router_settings:
              num_retries: 0
              default_fallbacks: ["safety-net"]
            """);
        using var r = await ChatAsync(gw, "anything");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("net", Header(r, "x-llmux-model-id"));
    }

    [Fact]
    public async Task Failing_deployment_cools_down_and_comes_back_after_cooldown_time()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var app = TestApp.Build(new LlmuxHostOptions
        {
            Port = 0,
            TimeProvider = time,
            ConfigYaml = "model_list:\n" + Deployment("pair", _good, "good") + Deployment("pair", _bad, "bad") + """
                router_settings:
                  num_retries: 1
                  allowed_fails: 0
                  cooldown_time: 30
                """,
        });
        await using var gw = await GatewayHost.StartAsync(app);
        // Until the bad one has failed once, it may be picked.
        while (_bad.Requests.IsEmpty)
        {
            using var r = await ChatAsync(gw, "pair");
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }
        var badCalls = _bad.Requests.Count;
        for (var i = 0; i < 10; i++)
        {
            using var r = await ChatAsync(gw, "pair");
            Assert.Equal("1", Header(r, "x-llmux-attempts"));
        }
        Assert.Equal(badCalls, _bad.Requests.Count);

        time.Advance(TimeSpan.FromSeconds(31));
        for (var i = 0; i < 40 && _bad.Requests.Count == badCalls; i++)
        {
            using var r = await ChatAsync(gw, "pair");
        }
        Assert.True(_bad.Requests.Count > badCalls, "the cooled-down deployment never came back");
    }

    [Fact]
    public async Task All_deployments_cooling_down_is_a_429()
    {
        await using var gw = await GatewayHost.StartAsync("model_list:\n" + Deployment("pair", _bad, "bad1") + Deployment("pair", _bad, "bad2") + """
            router_settings:
              num_retries: 1
              allowed_fails: 0
              cooldown_time: 60
            """);
        using var first = await ChatAsync(gw, "pair");
        Assert.Equal(HttpStatusCode.InternalServerError, first.StatusCode);
        using var second = await ChatAsync(gw, "pair");
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Contains("no_deployments_available", await second.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Weighted_shuffle_spreads_load_by_weight()
    {
        await using var gw = await GatewayHost.StartAsync("""
            model_list:
              - model_name: spread
                litellm_params: { model: mock/a, weight: 1 }
                model_info: { id: light }
              - model_name: spread
                litellm_params: { model: mock/b, weight: 3 }
                model_info: { id: heavy }
            """);
        var heavy = 0;
        for (var i = 0; i < 400; i++)
        {
            using var r = await ChatAsync(gw, "spread");
            if (Header(r, "x-llmux-model-id") == "heavy") heavy++;
        }
        // Expected 300 of 400; the bounds are > 6 standard deviations wide.
        Assert.InRange(heavy, 250, 350);
    }

    [Fact]
    public async Task Latency_based_routing_prefers_the_faster_deployment()
    {
        _other.Default = new OpenAIScript { HeaderDelay = TimeSpan.FromMilliseconds(150) };
        await using var gw = await GatewayHost.StartAsync("model_list:\n" + Deployment("lat", _good, "fast") + Deployment("lat", _other, "slow") + """
            router_settings:
              routing_strategy: latency-based-routing
            """);
        var fast = 0;
        for (var i = 0; i < 12; i++)
        {
            using var r = await ChatAsync(gw, "lat");
            if (Header(r, "x-llmux-model-id") == "fast") fast++;
        }
        Assert.True(fast >= 10, $"fast got {fast} of 12");
    }

    [Fact]
    public async Task Cost_based_routing_picks_the_cheapest_deployment()
    {
        await using var gw = await GatewayHost.StartAsync("""
            model_list:
              - model_name: priced
                litellm_params: { model: mock/a, input_cost_per_token: 0.00001, output_cost_per_token: 0.00003 }
                model_info: { id: dear }
              - model_name: priced
                litellm_params: { model: mock/b, input_cost_per_token: 0.000001, output_cost_per_token: 0.000002 }
                model_info: { id: cheap }
            router_settings:
              routing_strategy: cost-based-routing
            """);
        for (var i = 0; i < 10; i++)
        {
            using var r = await ChatAsync(gw, "priced");
            Assert.Equal("cheap", Header(r, "x-llmux-model-id"));
        }
    }

    [Fact]
    public async Task Usage_based_routing_moves_off_a_deployment_at_its_rpm()
    {
        await using var gw = await GatewayHost.StartAsync("""
            model_list:
              - model_name: limited
                litellm_params: { model: mock/a, rpm: 3 }
                model_info: { id: small }
              - model_name: limited
                litellm_params: { model: mock/b, rpm: 1000 }
                model_info: { id: big }
            router_settings:
              routing_strategy: usage-based-routing-v2
            """);
        var small = 0;
        for (var i = 0; i < 20; i++)
        {
            using var r = await ChatAsync(gw, "limited");
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            if (Header(r, "x-llmux-model-id") == "small") small++;
        }
        // Lowest usage first, but never past the rpm of 3 in this minute.
        Assert.InRange(small, 1, 3);
    }

    [Fact]
    public async Task Least_busy_routing_sends_new_calls_away_from_a_deployment_holding_a_stream()
    {
        _other.Enqueue(new OpenAIScript { Content = "abcdefgh", Chunks = 4, HangAfter = 2 });
        await using var gw = await GatewayHost.StartAsync("model_list:\n" + Deployment("busy", _other, "held") + Deployment("busy", _good, "free") + """
            router_settings:
              routing_strategy: least-busy
            """);
        // The first call goes to the first deployment and stays open (the upstream hangs mid-stream).
        using var held = await gw.Http.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"busy","stream":true,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        }, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("held", Header(held, "x-llmux-model-id"));
        for (var i = 0; i < 5; i++)
        {
            using var r = await ChatAsync(gw, "busy");
            Assert.Equal("free", Header(r, "x-llmux-model-id"));
        }
    }

    [Fact]
    public async Task Max_parallel_requests_queues_then_refuses_with_429()
    {
        _good.Default = new OpenAIScript { HeaderDelay = TimeSpan.FromMilliseconds(700) };
        await using var gw = await GatewayHost.StartAsync("model_list:\n" + Deployment("narrow", _good, "one", "\n      max_parallel_requests: 1\n      max_queue: 1") + "router_settings:\n  num_retries: 0\n");
        var calls = Enumerable.Range(0, 3).Select(_ => ChatAsync(gw, "narrow")).ToArray();
        var responses = await Task.WhenAll(calls);
        try
        {
            var statuses = responses.Select(r => (int)r.StatusCode).OrderBy(x => x).ToArray();
            // One runs, one waits for its slot, the third finds the queue full.
            Assert.Equal([200, 200, 429], statuses);
            var refused = responses.Single(r => r.StatusCode == HttpStatusCode.TooManyRequests);
            Assert.Contains("max_parallel_requests", await refused.Content.ReadAsStringAsync());
            Assert.Equal(2, _good.Requests.Count);
        }
        finally
        {
            foreach (var r in responses) r.Dispose();
        }
    }

    [Fact]
    public async Task Model_group_alias_serves_the_aliased_group()
    {
        await using var gw = await GatewayHost.StartAsync("model_list:\n" + Deployment("real", _good, "real") + """
            router_settings:
              model_group_alias: {"friendly": "real"}
            """);
        using var r = await ChatAsync(gw, "friendly");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("real", Header(r, "x-llmux-model-id"));
    }

    [Fact]
    public async Task No_retry_once_stream_bytes_were_sent()
    {
        _good.Enqueue(new OpenAIScript { Content = "abcdef", Chunks = 3, ErrorEventAfter = 1 });
        await using var gw = await GatewayHost.StartAsync("model_list:\n" + Deployment("s", _good, "g") + "router_settings:\n  num_retries: 3\n");
        using var r = await ChatAsync(gw, "s", stream: true);
        var body = await r.Content.ReadAsStringAsync();
        Assert.Contains("data: {\"error\":", body);
        Assert.Single(_good.Requests);
    }

    [Fact]
    public async Task Stream_that_fails_before_its_first_byte_is_retried_elsewhere()
    {
        // Anthropic answers 200, then an overloaded error event before any content: the client has nothing yet.
        await using var anthropic = await AnthropicEmulator.StartNewAsync();
        anthropic.Default = new AnthropicScript { ErrorEventAfter = 0 };
        await using var gw = await GatewayHost.StartAsync($"""
            model_list:
              - model_name: pair
                litellm_params:
                  model: anthropic/claude-sonnet-4-5
                  api_base: {anthropic.ApiBase}
                  api_key: sk-ant-x
                model_info:
                  id: claude
            """ + "\n" + Deployment("pair", _good, "good") + """
            router_settings:
              num_retries: 1
              routing_strategy: least-busy
            """);
        using var r = await ChatAsync(gw, "pair", stream: true);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var body = await r.Content.ReadAsStringAsync();
        Assert.EndsWith("data: [DONE]\n\n", body);
        Assert.Equal("good", Header(r, "x-llmux-model-id"));
        Assert.Equal("2", Header(r, "x-llmux-attempts"));
        Assert.Single(anthropic.Requests);
    }

    [Fact]
    public async Task Wildcard_route_passes_the_client_model_through()
    {
        await using var gw = await GatewayHost.StartAsync($"""
            model_list:
              - model_name: openai/*
                litellm_params:
                  model: openai/*
                  api_base: {_good.ApiBase}
                  api_key: sk-x
            """);
        using var r = await ChatAsync(gw, "openai/gpt-4.1-nano");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using var sent = _good.Requests.Single().Json();
        Assert.Equal("gpt-4.1-nano", sent.RootElement.GetProperty("model").GetString());
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++) await Task.Delay(10);
        Assert.True(condition());
    }
}
