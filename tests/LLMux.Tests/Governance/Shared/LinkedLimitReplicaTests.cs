using System.Diagnostics;
using System.Net;
using System.Text;
using LLMux.Tests.Infrastructure;

namespace LLMux.Tests.Governance.Shared;

/// <summary>End users' and per-model key limits from the budget table, across three replicas sharing PostgreSQL and Redis.</summary>
public sealed class LinkedLimitReplicaTests
{
    private static async Task<HttpResponseMessage> ChatAsync(GatewayHost replica, string key, string? user)
    {
        var field = user is null ? "" : $$""","user":"{{user}}" """;
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent($$"""{"model":"gpt-test"{{field}},"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        return await replica.Http.SendAsync(request);
    }

    [SkippableFact]
    public async Task An_end_users_rpm_limit_from_its_budget_holds_across_replicas_and_keys()
    {
        await using var cluster = await ReplicaCluster.StartAsync();
        await cluster.AdminAsync(0, "/budget/new", """{"budget_id":"five","rpm_limit":5}""");
        await cluster.AdminAsync(1, "/customer/new", """{"user_id":"acme","budget_id":"five"}""");
        var keys = new[] { await cluster.NewKeyAsync("{}"), await cluster.NewKeyAsync("{}") };
        int ok = 0, limited = 0;
        for (var i = 0; i < 15; i++)
        {
            using var r = await ChatAsync(cluster.Next(), keys[i % 2], "acme");
            if (r.StatusCode == HttpStatusCode.OK) ok++;
            else if ((int)r.StatusCode == 429) { limited++; Assert.Contains("end_user: acme", await r.Content.ReadAsStringAsync()); }
        }
        Assert.Equal(5, ok);
        Assert.Equal(10, limited);
        Assert.Equal(5, cluster.Upstream.Requests.Count);
        Assert.All(Enumerable.Range(0, 3), i => Assert.Equal(0, cluster.Governance(i).Shared!.FallbackCount));
    }

    [SkippableFact]
    public async Task A_keys_per_model_rpm_limit_holds_across_replicas()
    {
        await using var cluster = await ReplicaCluster.StartAsync();
        var key = await cluster.NewKeyAsync("""{"model_rpm_limit":{"gpt-test":4}}""");
        var ok = 0;
        for (var i = 0; i < 12; i++)
        {
            using var r = await ChatAsync(cluster.Next(), key, null);
            if (r.StatusCode == HttpStatusCode.OK) ok++;
            else Assert.Equal(429, (int)r.StatusCode);
        }
        Assert.Equal(4, ok);
    }

    [SkippableFact]
    public async Task A_budget_changed_on_one_replica_holds_on_the_others_within_a_second()
    {
        await using var cluster = await ReplicaCluster.StartAsync();
        await cluster.AdminAsync(0, "/budget/new", """{"budget_id":"zero","max_budget":0}""");
        await cluster.AdminAsync(0, "/customer/new", """{"user_id":"acme","budget_id":"zero"}""");
        var key = await cluster.NewKeyAsync("{}");
        // Every replica has the budget cached (TTL 10 s) and refuses the end user.
        foreach (var replica in cluster.Replicas)
            using (var r = await ChatAsync(replica, key, "acme")) Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        await cluster.AdminAsync(0, "/budget/update", """{"budget_id":"zero","max_budget":1}""");
        var clock = Stopwatch.StartNew();
        foreach (var replica in cluster.Replicas.Skip(1))
        {
            while (true)
            {
                using var r = await ChatAsync(replica, key, "acme");
                if (r.StatusCode == HttpStatusCode.OK) break;
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"replica still answers {(int)r.StatusCode} after the budget was raised, {clock.ElapsedMilliseconds} ms on");
                await Task.Delay(20);
            }
        }
    }
}
