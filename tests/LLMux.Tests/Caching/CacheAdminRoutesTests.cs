using System.Text.Json;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;
using StackExchange.Redis;

namespace LLMux.Tests.Caching;

/// <summary>LiteLLM's <c>/cache/ping</c>, <c>/cache/delete</c>, <c>/cache/flushall</c>: master key only, on the memory store and on a Redis of the test's own.</summary>
public sealed class CacheAdminRoutesTests
{
    private const string Chat = """{"model":"gpt-test","messages":[{"role":"user","content":"admin me"}]}""";
    private const string Other = """{"model":"gpt-test","messages":[{"role":"user","content":"and me"}]}""";

    private static async Task<(int Status, JsonElement Body)> CallAsync(CacheGateway g, HttpMethod method, string path, string? json, string key)
    {
        using var r = await g.SendAsync(method, path, json, key);
        var text = await r.Content.ReadAsStringAsync();
        return ((int)r.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>Fills two entries, deletes one by its key, flushes the rest; each step checked by the next request's cache header.</summary>
    private static async Task DeleteAndFlushAsync(CacheGateway g, string type)
    {
        var user = await g.NewKeyAsync();
        var (status, ping) = await CallAsync(g, HttpMethod.Get, "/cache/ping", null, CacheGateway.Master);
        Assert.Equal(200, status);
        Assert.Equal("healthy", ping.GetProperty("status").GetString());
        Assert.Equal(type, ping.GetProperty("cache_type").GetString());

        var first = await g.PostAsync("/v1/chat/completions", Chat, user);
        Assert.Equal("miss", first.Cache);
        Assert.Equal("miss", (await g.PostAsync("/v1/chat/completions", Other, user)).Cache);
        Assert.Equal("hit", (await g.PostAsync("/v1/chat/completions", Chat, user)).Cache);

        var (deleteStatus, deleted) = await CallAsync(g, HttpMethod.Post, "/cache/delete", JsonSerializer.Serialize(new { keys = new[] { first.Key } }), CacheGateway.Master);
        Assert.Equal(200, deleteStatus);
        Assert.Equal("success", deleted.GetProperty("status").GetString());
        Assert.Equal(1, deleted.GetProperty("deleted").GetInt64());
        Assert.Equal("miss", (await g.PostAsync("/v1/chat/completions", Chat, user)).Cache);
        Assert.Equal("hit", (await g.PostAsync("/v1/chat/completions", Other, user)).Cache);

        var (flushStatus, flushed) = await CallAsync(g, HttpMethod.Post, "/cache/flushall", null, CacheGateway.Master);
        Assert.Equal(200, flushStatus);
        Assert.Equal("success", flushed.GetProperty("status").GetString());
        Assert.Equal("miss", (await g.PostAsync("/v1/chat/completions", Chat, user)).Cache);
        Assert.Equal("miss", (await g.PostAsync("/v1/chat/completions", Other, user)).Cache);
    }

    [Fact]
    public async Task On_the_memory_store_delete_and_flushall_remove_entries_and_only_the_master_key_may_call_them()
    {
        await using var g = await CacheGateway.StartAsync();
        await DeleteAndFlushAsync(g, "local");

        var user = await g.NewKeyAsync();
        foreach (var (method, path) in new[] { (HttpMethod.Get, "/cache/ping"), (HttpMethod.Post, "/cache/delete"), (HttpMethod.Post, "/cache/flushall") })
        {
            var (status, error) = await CallAsync(g, method, path, method == HttpMethod.Post ? """{"keys":[]}""" : null, user);
            Assert.True(status is 401 or 403, $"{path} answered {status} to a virtual key");
            Assert.True(error.TryGetProperty("error", out _));
        }
        Assert.Equal(401, (await CallAsync(g, HttpMethod.Post, "/cache/flushall", null, "sk-wrong")).Status);

        var (badStatus, bad) = await CallAsync(g, HttpMethod.Post, "/cache/delete", """{"key":"x"}""", CacheGateway.Master);
        Assert.Equal(400, badStatus);
        Assert.Contains("keys", bad.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(405, (await CallAsync(g, HttpMethod.Get, "/cache/delete", null, CacheGateway.Master)).Status);
    }

    [Fact]
    public async Task Without_a_cache_the_routes_answer_503()
    {
        await using var upstream = await OpenAIEmulator.StartNewAsync();
        await using var gw = await GatewayHost.StartAsync($"""
            model_list:
              - model_name: gpt-test
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: {upstream.ApiBase}
                  api_key: sk-x
            """);
        using var r = await gw.Http.GetAsync("/cache/ping");
        Assert.Equal(503, (int)r.StatusCode);
        Assert.Contains("Cache not initialized", await r.Content.ReadAsStringAsync());
    }

    [SkippableFact]
    public async Task On_redis_flushall_removes_this_caches_keys_only_and_ping_reports_an_outage()
    {
        var binary = RedisServerProcess.Find();
        Skip.If(binary is null, "redis-server is not installed (CI installs it and fails this test without it)");
        using var redis = await RedisServerProcess.StartAsync(binary);
        await using var g = await CacheGateway.StartAsync($"""
                type: redis
                host: 127.0.0.1
                port: {redis.Port}
                namespace: admin-test
            """);
        using (var direct = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{redis.Port}"))
        {
            // Someone else's key in the same Redis (router state, another app): flushall must leave it.
            await direct.GetDatabase().StringSetAsync("router:state", "keep");
            await DeleteAndFlushAsync(g, "redis");
            Assert.Equal("keep", (string?)await direct.GetDatabase().StringGetAsync("router:state"));
        }

        redis.Kill();
        var (status, error) = await CallAsync(g, HttpMethod.Get, "/cache/ping", null, CacheGateway.Master);
        Assert.Equal(503, status);
        Assert.Contains("redis", error.GetProperty("error").GetProperty("message").GetString());
    }
}
