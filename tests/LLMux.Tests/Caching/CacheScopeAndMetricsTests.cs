using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using LLMux.Emulators;
using LLMux.Stages.Caching;

namespace LLMux.Tests.Caching;

/// <summary>
/// Who shares an entry (keys of one team do; an opted-in model group is everyone's), what the metrics count (hits,
/// misses, store errors, saved cost), and the replay's frame grammar under any split of the recorded bytes.
/// </summary>
public sealed class CacheScopeAndMetricsTests
{
    private const string Ask = """{"model":"gpt-test","messages":[{"role":"user","content":"team scope?"}]}""";

    [Fact]
    public async Task Keys_of_one_team_share_entries_and_keys_of_another_do_not()
    {
        await using var g = await CacheGateway.StartAsync();
        foreach (var team in new[] { "t-red", "t-blue" })
            using (var r = await g.SendAsync(HttpMethod.Post, "/team/new", $$"""{"team_id":"{{team}}"}""", CacheGateway.Master))
                Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
        var red1 = await g.NewKeyAsync("""{"team_id":"t-red"}""");
        var red2 = await g.NewKeyAsync("""{"team_id":"t-red"}""");
        var blue = await g.NewKeyAsync("""{"team_id":"t-blue"}""");

        var first = await g.PostAsync("/v1/chat/completions", Ask, red1);
        Assert.Equal("miss", first.Cache);
        var mate = await g.PostAsync("/v1/chat/completions", Ask, red2);
        Assert.Equal("hit", mate.Cache);
        Assert.Equal(first.Key, mate.Key);
        Assert.Equal("miss", (await g.PostAsync("/v1/chat/completions", Ask, blue)).Cache);
        Assert.Equal(2, g.Upstream.Requests.Count);
    }

    [Fact]
    public async Task A_shared_model_group_is_one_entry_for_every_tenant()
    {
        await using var g = await CacheGateway.StartAsync("    shared_model_groups: [gpt-test]");
        var a = await g.NewKeyAsync();
        var b = await g.NewKeyAsync();
        Assert.Equal("miss", (await g.PostAsync("/v1/chat/completions", Ask, a)).Cache);
        Assert.Equal("hit", (await g.PostAsync("/v1/chat/completions", Ask, b)).Cache);
        // Another model group is still per tenant.
        const string embed = """{"model":"embed-test","input":"x"}""";
        Assert.Equal("miss", (await g.PostAsync("/v1/embeddings", embed, a)).Cache);
        Assert.Equal("miss", (await g.PostAsync("/v1/embeddings", embed, b)).Cache);
    }

    [Fact]
    public async Task An_end_user_held_to_a_region_has_cache_entries_apart_from_other_callers()
    {
        // Shared groups (one entry for every tenant) show it best: the end user's region still splits them. Its
        // default_model stands in for gpt-test, which has no EU deployment; that answer must not reach other callers.
        await using var g = await CacheGateway.StartAsync("    shared_model_groups: [gpt-test, eu-model]", extraModels: """
              - model_name: eu-model
                litellm_params:
                  model: openai/gpt-4o
                  api_base: {upstream}
                  api_key: sk-upstream
                  region_name: eu
            """);
        using (var created = await g.SendAsync(HttpMethod.Post, "/customer/new", """{"user_id":"lyon","allowed_model_region":"eu","default_model":"eu-model"}""", CacheGateway.Master))
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        var a = await g.NewKeyAsync();
        var b = await g.NewKeyAsync();
        const string asLyon = """{"model":"gpt-test","user":"lyon","messages":[{"role":"user","content":"where?"}]}""";
        const string plain = """{"model":"gpt-test","messages":[{"role":"user","content":"where?"}]}""";
        Assert.Equal("miss", (await g.PostAsync("/v1/chat/completions", asLyon, a)).Cache);
        Assert.Equal("gpt-4o", g.Upstream.Requests.Last().Json().RootElement.GetProperty("model").GetString());
        // Another caller, no region: not served the EU stand-in's answer.
        Assert.Equal("miss", (await g.PostAsync("/v1/chat/completions", plain, b)).Cache);
        Assert.Equal("gpt-4o-mini", g.Upstream.Requests.Last().Json().RootElement.GetProperty("model").GetString());
        // The same end user through another key (the group is shared): the region's entry.
        Assert.Equal("hit", (await g.PostAsync("/v1/chat/completions", asLyon, b)).Cache);
        Assert.Equal("hit", (await g.PostAsync("/v1/chat/completions", plain, a)).Cache);
        Assert.Equal(2, g.Upstream.Requests.Count);
    }

    /// <summary>Measurements of the cache instruments tagged with <paramref name="group"/> (tests run in parallel: a model group of their own).</summary>
    private sealed class CacheMeter : IDisposable
    {
        private readonly MeterListener _listener;
        public ConcurrentDictionary<string, double> Totals { get; } = new();

