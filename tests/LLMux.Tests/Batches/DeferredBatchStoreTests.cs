using LLMux.Governance.Storage;
using LLMux.Host.Batches;
using Xunit;

namespace LLMux.Tests.Batches;

/// <summary>
/// The embedded batch store stays closed (no file, SQLite not touched) until a batch is created, and a store that finds
/// its file at start opens it at once, so a restarted gateway resumes what the last one left.
/// </summary>
public sealed class DeferredBatchStoreTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "llmux-deferred-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static BatchRow Row(string id) => new()
    {
        Id = id, Owner = "owner-hash", CreatedAt = 1_700_000_000, Status = "validating", State = "{\"id\":\"" + id + "\"}",
    };

    [Fact]
    public async Task Nothing_is_created_until_the_first_batch_and_the_next_start_opens_what_is_there()
    {
        var path = Path.Combine(_dir, "sub", "llmux.db");
        var first = new DeferredSqliteBatchStore(path);
        await first.MigrateAsync();

        Assert.False(first.IsOpen);
        Assert.False(File.Exists(path));
        Assert.Null(await first.FindAsync("batch_a"));
        Assert.Empty(await first.ListAsync(owner: null, teamId: null));
        Assert.Empty(await first.RunnableAsync(nowMs: 0, limit: 10));
        Assert.False(await first.TryLeaseAsync("batch_a", "me", 0, 1000));
        Assert.False(await first.RequestCancelAsync("batch_a", 1));
        Assert.False(File.Exists(path));

        await first.InsertAsync(Row("batch_a"));
        Assert.True(first.IsOpen);
        Assert.True(File.Exists(path));
        Assert.Equal("validating", (await first.FindAsync("batch_a"))!.Status);

        var restarted = new DeferredSqliteBatchStore(path);
        await restarted.MigrateAsync();
        Assert.True(restarted.IsOpen);
        Assert.Equal(["batch_a"], await restarted.RunnableAsync(nowMs: 0, limit: 10));
        Assert.True(await restarted.TryLeaseAsync("batch_a", "me", 0, 60_000));
    }

    [Fact]
    public async Task A_file_another_process_created_is_seen_at_the_next_read()
    {
        var path = Path.Combine(_dir, "llmux.db");
        var idle = new DeferredSqliteBatchStore(path);
        await idle.MigrateAsync();
        Assert.False(idle.IsOpen);

        var other = new DeferredSqliteBatchStore(path);
        await other.InsertAsync(Row("batch_b"));

        Assert.Equal("batch_b", (await idle.FindAsync("batch_b"))!.Id);
        Assert.True(idle.IsOpen);
    }
}
