using System.Text;
using System.Text.Json;

namespace LLMux.Tests.Caching;

/// <summary>Redis killed mid-run, on a server of the test's own: requests are still answered (misses, a warning), and hits resume once it is back.</summary>
public sealed class RedisOutageTests
{
    private const string Ask = """{"model":"gpt-test","messages":[{"role":"user","content":"outage?"}]}""";
    private const string AskStream = """{"model":"gpt-test","messages":[{"role":"user","content":"outage, streamed?"}],"stream":true}""";

    private static async Task<(int Status, string Body, string? Cache, string? Warnings)> PostAsync(CacheGateway g, string body, string key)
    {
        using var r = await g.SendAsync(HttpMethod.Post, "/v1/chat/completions", body, key);
        var text = await r.Content.ReadAsStringAsync();
        static string? H(HttpResponseMessage m, string n) => m.Headers.TryGetValues(n, out var v) ? string.Join(",", v) : null;
        return ((int)r.StatusCode, text, H(r, "x-llmux-cache"), H(r, "x-llmux-warnings"));
    }

    [SkippableFact]
    public async Task Redis_killed_mid_run_degrades_to_misses_with_a_warning_and_hits_resume_after_restart()
    {
        var binary = RedisServerProcess.Find();
        Skip.If(binary is null, "redis-server is not installed (CI installs it and fails this test without it)");
        using var redis = await RedisServerProcess.StartAsync(binary);
        await using var g = await CacheGateway.StartAsync($"""
                type: redis
                host: 127.0.0.1
                port: {redis.Port}
                namespace: outage
            """);
        var key = await g.NewKeyAsync();

        // Up: filled, then served from Redis (JSON and a stream).
        Assert.Equal("miss", (await PostAsync(g, Ask, key)).Cache);
        Assert.Equal("hit", (await PostAsync(g, Ask, key)).Cache);
        Assert.Equal("miss", (await PostAsync(g, AskStream, key)).Cache);
        Assert.Equal("hit", (await PostAsync(g, AskStream, key)).Cache);
        Assert.Equal(2, g.Upstream.Requests.Count);

        // Down: every request still answered by the upstream, each a miss that says the cache was skipped.
        redis.Kill();
        for (var i = 0; i < 3; i++)
        {
            var answer = await PostAsync(g, Ask, key);
            Assert.Equal(200, answer.Status);
            Assert.Equal("miss", answer.Cache);
            Assert.Equal("chat.completion", JsonDocument.Parse(answer.Body).RootElement.GetProperty("object").GetString());
            Assert.Contains("response cache unavailable", answer.Warnings ?? "", StringComparison.Ordinal);
        }
        var streamed = await PostAsync(g, AskStream, key);
        Assert.Equal(200, streamed.Status);
        Assert.Equal("miss", streamed.Cache);
        Assert.EndsWith("data: [DONE]\n\n", streamed.Body, StringComparison.Ordinal);
        Assert.Equal(6, g.Upstream.Requests.Count);

        // Back (empty: no persistence): once reconnected, a miss is stored and the repeat is a hit again.
        await redis.StartAgainAsync();
        var resumed = false;
        for (var i = 0; i < 120 && !resumed; i++)
        {
            var answer = await PostAsync(g, Ask, key);
            Assert.Equal(200, answer.Status);
            if (answer.Cache == "hit") resumed = true;
            else await Task.Delay(250);
        }
        Assert.True(resumed, "no hit within 30 s of Redis coming back");
        var hit = await PostAsync(g, Ask, key);
        Assert.Equal("hit", hit.Cache);
        Assert.Null(hit.Warnings);
    }
}
