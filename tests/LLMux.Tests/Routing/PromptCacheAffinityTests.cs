using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using LLMux.Emulators;
using LLMux.Host;
using LLMux.Stages.Routing;
using LLMux.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace LLMux.Tests.Routing;

/// <summary><c>router_settings.prompt_cache_affinity</c>: a session's repeated prompt prefix goes to one deployment of its group, against two emulators.</summary>
public sealed class PromptCacheAffinityTests : IAsyncLifetime
{
    private OpenAIEmulator _a = null!;
    private OpenAIEmulator _b = null!;

    public async Task InitializeAsync()
    {
        _a = await OpenAIEmulator.StartNewAsync();
        _b = await OpenAIEmulator.StartNewAsync();
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    private string Config(string group, string extra = "", string litellmParams = "") => $"""
        model_list:
          - model_name: {group}
            litellm_params:
              model: openai/gpt-4o-mini
              api_base: {_a.ApiBase}
              api_key: sk-x{litellmParams}
            model_info:
              id: dep-a
          - model_name: {group}
            litellm_params:
              model: openai/gpt-4o-mini
              api_base: {_b.ApiBase}
              api_key: sk-x{litellmParams}
            model_info:
              id: dep-b
        router_settings:
          prompt_cache_affinity: true
        {extra}
        """;

    /// <summary>Turn <paramref name="turn"/> of a session: its system prompt, then the conversation so far.</summary>
    private static string Turn(string group, string system, int turn)
    {
        var messages = new StringBuilder($$"""{"role":"system","content":"{{system}}"},{"role":"user","content":"question 0"}""");
        for (var i = 1; i <= turn; i++) messages.Append($$""",{"role":"assistant","content":"answer {{i - 1}}"},{"role":"user","content":"question {{i}}"}""");
        return $$"""{"model":"{{group}}","messages":[{{messages}}]}""";
    }

    private static async Task<string> DeploymentOfAsync(GatewayHost gw, string body)
    {
        using var r = await gw.Http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.OK, text);
        return r.Headers.GetValues("x-llmux-model-id").Single();
    }

    [Fact]
    public async Task Every_turn_of_a_session_goes_to_the_deployment_that_owns_its_prefix_and_sessions_spread_over_both()
    {
        await using var gw = await GatewayHost.StartAsync(Config("sticky"));
        var owners = new HashSet<string>();
        for (var session = 0; session < 16; session++)
        {
            var system = "You are assistant number " + session;
            var first = await DeploymentOfAsync(gw, Turn("sticky", system, 0));
            owners.Add(first);
            for (var turn = 1; turn <= 3; turn++) Assert.Equal(first, await DeploymentOfAsync(gw, Turn("sticky", system, turn)));
        }
        // Rendezvous hashing spreads prefixes; 16 sessions all on one of two deployments would mean no spreading at all.
        Assert.Equal(["dep-a", "dep-b"], owners.Order());
        Assert.Equal(64, _a.Requests.Count + _b.Requests.Count);
    }

    [Fact]
    public async Task A_cooling_owner_hands_its_prefix_to_another_deployment_until_it_is_back()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var app = TestApp.Build(new LlmuxHostOptions { Port = 0, TimeProvider = time, ConfigYaml = Config("cooling", "  num_retries: 1\n  cooldown_time: 30\n") });
        await using var gw = await GatewayHost.StartAsync(app);
        var body = Turn("cooling", "Be brief.", 0);
        var owner = await DeploymentOfAsync(gw, body);
        var (ownerEmulator, other) = owner == "dep-a" ? (_a, "dep-b") : (_b, "dep-a");

        // A 429 cools the owner down (a group of two); the retry and the next turns go to the other one.
        ownerEmulator.Enqueue(new OpenAIScript { ErrorStatus = 429 });
        Assert.Equal(other, await DeploymentOfAsync(gw, Turn("cooling", "Be brief.", 1)));
        Assert.Equal(other, await DeploymentOfAsync(gw, Turn("cooling", "Be brief.", 2)));

