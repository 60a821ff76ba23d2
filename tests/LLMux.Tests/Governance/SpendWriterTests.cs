using System.Diagnostics;
using LLMux.Governance.Entities;
using LLMux.Governance.Spend;
using LLMux.Governance.Storage;
using LLMux.Governance.Storage.Sqlite;

namespace LLMux.Tests.Governance;

/// <summary>The spend writer while its store is away: bounded queue, then the spill file, then everything written once it returns.</summary>
public sealed class SpendWriterTests : IDisposable
{
    private readonly string _spill = Path.Combine(Path.GetTempPath(), "llmux-spill-test-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_spill)) Directory.Delete(_spill, recursive: true);
    }

    private static SpendRow Row(int i) => new()
    {
        RequestId = "r" + i, CallType = "acompletion", ApiKey = "k", Spend = 0.001m, StartTime = DateTimeOffset.UnixEpoch.AddSeconds(i), EndTime = DateTimeOffset.UnixEpoch.AddSeconds(i),
    };

    [Fact]
    public async Task A_full_queue_spills_to_a_file_and_every_row_is_written_when_the_store_returns()
    {
        using var inner = SqliteGovernanceStore.InMemory();
        await inner.MigrateAsync();
        var store = new FlakyStore(inner) { Down = true };
        var writer = new SpendWriter(store, TimeProvider.System, capacity: 10, spillDirectory: _spill);
        writer.Enqueue(Row(0));
        var wait = Stopwatch.StartNew();
        while (writer.Failures == 0 && wait.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(10);
        // The writer is stuck on its one-row batch: the queue takes ten more, the other 89 go to the file, and no caller waits on the store.
        for (var i = 1; i < 100; i++) writer.Enqueue(Row(i));
        Assert.Equal(89, writer.Spilled);
        Assert.Equal(writer.Spilled, writer.Spill!.CountRows());
        store.Down = false;
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await writer.DisposeAsync();
        Assert.Equal(100, (await inner.SpendLogsAsync(new(Limit: 1000))).Count);
        Assert.Equal(0, writer.Spill.CountRows());
        Assert.True(writer.Failures > 0);
    }

    [Fact]
    public async Task Stopping_while_the_store_is_away_keeps_the_rows_for_the_next_start()
    {
        using var inner = SqliteGovernanceStore.InMemory();
        await inner.MigrateAsync();
        var store = new FlakyStore(inner) { Down = true };
        var writer = new SpendWriter(store, TimeProvider.System, spillDirectory: _spill);
        for (var i = 0; i < 20; i++) writer.Enqueue(Row(i));
        var clock = Stopwatch.StartNew();
        await writer.DisposeAsync();
        Assert.True(clock.Elapsed < SpendWriter.StopGrace + TimeSpan.FromSeconds(10));
        Assert.Equal(20, new SpendSpill(_spill).CountRows());
        Assert.Empty(await inner.SpendLogsAsync(new()));
        // The next start (the store is back) writes them first.
        store.Down = false;
        var next = new SpendWriter(store, TimeProvider.System, spillDirectory: _spill);
        await next.FlushAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await next.DisposeAsync();
        Assert.Equal(20, (await inner.SpendLogsAsync(new())).Count);
        Assert.Equal(0.02m, (await inner.SpendLogsAsync(new())).Sum(r => r.Spend));
    }

    [Fact]
    public void A_line_cut_short_by_a_crash_is_skipped_and_the_rest_is_read()
    {
        var spill = new SpendSpill(_spill);
        spill.Append([Row(1), Row(2)]);
        var file = Directory.GetFiles(_spill, "*.jsonl").Single();
        File.AppendAllText(file, "{\"request_id\":\"r3\",\"call_ty");
        var claimed = spill.Claim().Single();
        Assert.Equal(["r1", "r2"], claimed.Rows.Select(r => r.RequestId));
        claimed.Done();
        Assert.Empty(Directory.GetFiles(_spill));
    }

    [Fact]
    public void A_file_being_written_is_not_claimed_and_a_claimed_name_is_never_written_again()
    {
        var owner = new SpendSpill(_spill);
        var other = new SpendSpill(_spill); // another replica on this machine, same database
        owner.Append([Row(1)]);
        var first = Directory.GetFiles(_spill, "*.jsonl").Single();
        // Its writer is appending to it (holding it, as Append does): the claim leaves it for a later drain.
        using (new FileStream(first, FileMode.Open, FileAccess.Write, FileShare.None))
            Assert.Empty(other.Claim());
        // A claim holds it in turn: a row appended meanwhile goes to a new file.
        using (new FileStream(first, FileMode.Open, FileAccess.Read, FileShare.None))
            owner.Append([Row(2)]);
        Assert.Equal(2, Directory.GetFiles(_spill, "*.jsonl").Length);
        // The other replica claims both; the owner's next rows go to a third name, not back under a claimed one.
        var claimed = other.Claim().ToList();
        Assert.Equal(["r1", "r2"], claimed.SelectMany(c => c.Rows).Select(r => r.RequestId).Order());
        owner.Append([Row(3)]);
        var third = Directory.GetFiles(_spill, "*.jsonl").Single();
        Assert.NotEqual(first, third);
        foreach (var c in claimed) c.Release(); // put back under their own names, beside the new file
        Assert.Equal(3, Directory.GetFiles(_spill, "*.jsonl").Length);
        Assert.Equal(3, owner.CountRows());
    }

    private static SpendRow Unlogged(int i) => Row(i) with { RequestId = "", ApiKey = "t", Spend = 0.25m, Logged = false };

    private static async Task<IGovernanceStore> StoreWithKeyAsync(SqliteGovernanceStore inner)
    {
        await inner.MigrateAsync();
        await inner.InsertKeyAsync(new VirtualKey { Token = "t", KeyName = "sk-...t", CreatedAt = DateTimeOffset.UnixEpoch });
        return inner;
    }

    [Fact]
    public async Task A_batch_committed_without_an_answer_then_spilled_at_stop_adds_its_unlogged_spend_once()
    {
        using var inner = SqliteGovernanceStore.InMemory();
        await StoreWithKeyAsync(inner);
        // The first write commits and its answer is lost (PostgreSQL gone mid-commit); every later one fails until the stop.
        var store = new FlakyStore(inner) { CommitThenFail = 1, Down = true };
        var writer = new SpendWriter(store, TimeProvider.System, spillDirectory: _spill);
        for (var i = 0; i < 8; i++) writer.Enqueue(Unlogged(i));
        var wait = Stopwatch.StartNew();
        while (writer.Failures < 2 && wait.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(10);
        for (var i = 8; i < 12; i++) writer.Enqueue(Unlogged(i)); // queued behind the stuck batch, never tried
        await writer.DisposeAsync();
        var committed = (await inner.FindKeyAsync("t"))!.Spend;
        Assert.True(committed > 0m, "the first try committed");
        Assert.Equal(12, new SpendSpill(_spill).CountRows());

        // The next start replays the file: the tried batch is recognised by its mark, the untried rows are new.
        store.Down = false;
        var next = new SpendWriter(store, TimeProvider.System, spillDirectory: _spill);
        await next.FlushAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await next.DisposeAsync();
        Assert.Equal(3m, (await inner.FindKeyAsync("t"))!.Spend);
        Assert.Equal(0, new SpendSpill(_spill).CountRows());
    }

    [Fact]
    public async Task A_spill_file_put_back_half_written_adds_each_batch_once()
    {
        using var inner = SqliteGovernanceStore.InMemory();
        await StoreWithKeyAsync(inner);
        // 1200 untried rows: three batches (500, 500, 200) marked by their place in the file.
        var spill = new SpendSpill(_spill);
        spill.Append([.. Enumerable.Range(0, 1200).Select(Unlogged)]);
        var claimed = spill.Claim().Single();
        Assert.Equal([500, 500, 200], claimed.Batches.Select(b => b.Count));
        Assert.Equal(3, claimed.Batches.Select(b => b.Mark).Distinct().Count());
        await inner.WriteSpendAsync(claimed.Batches[0]);
        claimed.Release(); // stopped after the first batch: the file goes back whole
        Assert.Equal(125m, (await inner.FindKeyAsync("t"))!.Spend);

        var writer = new SpendWriter(inner, TimeProvider.System, spillDirectory: _spill);
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await writer.DisposeAsync();
        Assert.Equal(300m, (await inner.FindKeyAsync("t"))!.Spend);
    }

    [Fact]
    public void A_tried_batch_keeps_its_mark_in_the_file_and_untried_rows_around_it_get_their_own()
    {
        var spill = new SpendSpill(_spill);
        var tried = new SpendBatch([Unlogged(0), Unlogged(1)]);
        spill.Append([Unlogged(2)]);
        spill.Append(tried, tried.Mark);
        spill.Append([Unlogged(3), Unlogged(4)]);
        var claimed = spill.Claim().Single();
        Assert.Equal([1, 2, 2], claimed.Batches.Select(b => b.Count));
        Assert.Equal(tried.Mark, claimed.Batches[1].Mark);
        Assert.NotEqual(claimed.Batches[0].Mark, claimed.Batches[2].Mark);
        // Read again (put back, claimed anew), the file gives the same marks.
        var marks = claimed.Batches.Select(b => b.Mark).ToArray();
        claimed.Release();
        var again = spill.Claim().Single();
        Assert.Equal(marks, again.Batches.Select(b => b.Mark));
        again.Done();
    }

    /// <summary>A store whose spend writes fail while <see cref="Down"/> (as PostgreSQL's do while it is away).</summary>
    private sealed class FlakyStore(IGovernanceStore inner) : IGovernanceStore
    {
        public volatile bool Down;
        /// <summary>This many writes commit, then fail as if the answer were lost (before <see cref="Down"/> applies).</summary>
        public int CommitThenFail;

        public async ValueTask WriteSpendAsync(IReadOnlyList<SpendRow> rows, CancellationToken c = default)
        {
            if (Interlocked.Decrement(ref CommitThenFail) >= 0)
            {
                await inner.WriteSpendAsync(rows, c);
                throw new TimeoutException("the answer was lost");
            }
            if (Down) throw new TimeoutException("the store is away");
            await inner.WriteSpendAsync(rows, c);
        }

        public ValueTask MigrateAsync(CancellationToken c = default) => inner.MigrateAsync(c);
        public ValueTask<VirtualKey?> FindKeyAsync(string token, CancellationToken c = default) => inner.FindKeyAsync(token, c);
        public ValueTask<VirtualKey?> FindKeyByAliasAsync(string alias, CancellationToken c = default) => inner.FindKeyByAliasAsync(alias, c);
        public ValueTask<bool> InsertKeyAsync(VirtualKey key, CancellationToken c = default) => inner.InsertKeyAsync(key, c);
        public ValueTask<bool> ReplaceKeyAsync(string token, VirtualKey key, CancellationToken c = default) => inner.ReplaceKeyAsync(token, key, c);
        public ValueTask<bool> RegenerateKeyAsync(string token, VirtualKey key, DateTimeOffset? graceUntil, DateTimeOffset now, CancellationToken c = default) => inner.RegenerateKeyAsync(token, key, graceUntil, now, c);
        public ValueTask<DeprecatedKey?> FindDeprecatedKeyAsync(string token, DateTimeOffset now, CancellationToken c = default) => inner.FindDeprecatedKeyAsync(token, now, c);
        public ValueTask EndGraceAsync(string activeToken, CancellationToken c = default) => inner.EndGraceAsync(activeToken, c);
        public ValueTask<IReadOnlyList<string>?> DeleteKeysAsync(IReadOnlyList<string> tokens, CancellationToken c = default) => inner.DeleteKeysAsync(tokens, c);
        public ValueTask<(IReadOnlyList<VirtualKey> Keys, int Total)> ListKeysAsync(KeyQuery query, CancellationToken c = default) => inner.ListKeysAsync(query, c);
        public ValueTask<Team?> FindTeamAsync(string teamId, CancellationToken c = default) => inner.FindTeamAsync(teamId, c);
        public ValueTask<bool> InsertTeamAsync(Team team, CancellationToken c = default) => inner.InsertTeamAsync(team, c);
        public ValueTask<bool> ReplaceTeamAsync(Team team, CancellationToken c = default) => inner.ReplaceTeamAsync(team, c);
        public ValueTask<IReadOnlyList<string>?> DeleteTeamsAsync(IReadOnlyList<string> teamIds, CancellationToken c = default) => inner.DeleteTeamsAsync(teamIds, c);
        public ValueTask<IReadOnlyList<Team>> ListTeamsAsync(string? userId, CancellationToken c = default) => inner.ListTeamsAsync(userId, c);
        public ValueTask<InternalUser?> FindUserAsync(string userId, CancellationToken c = default) => inner.FindUserAsync(userId, c);
        public ValueTask<bool> InsertUserAsync(InternalUser user, CancellationToken c = default) => inner.InsertUserAsync(user, c);
        public ValueTask<bool> ReplaceUserAsync(InternalUser user, CancellationToken c = default) => inner.ReplaceUserAsync(user, c);
        public ValueTask<IReadOnlyList<string>?> DeleteUsersAsync(IReadOnlyList<string> userIds, CancellationToken c = default) => inner.DeleteUsersAsync(userIds, c);
        public ValueTask<IReadOnlyList<InternalUser>> ListUsersAsync(CancellationToken c = default) => inner.ListUsersAsync(c);
        public ValueTask<Customer?> FindCustomerAsync(string userId, CancellationToken c = default) => inner.FindCustomerAsync(userId, c);
        public ValueTask<bool> InsertCustomerAsync(Customer customer, CancellationToken c = default) => inner.InsertCustomerAsync(customer, c);
        public ValueTask<bool> ReplaceCustomerAsync(Customer customer, CancellationToken c = default) => inner.ReplaceCustomerAsync(customer, c);
        public ValueTask<IReadOnlyList<string>?> DeleteCustomersAsync(IReadOnlyList<string> userIds, CancellationToken c = default) => inner.DeleteCustomersAsync(userIds, c);
        public ValueTask<IReadOnlyList<Customer>> ListCustomersAsync(CancellationToken c = default) => inner.ListCustomersAsync(c);
        public ValueTask<BudgetRow?> FindBudgetAsync(string budgetId, CancellationToken c = default) => inner.FindBudgetAsync(budgetId, c);
        public ValueTask<bool> InsertBudgetAsync(BudgetRow budget, CancellationToken c = default) => inner.InsertBudgetAsync(budget, c);
        public ValueTask<bool> ReplaceBudgetAsync(BudgetRow budget, CancellationToken c = default) => inner.ReplaceBudgetAsync(budget, c);
        public ValueTask<IReadOnlyList<BudgetRow>> ListBudgetsAsync(CancellationToken c = default) => inner.ListBudgetsAsync(c);
        public ValueTask<BudgetDeletion> DeleteBudgetAsync(string budgetId, CancellationToken c = default) => inner.DeleteBudgetAsync(budgetId, c);
        public ValueTask<bool> ResetBudgetAsync(BudgetScope scope, string id, DateTimeOffset dueAt, DateTimeOffset nextReset, CancellationToken c = default) => inner.ResetBudgetAsync(scope, id, dueAt, nextReset, c);
        public ValueTask<IReadOnlyList<SpendRow>> SpendLogsAsync(SpendQuery query, CancellationToken c = default) => inner.SpendLogsAsync(query, c);
        public ValueTask<decimal> KeyModelSpendAsync(string token, string model, DateTimeOffset? since, CancellationToken c = default) => inner.KeyModelSpendAsync(token, model, since, c);
        public ValueTask<decimal> ModelSpendAsync(BudgetScope owner, string id, string model, DateTimeOffset? since, CancellationToken c = default) => inner.ModelSpendAsync(owner, id, model, since, c);
        public ValueTask<IReadOnlyList<SpendReportRow>> SpendReportAsync(SpendReportQuery query, CancellationToken c = default) => inner.SpendReportAsync(query, c);
    }
}
