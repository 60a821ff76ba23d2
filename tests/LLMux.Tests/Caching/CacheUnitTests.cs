using System.Text.Json;
using LLMux.Host.Config;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Providers;
using LLMux.Stages.Caching;
using LLMux.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace LLMux.Tests.Caching;

/// <summary>The local store's bounds and clock, the entry format, the key's canonical form and scope, and the config.</summary>
public sealed class CacheUnitTests
{
    private static CacheEntry Entry(int bytes, DateTimeOffset at) => new(new byte[bytes], at, false, 0.5m, null);

    [Fact]
    public async Task Local_store_evicts_the_least_recently_used_past_its_entry_bound()
    {
        var time = new FakeTimeProvider();
        var store = new MemoryCacheStore(maxEntries: 2, maxBytes: 1 << 20, time);
        await store.SetAsync("a", Entry(10, time.GetUtcNow()), TimeSpan.FromMinutes(1), default);
        await store.SetAsync("b", Entry(10, time.GetUtcNow()), TimeSpan.FromMinutes(1), default);
        Assert.NotNull(await store.GetAsync("a", default)); // a is now the most recently used
        await store.SetAsync("c", Entry(10, time.GetUtcNow()), TimeSpan.FromMinutes(1), default);
        Assert.Null(await store.GetAsync("b", default));
        Assert.NotNull(await store.GetAsync("a", default));
        Assert.NotNull(await store.GetAsync("c", default));
    }

    [Fact]
    public async Task Local_store_is_bounded_by_bytes_and_expires_on_its_clock()
    {
        var time = new FakeTimeProvider();
        var store = new MemoryCacheStore(maxEntries: 100, maxBytes: 1000, time);
        await store.SetAsync("big", Entry(2000, time.GetUtcNow()), TimeSpan.FromMinutes(1), default);
        Assert.Null(await store.GetAsync("big", default)); // larger than the whole cache: not kept
        for (var i = 0; i < 5; i++) await store.SetAsync("k" + i, Entry(300, time.GetUtcNow()), TimeSpan.FromMinutes(1), default);
        Assert.True(store.Bytes <= 1000);
        Assert.Null(await store.GetAsync("k0", default));
        Assert.NotNull(await store.GetAsync("k4", default));
        time.Advance(TimeSpan.FromSeconds(61));
        Assert.Null(await store.GetAsync("k4", default));
        Assert.Equal(1, store.Count); // only k3 and k4 fitted; k4 was dropped on its expired read, k3 is counted until touched
    }

    [Fact]
    public void Entry_round_trips_through_its_byte_form()
    {
        var at = new DateTimeOffset(2026, 12, 1, 12, 0, 0, 123, TimeSpan.Zero);
        var entry = new CacheEntry("data: {}\n\n"u8.ToArray(), at, true, 0.000123m, "text-embedding-3-small");
        var back = CacheEntry.Deserialize(entry.Serialize())!;
        Assert.Equal(entry.Payload, back.Payload);
        Assert.Equal(at, back.StoredAt);
        Assert.True(back.Stream);
        Assert.Equal(0.000123m, back.Cost);
        Assert.Equal("text-embedding-3-small", back.Model);
        var costless = CacheEntry.Deserialize(new CacheEntry([1], at, false, null, null).Serialize())!;
        Assert.Null(costless.Cost);
        Assert.False(costless.Stream);
        Assert.Null(CacheEntry.Deserialize("not an entry"u8));
    }

    [Fact]
    public void Scope_is_the_team_then_the_key_and_shared_only_for_listed_groups()
    {
        var settings = new CacheSettings { Enabled = true, SharedModelGroups = new HashSet<string> { "public-embed" } };
        var alice = new Caller { KeyHash = "aaa" };
        var bob = new Caller { KeyHash = "bbb" };
        Assert.NotEqual(CacheKeys.Scope(alice, "gpt", settings), CacheKeys.Scope(bob, "gpt", settings));
        Assert.Equal(CacheKeys.Scope(alice with { TeamId = "t1" }, "gpt", settings), CacheKeys.Scope(bob with { TeamId = "t1" }, "gpt", settings));
        Assert.Equal(CacheKeys.Scope(alice, "public-embed", settings), CacheKeys.Scope(bob, "public-embed", settings));
    }