        time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(owner, await DeploymentOfAsync(gw, Turn("cooling", "Be brief.", 3)));
    }

    [Fact]
    public async Task A_full_owner_hands_the_request_to_a_deployment_with_room()
    {
        // The owner may take one request at a time and queue none: a second one at once goes elsewhere.
        await using var gw = await GatewayHost.StartAsync(Config("full", litellmParams: "\n      max_parallel_requests: 1\n      max_queue: 0"));
        var body = Turn("full", "Hold on.", 0);
        var owner = await DeploymentOfAsync(gw, body);
        var (ownerEmulator, other) = owner == "dep-a" ? (_a, "dep-b") : (_b, "dep-a");
        ownerEmulator.Enqueue(new OpenAIScript { HeaderDelay = TimeSpan.FromSeconds(2) });
        var held = DeploymentOfAsync(gw, Turn("full", "Hold on.", 1));
        for (var i = 0; i < 500 && ownerEmulator.Requests.Count < 2; i++) await Task.Delay(10);
        Assert.Equal(other, await DeploymentOfAsync(gw, Turn("full", "Hold on.", 2)));
        Assert.Equal(owner, await held);
    }

    [Fact]
    public async Task Provider_prompt_cache_reads_are_counted_per_group_as_a_hit_rate()
    {
        var group = "metered-" + Guid.NewGuid().ToString("N")[..8];
        var prompt = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener
        {
            InstrumentPublished = static (i, l) => { if (i.Meter.Name == "LLMux" && i.Name.StartsWith("llmux.prompt_cache.", StringComparison.Ordinal)) l.EnableMeasurementEvents(i); },
        };
        void Add(Instrument i, double v, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var t in tags) if (t.Key == PromptCacheMetrics.ModelGroup && Equals(t.Value, group)) prompt.AddOrUpdate(i.Name, (long)(v * 1000), (_, old) => old + (long)(v * 1000));
        }
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
        listener.Start();

        // First turn: nothing cached; the next two: the provider read 8 of 11 prompt tokens from its cache.
        _a.Default = _b.Default = new OpenAIScript { PromptTokens = 11 };
        await using var gw = await GatewayHost.StartAsync(Config(group));
        await DeploymentOfAsync(gw, Turn(group, "Cache me.", 0));
        _a.Default = _b.Default = new OpenAIScript { PromptTokens = 11, CachedTokens = 8 };
        await DeploymentOfAsync(gw, Turn(group, "Cache me.", 1));
        await DeploymentOfAsync(gw, Turn(group, "Cache me.", 2));

        for (var i = 0; i < 500 && prompt.GetValueOrDefault("llmux.prompt_cache.prompt_tokens") < 33_000; i++) await Task.Delay(10);
        Assert.Equal(33_000, prompt.GetValueOrDefault("llmux.prompt_cache.prompt_tokens"));
        Assert.Equal(16_000, prompt.GetValueOrDefault("llmux.prompt_cache.cached_tokens"));
        // Per-request ratios 0, 8/11, 8/11 (summed, in thousandths).
        Assert.Equal(2 * (long)(8.0 / 11 * 1000), prompt.GetValueOrDefault("llmux.prompt_cache.hit_ratio"));
    }
}

/// <summary>What counts as a session's prompt prefix.</summary>
public sealed class PromptPrefixTests
{
    private static ulong? H(string json) => PromptPrefix.Hash(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void A_growing_chat_keeps_its_prefix_and_another_system_prompt_or_tool_changes_it()
    {
        var turn0 = H("""{"model":"m","messages":[{"role":"system","content":"S"},{"role":"user","content":"q0"}]}""");
        Assert.NotNull(turn0);
        Assert.Equal(turn0, H("""{"model":"m","messages":[{"role":"system","content":"S"},{"role":"user","content":"q0"},{"role":"assistant","content":"a0"},{"role":"user","content":"q1"}],"temperature":0.2}"""));
        Assert.NotEqual(turn0, H("""{"model":"m","messages":[{"role":"system","content":"T"},{"role":"user","content":"q0"}]}"""));
        Assert.NotEqual(turn0, H("""{"model":"m","messages":[{"role":"system","content":"S"},{"role":"user","content":"q0"}],"tools":[{"type":"function","function":{"name":"f"}}]}"""));
    }

    [Fact]
    public void Anthropic_system_and_responses_instructions_are_part_of_the_prefix()
    {
        var a = H("""{"model":"m","system":"S","max_tokens":5,"messages":[{"role":"user","content":"q0"}]}""");
        Assert.Equal(a, H("""{"model":"m","system":"S","max_tokens":9,"messages":[{"role":"user","content":"q0"},{"role":"assistant","content":"a0"},{"role":"user","content":"q1"}]}"""));
        Assert.NotEqual(a, H("""{"model":"m","system":"T","max_tokens":5,"messages":[{"role":"user","content":"q0"}]}"""));
        // "system" as a member is not the same as a first message with that text.
        Assert.NotEqual(H("""{"model":"m","system":"q0","messages":[]}"""), H("""{"model":"m","messages":["q0"]}"""));
        var r = H("""{"model":"m","instructions":"I","input":"hello"}""");
        Assert.NotNull(r);
        Assert.NotEqual(r, H("""{"model":"m","instructions":"J","input":"hello"}"""));
    }

    [Fact]
    public void A_body_without_a_prompt_has_no_prefix()
    {
        Assert.Null(H("""{"model":"m"}"""));
        Assert.Null(H(""));
    }
}

/// <summary>How affinity is switched on.</summary>
public sealed class PromptCacheAffinityConfigTests
{
    private static LLMux.Stages.Hosting.LiteLLMConfig Read(params (string Key, string Value)[] keys)
    {
        var d = new Dictionary<string, string?>();
        foreach (var (k, v) in keys) d[k] = v;
        return LLMux.Stages.Hosting.LiteLLMConfigReader.Read(new Microsoft.Extensions.Configuration.ConfigurationBuilder().AddInMemoryCollection(d).Build());
    }

    [Fact]
    public void Prompt_cache_affinity_or_LiteLLMs_prompt_caching_check_turns_it_on_and_other_checks_are_warned()
    {
        Assert.False(Read(("router_settings:num_retries", "1")).Settings.Router.PromptCacheAffinity);
        Assert.True(Read(("router_settings:prompt_cache_affinity", "true")).Settings.Router.PromptCacheAffinity);
        var litellm = Read(("router_settings:optional_pre_call_checks:0", "prompt_caching"), ("router_settings:optional_pre_call_checks:1", "router_budget_limiting"));
        Assert.True(litellm.Settings.Router.PromptCacheAffinity);
        Assert.Contains(litellm.Warnings, w => w.Contains("router_budget_limiting", StringComparison.Ordinal));
        Assert.DoesNotContain(litellm.Warnings, w => w.Contains("`prompt_caching` is ignored", StringComparison.Ordinal));
    }
}
