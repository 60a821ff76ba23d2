using System.Diagnostics;
using LLMux.Governance.Shared;
using LLMux.Pipeline.Context;
using LLMux.Providers.Anthropic;
using LLMux.Stages.Routing;
using Microsoft.Extensions.Time.Testing;

namespace LLMux.Tests.Governance.Shared;

/// <summary>Router cooldowns shared through Redis (started by .ci/services.sh), and what a replica keeps without it.</summary>
public sealed class SharedCooldownTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static Deployment Deployment(string id) => new()
    {
        ModelName = "claude", Model = "anthropic/claude-test", ProviderName = "anthropic", UpstreamModel = "claude-test",
        Provider = new AnthropicProvider(), Id = id, ApiBase = "http://127.0.0.1:1", ApiKey = new Secret("sk-ant-test"),
    };

    [Fact]
    public void A_cooldown_from_another_replica_applies_here_never_shortens_one_and_waits_for_an_unseen_deployment()
    {
        var time = new FakeTimeProvider(Now);
        var router = new RouterState(time);
        var shared = new List<(string, TimeSpan)>();
        router.CooledDown = (id, d) => shared.Add((id, d));
        var seen = router.For(Deployment("d1"));

        router.CoolDown(seen, time.GetUtcNow(), TimeSpan.FromSeconds(60));
        Assert.Equal([("d1", TimeSpan.FromSeconds(60))], shared);
        router.CoolDownFromElsewhere("d1", TimeSpan.FromSeconds(5));
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(seen.IsCoolingDown(time.GetUtcNow()));

        // Told before this replica ever routed to it: applied when it first does.
        router.CoolDownFromElsewhere("d2", TimeSpan.FromSeconds(10));
        var later = router.For(Deployment("d2"));
        Assert.True(later.IsCoolingDown(time.GetUtcNow()));
        time.Advance(TimeSpan.FromSeconds(11));
        Assert.False(later.IsCoolingDown(time.GetUtcNow()));
        // Applied from elsewhere: not passed on again.
        Assert.Single(shared);
    }

    [SkippableFact]
    public async Task A_deployment_cooled_down_on_one_replica_is_cooled_down_on_the_others_and_on_one_that_starts_later()
    {
        var redisUrl = new Uri(TestServices.RedisUrl);
        var ns = "cool-" + Guid.NewGuid().ToString("N")[..12];
        var endpoint = $"{redisUrl.Host}:{redisUrl.Port}";
        await using var a = await RedisLink.ConnectAsync(endpoint, ns);
        await using var b = await RedisLink.ConnectAsync(endpoint, ns);
        var ta = new FakeTimeProvider(Now);
        var tb = new FakeTimeProvider(Now);
        var routerA = new RouterState(ta);
        var routerB = new RouterState(tb);
        await new RedisCooldowns(a, routerA).StartAsync(["d1"]);
        await new RedisCooldowns(b, routerB).StartAsync(["d1"]);
        var onB = routerB.For(Deployment("d1"));
        Assert.False(onB.IsCoolingDown(tb.GetUtcNow()));

        routerA.CoolDown(routerA.For(Deployment("d1")), ta.GetUtcNow(), TimeSpan.FromSeconds(60));
        var clock = Stopwatch.StartNew();
        while (!onB.IsCoolingDown(tb.GetUtcNow()) && clock.Elapsed < TimeSpan.FromSeconds(5)) await Task.Delay(10);
        Assert.True(onB.IsCoolingDown(tb.GetUtcNow()), "replica b did not see a's cooldown");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1));
        // It ends when a's does (the time left, not a new full cooldown).
        tb.Advance(TimeSpan.FromSeconds(61));
        Assert.False(onB.IsCoolingDown(tb.GetUtcNow()));

        // A replica starting now reads the cooldown still running in Redis.
        await using var c = await RedisLink.ConnectAsync(endpoint, ns);
        var tc = new FakeTimeProvider(Now);
        var routerC = new RouterState(tc);
        await new RedisCooldowns(c, routerC).StartAsync(["d1", "d-other"]);
        Assert.True(routerC.For(Deployment("d1")).IsCoolingDown(tc.GetUtcNow()));
        Assert.False(routerC.For(Deployment("d-other")).IsCoolingDown(tc.GetUtcNow()));
    }

    [Fact]
    public async Task Without_Redis_a_replica_keeps_its_own_cooldowns()
    {
        // Nothing listens on port 1: the link is away from the start.
        await using var away = await RedisLink.ConnectAsync("127.0.0.1:1,connectTimeout=200", "cool-away");
        var time = new FakeTimeProvider(Now);
        var router = new RouterState(time);
        await new RedisCooldowns(away, router).StartAsync(["d1"]);
        var s = router.For(Deployment("d1"));
        router.CoolDown(s, time.GetUtcNow(), TimeSpan.FromSeconds(30));
        Assert.True(s.IsCoolingDown(time.GetUtcNow()));
        Assert.True(away.FallbackCount > 0);
    }
}