    [Fact]
    public void Digest_ignores_member_order_but_not_values_or_the_mode()
    {
        var context = new LlmContext { Mode = LlmMode.Chat, RequestedModel = "m" };
        byte[] D(string json) { using var d = JsonDocument.Parse(json); return CacheKeys.Digest(context, "key:x", d.RootElement); }
        Assert.Equal(D("""{"a":1,"b":{"y":[1,2],"x":"s"}}"""), D("""{"b":{"x":"s","y":[1,2]},"a":1}"""));
        Assert.NotEqual(D("""{"a":1}"""), D("""{"a":2}"""));
        Assert.NotEqual(D("""{"a":[1,2]}"""), D("""{"a":[2,1]}"""));
        Assert.NotEqual(D("""{"a":"1"}"""), D("""{"a":1}"""));
        Assert.Equal(D("""{"a":1}"""), D("""{"a":1,"metadata":{"trace":"t"},"cache":{"ttl":5}}"""));
        context.Mode = LlmMode.Responses;
        Assert.NotEqual(D("""{"a":1}"""), CacheKeys.Digest(new LlmContext { Mode = LlmMode.Chat, RequestedModel = "m" }, "key:x", JsonDocument.Parse("""{"a":1}""").RootElement));
    }

    [Fact]
    public void Config_reads_litellm_cache_params()
    {
        var config = new ConfigLoader(new ProviderCatalog()).Load(new StringReader("""
            model_list:
              - model_name: m
                litellm_params:
                  model: mock/m
            litellm_settings:
              cache: true
              cache_params:
                type: local
                ttl: 120
                namespace: prod
                supported_call_types: [acompletion, aembedding]
                max_size_in_memory: 50
                max_size_mb: 8
                shared_model_groups: [m]
            """), "test");
        var c = config.Settings.Cache;
        Assert.True(c.Enabled);
        Assert.Equal(TimeSpan.FromSeconds(120), c.Ttl);
        Assert.Equal("prod", c.Namespace);
        Assert.Equal(new HashSet<LlmMode> { LlmMode.Chat, LlmMode.Embeddings }, c.Modes);
        Assert.Equal(50, c.MaxEntries);
        Assert.Equal(8L * 1024 * 1024, c.MaxBytes);
        Assert.Contains("m", c.SharedModelGroups);

        var bad = Assert.Throws<ConfigException>(() => new ConfigLoader(new ProviderCatalog()).Load(new StringReader("""
            model_list:
              - model_name: m
                litellm_params:
                  model: mock/m
            litellm_settings:
              cache: true
              cache_params:
                type: s3
            """), "test"));
        Assert.Contains(bad.Errors, e => e.Contains("litellm_settings.cache_params.type"));
    }

    [Fact]
    public async Task Without_cache_config_there_is_no_cache_stage_and_no_cache_header()
    {
        await using var upstream = await LLMux.Emulators.OpenAIEmulator.StartNewAsync();
        await using var gateway = await GatewayHost.StartAsync($"""
            model_list:
              - model_name: gpt
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: {upstream.ApiBase}
            """);
        for (var i = 0; i < 2; i++)
        {
            using var response = await gateway.Http.PostAsync("/v1/chat/completions", new StringContent("""{"model":"gpt","messages":[{"role":"user","content":"hi"}]}""", System.Text.Encoding.UTF8, "application/json"));
            Assert.False(response.Headers.Contains("x-llmux-cache"));
        }
        Assert.Equal(2, upstream.Requests.Count);
    }
}
