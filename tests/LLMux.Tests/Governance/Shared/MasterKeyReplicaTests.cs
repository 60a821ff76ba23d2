using System.Diagnostics;
using System.Net;
using LLMux.Tests.Infrastructure;

namespace LLMux.Tests.Governance.Shared;

/// <summary>The master key rotated on one replica (<c>/key/regenerate</c> with <c>new_master_key</c>), across replicas sharing PostgreSQL and Redis.</summary>
public sealed class MasterKeyReplicaTests
{
    private static async Task<HttpStatusCode> ListAsync(GatewayHost replica, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/key/list");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        using var response = await replica.Http.SendAsync(request);
        return response.StatusCode;
    }

    [SkippableFact]
    public async Task The_old_master_key_is_refused_on_every_replica_within_a_second_and_by_a_replica_started_later()
    {
        await using var cluster = await ReplicaCluster.StartAsync(count: 3);
        const string rotated = "sk-rotated-across-replicas";
        foreach (var replica in cluster.Replicas) Assert.Equal(HttpStatusCode.OK, await ListAsync(replica, ReplicaCluster.Master));

        var answer = await cluster.AdminAsync(0, "/key/regenerate", $$"""{"key":"{{ReplicaCluster.Master}}","new_master_key":"{{rotated}}"}""");
        Assert.Equal(rotated, answer.GetProperty("key").GetString());
        var clock = Stopwatch.StartNew();
        foreach (var replica in cluster.Replicas)
        {
            while (await ListAsync(replica, ReplicaCluster.Master) != HttpStatusCode.Unauthorized)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"a replica still took the old master key {clock.ElapsedMilliseconds} ms after the rotation");
                await Task.Delay(10);
            }
            Assert.Equal(HttpStatusCode.OK, await ListAsync(replica, rotated));
        }

        // A replica started now, with the same config (the old key), follows the stored rotation.
        var late = await cluster.AddReplicaAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, await ListAsync(cluster.Replicas[late], ReplicaCluster.Master));
        Assert.Equal(HttpStatusCode.OK, await ListAsync(cluster.Replicas[late], rotated));
        using (var chat = await ReplicaCluster.ChatAsync(cluster.Replicas[late], rotated)) Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
    }
}
