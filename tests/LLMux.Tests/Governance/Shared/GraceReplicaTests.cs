using System.Diagnostics;
using System.Net;
using LLMux.Governance.Keys;

namespace LLMux.Tests.Governance.Shared;

/// <summary><c>grace_period</c> on <c>/key/regenerate</c> across replicas sharing PostgreSQL and Redis.</summary>
public sealed class GraceReplicaTests
{
    [SkippableFact]
    public async Task A_regeneration_with_grace_on_one_replica_applies_on_the_others_within_a_second_and_deleting_the_new_key_ends_it()
    {
        await using var cluster = await ReplicaCluster.StartAsync(count: 3);
        var old = await cluster.NewKeyAsync("{}");
        // Replica 1 has the old key's grant in its cache (TTL 10 s), and its row written.
        using (var r = await ReplicaCluster.ChatAsync(cluster.Replicas[1], old)) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        await cluster.Governance(1).Writer.FlushAsync();

        var fresh = (await cluster.AdminAsync(0, "/key/regenerate", $$"""{"key":"{{old}}","grace_period":"24h"}""")).GetProperty("key").GetString()!;
        var clock = Stopwatch.StartNew();
        while (cluster.Governance(1).Cache.TryGet(VirtualKeys.Hash(old), out _) && clock.Elapsed < TimeSpan.FromSeconds(5)) await Task.Delay(10);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"replica 1 kept the old key's grant for {clock.ElapsedMilliseconds} ms");

        // The old key works on every replica, as the new key: its spend rows are the new key's.
        foreach (var i in new[] { 1, 2 })
            using (var r = await ReplicaCluster.ChatAsync(cluster.Replicas[i], old)) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        for (var i = 0; i < 3; i++) await cluster.Governance(i).Writer.FlushAsync();
        Assert.Equal(3, await cluster.SpendRowsAsync(fresh));
        Assert.Equal(0, await cluster.SpendRowsAsync(old));

        // Deleting the new key on replica 0 ends the grace on the others (whose caches lead the old key to it).
        await cluster.AdminAsync(0, "/key/delete", $$"""{"keys":["{{fresh}}"]}""");
        clock.Restart();
        foreach (var replica in cluster.Replicas.Skip(1))
        {
            while (true)
            {
                using var r = await ReplicaCluster.ChatAsync(replica, old);
                if (r.StatusCode == HttpStatusCode.Unauthorized) break;
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"replica still answers {(int)r.StatusCode} for the old key of a deleted key after {clock.ElapsedMilliseconds} ms");
                await Task.Delay(20);
            }
        }
    }
}