        public CacheMeter(string group)
        {
            _listener = new MeterListener
            {
                InstrumentPublished = static (i, l) => { if (i.Meter.Name == "LLMux" && i.Name.StartsWith("llmux.cache.", StringComparison.Ordinal)) l.EnableMeasurementEvents(i); },
            };
            void Add(Instrument i, double v, ReadOnlySpan<KeyValuePair<string, object?>> tags)
            {
                string? result = null;
                var mine = false;
                foreach (var t in tags)
                {
                    if (t.Key == CacheMetrics.ModelGroup && Equals(t.Value, group)) mine = true;
                    if (t.Key == "llmux.cache.result") result = t.Value as string;
                }
                if (mine) Totals.AddOrUpdate(i.Name + (result is null ? "" : ":" + result), v, (_, old) => old + v);
            }
            _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
            _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
            _listener.Start();
        }

        public double this[string name] => Totals.TryGetValue(name, out var v) ? v : 0;

        public void Dispose() => _listener.Dispose();
    }

    [Fact]
    public async Task Hits_misses_bypasses_and_the_saved_cost_are_counted_per_model_group()
    {
        var group = "metered-" + Guid.NewGuid().ToString("N")[..8];
        await using var upstream = await OpenAIEmulator.StartNewAsync();
        using var meter = new CacheMeter(group);
        await using var g = await CacheGateway.StartAsync(extraModels: $"""
              - model_name: {group}
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: {upstream.ApiBase}
                  api_key: sk-upstream
                  input_cost_per_token: 0.001
                  output_cost_per_token: 0.002
            """);
        var key = await g.NewKeyAsync();
        var body = $$"""{"model":"{{group}}","messages":[{"role":"user","content":"count me"}]}""";
        var miss = await g.PostAsync("/v1/chat/completions", body, key);
        var cost = decimal.Parse(miss.Cost!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(cost > 0);
        Assert.Equal("hit", (await g.PostAsync("/v1/chat/completions", body, key)).Cache);
        Assert.Equal("hit", (await g.PostAsync("/v1/chat/completions", body, key)).Cache);
        Assert.Equal("bypass", (await g.PostAsync("/v1/chat/completions", body, key, cacheControl: "no-cache")).Cache);

        Assert.Equal(1, meter["llmux.cache.requests:miss"]);
        Assert.Equal(2, meter["llmux.cache.requests:hit"]);
        Assert.Equal(1, meter["llmux.cache.requests:bypass"]);
        Assert.Equal(0, meter["llmux.cache.requests:error"]);
        Assert.Equal((double)(2 * cost), meter["llmux.cache.saved_cost"], 9);
    }

    [Fact]
    public async Task An_unreachable_redis_counts_errors_and_answers_every_request()
    {
        var group = "outage-" + Guid.NewGuid().ToString("N")[..8];
        await using var upstream = await OpenAIEmulator.StartNewAsync();
        using var meter = new CacheMeter(group);
        await using var g = await CacheGateway.StartAsync("""
                type: redis
                host: 127.0.0.1
                port: 1
            """, extraModels: $"""
              - model_name: {group}
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: {upstream.ApiBase}
                  api_key: sk-upstream
            """);
        var key = await g.NewKeyAsync();
        var body = $$"""{"model":"{{group}}","messages":[{"role":"user","content":"down"}]}""";
        for (var i = 0; i < 2; i++) Assert.Equal(200, (await g.PostAsync("/v1/chat/completions", body, key)).Status);
        Assert.Equal(2, upstream.Requests.Count);
        Assert.Equal(2, meter["llmux.cache.requests:miss"]);
        // Each request: the lookup failed and the write was dropped.
        Assert.Equal(4, meter["llmux.cache.requests:error"]);
        Assert.Equal(0, meter["llmux.cache.requests:hit"]);
    }

    private const string Recorded =
        "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n" +
        "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\\n\\nb\"}}]}\n\n" +
        "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n" +
        "data: [DONE]\n\n";

    [Fact]
    public void Replay_hands_on_whole_frames_in_order_whatever_the_split_of_the_recorded_bytes()
    {
        var bytes = Encoding.UTF8.GetBytes(Recorded);
        var expected = Recorded.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(f => f + "\n\n").ToArray();
        for (var split = 0; split <= bytes.Length; split++)
        {
            using var replay = new CachedStreamReplay();
            var frames = new List<string>();
            var pending = Array.Empty<byte>();
            foreach (var part in new[] { bytes[..split], bytes[split..] })
            {
                var buffer = new ReadOnlySequence<byte>([.. pending, .. part]);
                var output = new ArrayBufferWriter<byte>();
                replay.Decode(ref buffer, output);
                if (output.WrittenCount > 0) frames.AddRange(Frames(output));
                pending = buffer.ToArray();
            }
            var tail = new ArrayBufferWriter<byte>();
            replay.Complete(new ReadOnlySequence<byte>(pending), tail);
            Assert.Equal(0, tail.WrittenCount); // nothing left over: every frame ended with its blank line
            Assert.Equal(expected, frames);
        }
    }

    /// <summary>What one Decode call wrote, as the frames it holds (each must be whole).</summary>
    private static IEnumerable<string> Frames(ArrayBufferWriter<byte> output)
    {
        var text = Encoding.UTF8.GetString(output.WrittenSpan);
        Assert.EndsWith("\n\n", text, StringComparison.Ordinal);
        return text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(f => f + "\n\n");
    }
}
