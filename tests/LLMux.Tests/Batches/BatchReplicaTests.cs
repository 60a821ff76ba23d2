using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Governance.Storage;
using LLMux.Governance.Storage.Postgres;
using LLMux.Governance.Storage.Sqlite;
using LLMux.Tests.Governance.Shared;
using LLMux.Tests.Infrastructure;
using Npgsql;
using OpenAI;
using OpenAI.Files;

#pragma warning disable OPENAI001 // the SDK marks its Batch client as evaluation-only

namespace LLMux.Tests.Batches;

/// <summary>
/// Batches shared by replicas on one PostgreSQL (started by .ci/services.sh) and one storage directory: any replica
/// answers for any batch; exactly one runs it; when the runner stops or is cut off from the store, another takes it
/// over, and no line is sent upstream twice (counted at the emulator). The store's lease itself on both SQLite and PostgreSQL.
/// </summary>
public sealed class BatchReplicaTests : IAsyncLifetime
{
    private string _storage = null!;

    public Task InitializeAsync()
    {
        _storage = Path.Combine(Path.GetTempPath(), "llmux-batch-replicas-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_storage);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        try { Directory.Delete(_storage, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    private string Yaml(string databaseUrl, string upstream) => $"""
        router_settings:
          num_retries: 0
        model_list:
          - model_name: gpt-batch
            litellm_params:
              model: openai/gpt-4o-mini
              api_base: {upstream}
              api_key: sk-upstream
        general_settings:
          storage_path: {_storage}
          database_url: {databaseUrl}
          batch_parallelism: 2
          batch_lease_seconds: 3
        """;

    private static string Url(TestDatabase db, int port)
    {
        var b = new NpgsqlConnectionStringBuilder(db.ConnectionString);
        return $"postgresql://{b.Username}@127.0.0.1:{port}/{db.Name}";
    }

    private static string Lines(int count) => string.Concat(Enumerable.Range(0, count).Select(static i =>
        $$$"""{"custom_id":"req-{{{i}}}","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-batch","messages":[{"role":"user","content":"q {{{i}}}"}],"max_tokens":5}}""" + "\n"));

    private static async Task<string> CreateAsync(GatewayHost host, int lines)
    {
        var client = new OpenAIClient(new ApiKeyCredential("sk-any"), new OpenAIClientOptions { Endpoint = new Uri(host.Root, "/v1"), RetryPolicy = new ClientRetryPolicy(0) });
        var uploaded = await client.GetOpenAIFileClient().UploadFileAsync(BinaryData.FromString(Lines(lines)), "in.jsonl", FileUploadPurpose.Batch);
        var op = await client.GetBatchClient().CreateBatchAsync(BinaryContent.Create(BinaryData.FromString(
            $$"""{"input_file_id":"{{uploaded.Value.Id}}","endpoint":"/v1/chat/completions","completion_window":"24h"}""")), waitUntilCompleted: false);
        return JsonDocument.Parse(op.GetRawResponse().Content.ToString()).RootElement.GetProperty("id").GetString()!;
    }

    private static async Task<JsonElement> GetAsync(GatewayHost host, string id)
    {
        using var response = await host.Http.GetAsync("/v1/batches/" + id);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    private static async Task<JsonElement> UntilAsync(GatewayHost host, string id, Func<JsonElement, bool> condition, string what, int seconds = 60)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var batch = await GetAsync(host, id);
            if (condition(batch)) return batch;
            Assert.True(DateTime.UtcNow < until, $"{what}: {batch}");
            await Task.Delay(50);
        }
    }

    private static long Completed(JsonElement b) => b.GetProperty("request_counts").GetProperty("completed").GetInt64();

    private static async Task AssertEachLineOnceAsync(GatewayHost host, JsonElement done, int count)
    {
        var output = await host.Http.GetStringAsync($"/v1/files/{done.GetProperty("output_file_id").GetString()}/content");
        var ids = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(static l => JsonDocument.Parse(l).RootElement.GetProperty("custom_id").GetString()).ToList();
        Assert.Equal(count, ids.Count);
        Assert.Equal(count, ids.Distinct().Count());
    }

    [SkippableFact]
    public async Task Any_replica_answers_for_a_batch_and_another_takes_it_over_when_its_runner_stops()
    {
        await using var db = await TestServices.NewDatabaseAsync();
        await using var upstream = await OpenAIEmulator.StartNewAsync();
        upstream.Default = new OpenAIScript { HeaderDelay = TimeSpan.FromMilliseconds(100) };
        var port = new NpgsqlConnectionStringBuilder(db.ConnectionString).Port;
        var yaml = Yaml(Url(db, port), upstream.ApiBase.ToString());
        var a = await GatewayHost.StartAsync(yaml);
        await using var b = await GatewayHost.StartAsync(yaml);
        string id;
        try
        {
            id = await CreateAsync(a, 60);
            // Both replicas answer, from the shared store; one runs it.
            await UntilAsync(b, id, static j => Completed(j) >= 4, "no progress seen from the other replica");
            var list = JsonDocument.Parse(await b.Http.GetStringAsync("/v1/batches")).RootElement;
            Assert.Equal(id, list.GetProperty("data")[0].GetProperty("id").GetString());
        }
        finally
        {
            // The runner stops (which of the two took it does not matter: a stop hands it over).
            await a.DisposeAsync();
        }
        await using var c = await GatewayHost.StartAsync(yaml);
        var done = await UntilAsync(c, id, static j => j.GetProperty("status").GetString() is "completed" or "failed", "the batch was not taken over");
        Assert.Equal("completed", done.GetProperty("status").GetString());
        Assert.Equal(60, Completed(done));
        Assert.Equal(60, upstream.Requests.Count(static r => r.Path.EndsWith("/chat/completions", StringComparison.Ordinal)));
        await AssertEachLineOnceAsync(b, done, 60);
    }

    [SkippableFact]
    public async Task A_runner_cut_off_from_the_store_stops_and_another_replica_takes_the_batch_over_once_its_lease_lapses()
    {
        await using var db = await TestServices.NewDatabaseAsync();
        await using var upstream = await OpenAIEmulator.StartNewAsync();
        upstream.Default = new OpenAIScript { HeaderDelay = TimeSpan.FromMilliseconds(100) };
        var pg = new NpgsqlConnectionStringBuilder(db.ConnectionString);
        await using var gate = new TcpGate(pg.Host!, pg.Port);
        // The runner reaches PostgreSQL through the gate; the survivor directly.
        await using var runner = await GatewayHost.StartAsync(Yaml(Url(db, gate.Port), upstream.ApiBase.ToString()));
        var id = await CreateAsync(runner, 80);
        await UntilAsync(runner, id, static j => Completed(j) >= 6, "the runner made no progress");
        await using var survivor = await GatewayHost.StartAsync(Yaml(Url(db, pg.Port), upstream.ApiBase.ToString()));
        gate.Close();
        var done = await UntilAsync(survivor, id, static j => j.GetProperty("status").GetString() is "completed" or "failed", "the survivor did not take the batch over");
        Assert.Equal("completed", done.GetProperty("status").GetString());
        Assert.Equal(80, Completed(done));
        // The runner stopped sending before its lease lapsed; the survivor resumed after it: each line went upstream once.
        Assert.Equal(80, upstream.Requests.Count(static r => r.Path.EndsWith("/chat/completions", StringComparison.Ordinal)));
        await AssertEachLineOnceAsync(survivor, done, 80);
    }

    private static BatchRow Row(string id) => new() { Id = id, Owner = "key-a", TeamId = "team-1", CreatedAt = 1_700_000_000, Status = "validating", State = "{}" };

    private static async Task LeaseRulesAsync(IBatchStore store)
    {
        await store.InsertAsync(Row("batch_lease1"));
        Assert.Equal(["batch_lease1"], await store.RunnableAsync(1_000, 10));
        Assert.True(await store.TryLeaseAsync("batch_lease1", "r1", 1_000, 5_000));
        // Held: not runnable, not leasable by another replica, renewable by its holder.
        Assert.Empty(await store.RunnableAsync(2_000, 10));
        Assert.False(await store.TryLeaseAsync("batch_lease1", "r2", 2_000, 6_000));
        Assert.True(await store.TryLeaseAsync("batch_lease1", "r1", 2_000, 6_000));
        Assert.False((await store.SaveAsync("batch_lease1", "r2", "in_progress", "{\"x\":2}")).Saved);
        Assert.Equal((true, (long?)null), await store.SaveAsync("batch_lease1", "r1", "in_progress", "{\"x\":1}"));
        // A cancel from any replica reaches the holder at its next save.
        Assert.True(await store.RequestCancelAsync("batch_lease1", 1_700_000_100));
        Assert.Equal((true, (long?)1_700_000_100), await store.SaveAsync("batch_lease1", "r1", "cancelling", "{\"x\":1}"));
        // Lapsed: another replica takes it, and the old holder can no longer write.
        Assert.Equal(["batch_lease1"], await store.RunnableAsync(6_001, 10));
        Assert.True(await store.TryLeaseAsync("batch_lease1", "r2", 6_001, 9_000));
        Assert.False((await store.SaveAsync("batch_lease1", "r1", "in_progress", "{}")).Saved);
        Assert.True((await store.SaveAsync("batch_lease1", "r2", "cancelled", "{\"done\":true}")).Saved);
        // Ended: no lease, no cancel, not runnable.
        Assert.False(await store.TryLeaseAsync("batch_lease1", "r2", 7_000, 9_000));
        Assert.False(await store.RequestCancelAsync("batch_lease1", 1));
        Assert.Empty(await store.RunnableAsync(100_000, 10));
        var row = await store.FindAsync("batch_lease1");
        Assert.Equal("cancelled", row!.Status);
        Assert.Equal("{\"done\":true}", row.State);
        // Ownership: by key or by team; all for the admin.
        await store.InsertAsync(Row("batch_lease2") with { Owner = "key-b", TeamId = null, CreatedAt = 1_700_000_001 });
        Assert.Equal(["batch_lease1"], (await store.ListAsync("key-a", null)).Select(static r => r.Id));
        Assert.Equal(["batch_lease1"], (await store.ListAsync("key-c", "team-1")).Select(static r => r.Id));
        Assert.Equal(["batch_lease2", "batch_lease1"], (await store.ListAsync(null, null)).Select(static r => r.Id));
    }

    [Fact]
    public async Task The_SQLite_store_leases_a_batch_to_one_replica_at_a_time()
    {
        var store = new SqliteBatchStore(Path.Combine(_storage, "lease.db"));
        await store.MigrateAsync();
        await LeaseRulesAsync(store);
    }

    [SkippableFact]
    public async Task The_PostgreSQL_store_leases_a_batch_to_one_replica_at_a_time()
    {
        await using var db = await TestServices.NewDatabaseAsync();
        await using var store = new PostgresBatchStore(db.ConnectionString);
        await store.MigrateAsync();
        await LeaseRulesAsync(store);
    }
}
