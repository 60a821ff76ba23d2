using System.Text.Json;
using LLMux.Governance.Entities;
using LLMux.Governance.Storage.Sqlite;

namespace LLMux.Tests.Caching;

/// <summary>The spend log tells a cache hit from a call: <c>cache_hit</c> (LiteLLM's text form) and spend 0.</summary>
public sealed class CacheSpendLogTests : IAsyncLifetime
{
    private CacheGateway _g = null!;

    public async Task InitializeAsync() => _g = await CacheGateway.StartAsync();

    public async Task DisposeAsync() => await _g.DisposeAsync();

    private async Task<JsonElement[]> SpendLogsAsync(string key)
    {
        using var response = await _g.SendAsync(HttpMethod.Get, "/spend/logs?api_key=" + key, null, CacheGateway.Master);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        // Newest first; the rows of one test are told apart by their order of writing.
        return [.. JsonDocument.Parse(text).RootElement.EnumerateArray().Reverse()];
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_hit_is_logged_with_cache_hit_True_and_spend_0(bool stream)
    {
        var key = await _g.NewKeyAsync();
        var body = stream
            ? """{"model":"gpt-test","messages":[{"role":"user","content":"Count to three"}],"stream":true}"""
            : """{"model":"gpt-test","messages":[{"role":"user","content":"What is 2+2?"}]}""";
        Assert.Equal("miss", (await _g.PostAsync("/v1/chat/completions", body, key)).Cache);
        _g.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("hit", (await _g.PostAsync("/v1/chat/completions", body, key)).Cache);

        var rows = await SpendLogsAsync(key);
        Assert.Equal(2, rows.Length);
        Assert.Equal("False", rows[0].GetProperty("cache_hit").GetString());
        Assert.True(rows[0].GetProperty("spend").GetDecimal() > 0m);
        Assert.Equal("True", rows[1].GetProperty("cache_hit").GetString());
        Assert.Equal(0m, rows[1].GetProperty("spend").GetDecimal());
    }

    [Fact]
    public async Task A_bypass_is_logged_as_a_call()
    {
        var key = await _g.NewKeyAsync();
        const string body = """{"model":"gpt-test","messages":[{"role":"user","content":"bypass me"}]}""";
        await _g.PostAsync("/v1/chat/completions", body, key);
        _g.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("bypass", (await _g.PostAsync("/v1/chat/completions", body, key, cacheControl: "no-cache")).Cache);
        var rows = await SpendLogsAsync(key);
        Assert.Equal(2, rows.Length);
        Assert.All(rows, r => Assert.Equal("False", r.GetProperty("cache_hit").GetString()));
        Assert.All(rows, r => Assert.True(r.GetProperty("spend").GetDecimal() > 0m));
    }
}

/// <summary>Migration 3 adds <c>cache_hit</c> to a database written by an older LLMux, keeping its rows.</summary>
public sealed class CacheHitMigrationTests
{
    [Fact]
    public async Task A_version_2_database_gains_cache_hit_once_and_keeps_its_rows()
    {
        var path = Path.Combine(Path.GetTempPath(), "llmux-mig3-" + Guid.NewGuid().ToString("N") + ".db");
        try
        {
            using (var c = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=" + path))
            {
                c.Open();
                using var cmd = c.CreateCommand();
                cmd.CommandText = """CREATE TABLE "llmux_schema_migrations" (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);""";
                cmd.ExecuteNonQuery();
                foreach (var (version, name, sql) in SqliteMigrations.Steps)
                {
                    if (version > 2) break;
                    cmd.CommandText = sql;
                    cmd.ExecuteNonQuery();
                    cmd.CommandText = $"INSERT INTO \"llmux_schema_migrations\" VALUES ({version}, '{name}', '2026-01-01T00:00:00Z')";
                    cmd.ExecuteNonQuery();
                }
                cmd.CommandText = """
                    INSERT INTO "LiteLLM_SpendLogs"(request_id, call_type, api_key, spend, total_tokens, prompt_tokens, completion_tokens, "startTime", "endTime", status)
                    VALUES ('old', 'acompletion', 'k', 0.5, 3, 1, 2, '2026-01-01T00:00:00.0000000Z', '2026-01-01T00:00:01.0000000Z', 'success')
                    """;
                cmd.ExecuteNonQuery();
            }
            var store = new SqliteGovernanceStore(path);
            await store.MigrateAsync();
            await store.MigrateAsync();
            Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13], store.AppliedVersions());
            var old = Assert.Single(await store.SpendLogsAsync(new(RequestId: "old")));
            Assert.False(old.CacheHit);
            Assert.Equal(0.5m, old.Spend);
            var now = DateTimeOffset.UtcNow;
            await store.WriteSpendAsync([new SpendRow { RequestId = "new", CallType = "acompletion", ApiKey = "k", StartTime = now, EndTime = now, CacheHit = true }]);
            Assert.True(Assert.Single(await store.SpendLogsAsync(new(RequestId: "new"))).CacheHit);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            foreach (var f in Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(path) + "*")) File.Delete(f);
        }
    }
}
