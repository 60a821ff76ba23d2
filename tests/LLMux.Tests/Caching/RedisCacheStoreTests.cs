using System.Text.Json;
using LLMux.Host;
using LLMux.Host.Caching;
using LLMux.Stages.Caching;
using LLMux.Tests.Infrastructure;
using StackExchange.Redis;

namespace LLMux.Tests.Caching;

/// <summary>
/// The Redis store against the real server CI starts (<c>REDIS_URL</c>; these tests are skipped only when it is unset),
/// and a gateway whose Redis is unreachable, which must answer as if there were no cache.
/// </summary>
public sealed class RedisCacheStoreTests
{
    private static string? RedisUrl => Environment.GetEnvironmentVariable("REDIS_URL") is { Length: > 0 } u ? u : null;

    [SkippableFact]
    public async Task Entries_round_trip_through_redis_with_a_ttl_set_on_the_key()
    {
        Skip.If(RedisUrl is null, "REDIS_URL is not set (CI starts Redis and sets it)");
        var settings = new CacheSettings { Enabled = true, Type = "redis", RedisUrl = RedisUrl };
        using var store = RedisCacheStore.Connect(settings);
        var key = "llmux-test:" + Guid.NewGuid().ToString("N");
        var at = new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
        await store.SetAsync(key, new CacheEntry("data: {\"x\":1}\n\n"u8.ToArray(), at, true, 0.25m, "m"), TimeSpan.FromSeconds(90), default);
        var back = await store.GetAsync(key, default);
        Assert.NotNull(back);
        Assert.Equal("data: {\"x\":1}\n\n"u8.ToArray(), back.Payload);
        Assert.True(back.Stream);
        Assert.Equal(0.25m, back.Cost);
        Assert.Null(await store.GetAsync(key + ":other", default));

        using var redis = await ConnectionMultiplexer.ConnectAsync(RedisCacheStore.Options(settings));
        var ttl = await redis.GetDatabase().KeyTimeToLiveAsync(key);
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(90)); // Redis expires it
        await redis.GetDatabase().KeyDeleteAsync(key);
    }

    [Fact]
    public async Task The_cache_shares_the_hosts_redis_connection_when_it_reaches_the_same_server_and_database()
    {
        // Nothing listens on the port: neither connection waits for it (both reconnect on their own).
        var port = FreePort();
        await using var link = await LLMux.Governance.Shared.RedisLink.ConnectAsync($"127.0.0.1:{port}", "ns");
        using (var same = RedisCacheStore.Connect(new CacheSettings { Enabled = true, Type = "redis", RedisHost = "127.0.0.1", RedisPort = port }, link))
            Assert.Same(link.Multiplexer, same.Connection);
        using (var byUrl = RedisCacheStore.Connect(new CacheSettings { Enabled = true, Type = "redis", RedisUrl = $"redis://127.0.0.1:{port}" }, link))
            Assert.Same(link.Multiplexer, byUrl.Connection);
        // Another database, another password or another server: a connection of its own.
        using (var otherDb = RedisCacheStore.Connect(new CacheSettings { Enabled = true, Type = "redis", RedisUrl = $"redis://127.0.0.1:{port}/3" }, link))
            Assert.NotSame(link.Multiplexer, otherDb.Connection);
        using (var otherUser = RedisCacheStore.Connect(new CacheSettings { Enabled = true, Type = "redis", RedisHost = "127.0.0.1", RedisPort = port, RedisPassword = "x" }, link))
            Assert.NotSame(link.Multiplexer, otherUser.Connection);
        using (var otherServer = RedisCacheStore.Connect(new CacheSettings { Enabled = true, Type = "redis", RedisHost = "127.0.0.1", RedisPort = FreePort() }, link))
            Assert.NotSame(link.Multiplexer, otherServer.Connection);
    }

    [SkippableFact]
    public async Task A_shared_connection_outlives_the_cache_store_that_used_it()
    {
        Skip.If(RedisUrl is null, "REDIS_URL is not set (CI starts Redis and sets it)");
        var uri = new Uri(RedisUrl!);
        await using var link = await LLMux.Governance.Shared.RedisLink.ConnectAsync($"{uri.Host}:{uri.Port}", "ns");
        var store = RedisCacheStore.Connect(new CacheSettings { Enabled = true, Type = "redis", RedisUrl = RedisUrl }, link);
        Assert.Same(link.Multiplexer, store.Connection);
        store.Dispose();
        await link.Multiplexer.GetDatabase().PingAsync(); // throws on a disposed connection
        Assert.True(link.Multiplexer.IsConnected);
    }

    private static int FreePort()
    {
        using var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        return ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
    }

    [SkippableFact]
    public async Task A_gateway_on_redis_answers_repeats_from_it_per_tenant()
    {
        Skip.If(RedisUrl is null, "REDIS_URL is not set (CI starts Redis and sets it)");
        var ns = "llmux-test-" + Guid.NewGuid().ToString("N")[..8];
        await using var g = await CacheGateway.StartAsync($"""
                type: redis
                redis_url: os.environ/REDIS_URL
                namespace: {ns}
            """);
        var alice = await g.NewKeyAsync();
        var bob = await g.NewKeyAsync();
        const string body = """{"model":"gpt-test","messages":[{"role":"user","content":"redis?"}]}""";
        Assert.Equal("miss", (await g.PostAsync("/v1/chat/completions", body, alice)).Cache);
        var hit = await g.PostAsync("/v1/chat/completions", body, alice);
        Assert.Equal("hit", hit.Cache);
        Assert.StartsWith(ns + ":", hit.Key);
        Assert.Equal("miss", (await g.PostAsync("/v1/chat/completions", body, bob)).Cache);
        Assert.Equal(2, g.Upstream.Requests.Count);
    }

    [Fact]
    public async Task Unreachable_redis_degrades_to_no_cache_never_to_errors()
    {
        // Port 1 on the loopback: nothing listens there.
        await using var g = await CacheGateway.StartAsync("""
                type: redis
                host: 127.0.0.1
                port: 1
            """);
        var alice = await g.NewKeyAsync();
        const string body = """{"model":"gpt-test","messages":[{"role":"user","content":"still there?"}]}""";
        for (var i = 0; i < 2; i++)
        {
            var answer = await g.PostAsync("/v1/chat/completions", body, alice);
            Assert.Equal(200, answer.Status);
            Assert.Equal("miss", answer.Cache);
            Assert.Equal("chat.completion", JsonDocument.Parse(answer.Body).RootElement.GetProperty("object").GetString());
        }
        var streamed = await g.PostAsync("/v1/chat/completions", body[..^1] + ""","stream":true}""", alice);
        Assert.EndsWith("data: [DONE]\n\n", streamed.Body);
        Assert.Equal(3, g.Upstream.Requests.Count);
    }
}
