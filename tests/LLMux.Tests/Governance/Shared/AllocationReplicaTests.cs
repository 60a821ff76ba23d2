using System.Text;
using System.Text.Json;

namespace LLMux.Tests.Governance.Shared;

/// <summary>Guaranteed throughput across replicas: the check of a key against its team and the key's write are one step on the shared database.</summary>
public sealed class AllocationReplicaTests
{
    [SkippableFact]
    public async Task Guaranteed_keys_written_at_once_on_three_replicas_cannot_overallocate_the_team()
    {
        await using var cluster = await ReplicaCluster.StartAsync();
        await cluster.AdminAsync(0, "/team/new", """{"team_id":"race","tpm_limit":1000}""");
        // Twelve admins at once, spread over the replicas, each asking for 300 of the team's 1000 tokens: three fit.
        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(async i =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/key/generate")
            {
                Content = new StringContent("""{"team_id":"race","tpm_limit":300,"tpm_limit_type":"guaranteed_throughput"}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + ReplicaCluster.Master);
            using var response = await cluster.Replicas[i % 3].Http.SendAsync(request);
            return ((int)response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
        }));
        Assert.Equal(3, answers.Count(a => a.Item1 == 200));
        Assert.All(answers.Where(a => a.Item1 != 200), a =>
        {
            Assert.Equal(400, a.Item1);
            Assert.Equal("Allocated TPM limit=900 + Key TPM limit=300 is greater than team TPM limit=1000", a.Item2.GetProperty("error").GetProperty("message").GetString());
        });
        Assert.Equal(3, (await cluster.GetAsync(1, "/key/list?team_id=race")).GetProperty("total_count").GetInt32());
    }
}
