using LLMux.Governance.Entities;
using LLMux.Governance.Storage;

namespace LLMux.Tests.Governance;

/// <summary>
/// What every <see cref="IGovernanceStore"/> must do, run against each implementation (SQLite file, PostgreSQL):
/// the same facts, the same answers.
/// </summary>
public abstract class GovernanceStoreContract : IAsyncLifetime
{
    private IGovernanceStore? _store;

    /// <summary>The store under test; a test skips (fails under CI) here when its server is not configured.</summary>
    protected IGovernanceStore Store => _store ?? Unavailable();
    protected static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A new, empty, migrated store of the kind under test; null when its server is not configured.</summary>
    protected abstract Task<IGovernanceStore?> CreateAsync();
    /// <summary>Skips (or fails under CI) with the reason the store is missing.</summary>
    protected virtual IGovernanceStore Unavailable() => throw new InvalidOperationException("no store");
    /// <summary>Drops what <see cref="CreateAsync"/> made.</summary>
    protected abstract Task DestroyAsync();

    public async Task InitializeAsync() => _store = await CreateAsync();
    public Task DisposeAsync() => DestroyAsync();

    private static VirtualKey Key(string token, string? alias = null, string? team = null, string? user = null) =>
        new() { Token = token, KeyName = "sk-...abcd", KeyAlias = alias, TeamId = team, UserId = user, CreatedAt = Now, UpdatedAt = Now };

    private static SpendRow Row(string id, string key, decimal spend, string? team = null, string? user = null, string? endUser = null, DateTimeOffset? at = null) =>
        new() { RequestId = id, CallType = "acompletion", ApiKey = key, Spend = spend, PromptTokens = 11, CompletionTokens = 7, StartTime = at ?? Now, EndTime = at ?? Now, TeamId = team, UserId = user, EndUser = endUser, Model = "gpt-4o-mini", ModelGroup = "gpt-test", Provider = "openai" };

    [SkippableFact]
    public async Task A_budget_row_round_trips_and_cannot_be_deleted_while_linked()
    {
        var budget = new BudgetRow
        {
            BudgetId = "free-tier", MaxBudget = 1.5m, SoftBudget = 1m, MaxParallelRequests = 2, TpmLimit = 5000, RpmLimit = 10, BudgetDuration = "1d",
            BudgetResetAt = Now.AddDays(1), CreatedAt = Now, UpdatedAt = Now, CreatedBy = "admin", UpdatedBy = "admin",
            ModelMaxBudget = new Dictionary<string, LLMux.Governance.Budgets.ModelBudget> { ["gpt-4o"] = new(0.5m, "1h") },
        };
        Assert.True(await Store.InsertBudgetAsync(budget));
        Assert.False(await Store.InsertBudgetAsync(budget with { MaxBudget = 9m }));
        var read = await Store.FindBudgetAsync("free-tier");
        Assert.Equal(budget with { ModelMaxBudget = read!.ModelMaxBudget }, read);
        Assert.Equal(new LLMux.Governance.Budgets.ModelBudget(0.5m, "1h"), read.ModelMaxBudget["gpt-4o"]);
        Assert.True(await Store.ReplaceBudgetAsync(budget with { RpmLimit = null, UpdatedBy = "other" }));
        Assert.Null((await Store.FindBudgetAsync("free-tier"))!.RpmLimit);
        Assert.False(await Store.ReplaceBudgetAsync(budget with { BudgetId = "missing" }));

        await Store.InsertCustomerAsync(new Customer { UserId = "acme", BudgetId = "free-tier", CreatedAt = Now, UpdatedAt = Now });
        await Store.InsertKeyAsync(Key("k") with { BudgetId = "free-tier", ModelRpmLimit = new Dictionary<string, long> { ["gpt-4o"] = 3 }, ModelTpmLimit = new Dictionary<string, long> { ["gpt-4o"] = 300 } });
        Assert.Equal("free-tier", (await Store.FindCustomerAsync("acme"))!.BudgetId);
        var key = (await Store.FindKeyAsync("k"))!;
        Assert.Equal("free-tier", key.BudgetId);
        Assert.Equal(3, key.ModelRpmLimit["gpt-4o"]);
        Assert.Equal(300, key.ModelTpmLimit["gpt-4o"]);
        // A key's model budget entry that carries only limits, and a team's per-model limits.
        await Store.InsertKeyAsync(Key("limits-only") with { ModelMaxBudget = new Dictionary<string, LLMux.Governance.Budgets.ModelBudget> { ["gpt-4o"] = new(null, null, 7, 700), ["o3"] = new(2m, "1d", null, 50) } });
        var limitsOnly = (await Store.FindKeyAsync("limits-only"))!.ModelMaxBudget;
        Assert.Equal(new LLMux.Governance.Budgets.ModelBudget(null, null, 7, 700), limitsOnly["gpt-4o"]);
        Assert.Equal(new LLMux.Governance.Budgets.ModelBudget(2m, "1d", null, 50), limitsOnly["o3"]);
        await Store.DeleteKeysAsync(["limits-only"]);
        await Store.InsertTeamAsync(new Team { TeamId = "per-model", CreatedAt = Now, UpdatedAt = Now, ModelRpmLimit = new Dictionary<string, long> { ["gpt-4o"] = 4 }, ModelTpmLimit = new Dictionary<string, long> { ["o3"] = 400 } });
        var team = (await Store.FindTeamAsync("per-model"))!;
        Assert.Equal(4, team.ModelRpmLimit["gpt-4o"]);
        Assert.Equal(400, team.ModelTpmLimit["o3"]);
        await Store.DeleteTeamsAsync(["per-model"]);
        Assert.Equal(BudgetDeletion.InUse, await Store.DeleteBudgetAsync("free-tier"));
        await Store.ReplaceCustomerAsync((await Store.FindCustomerAsync("acme"))! with { BudgetId = null });
        Assert.Equal(BudgetDeletion.InUse, await Store.DeleteBudgetAsync("free-tier"));
        await Store.DeleteKeysAsync(["k"]);
        Assert.Equal(BudgetDeletion.Deleted, await Store.DeleteBudgetAsync("free-tier"));
        Assert.Equal(BudgetDeletion.NotFound, await Store.DeleteBudgetAsync("free-tier"));
        Assert.Empty(await Store.ListBudgetsAsync());
    }

    [SkippableFact]
    public async Task A_key_or_end_user_cannot_link_to_a_budget_that_is_not_there()
    {
        // The admin API checks budget_id first; the store holds it too, so a budget deleted between that check and the
        // write leaves no dangling link (nothing is written).
        await Assert.ThrowsAsync<MissingBudgetException>(async () => await Store.InsertCustomerAsync(new Customer { UserId = "c", BudgetId = "gone", CreatedAt = Now, UpdatedAt = Now }));
        Assert.Null(await Store.FindCustomerAsync("c"));
        await Assert.ThrowsAsync<MissingBudgetException>(async () => await Store.InsertKeyAsync(Key("k") with { BudgetId = "gone" }));
        Assert.Null(await Store.FindKeyAsync("k"));

        Assert.True(await Store.InsertBudgetAsync(new BudgetRow { BudgetId = "b", CreatedAt = Now, UpdatedAt = Now, CreatedBy = "a", UpdatedBy = "a" }));
        Assert.True(await Store.InsertCustomerAsync(new Customer { UserId = "c", CreatedAt = Now, UpdatedAt = Now }));
        Assert.True(await Store.InsertKeyAsync(Key("k")));
        var ex = await Assert.ThrowsAsync<MissingBudgetException>(async () => await Store.ReplaceCustomerAsync((await Store.FindCustomerAsync("c"))! with { BudgetId = "gone" }));
        Assert.Equal("gone", ex.BudgetId);
        Assert.Null((await Store.FindCustomerAsync("c"))!.BudgetId);
        await Assert.ThrowsAsync<MissingBudgetException>(async () => await Store.ReplaceKeyAsync("k", (await Store.FindKeyAsync("k"))! with { BudgetId = "gone" }));
        Assert.Null((await Store.FindKeyAsync("k"))!.BudgetId);
        await Assert.ThrowsAsync<MissingBudgetException>(async () => await Store.RegenerateKeyAsync("k", Key("k2") with { BudgetId = "gone" }, null, Now));
        Assert.NotNull(await Store.FindKeyAsync("k"));
        Assert.Null(await Store.FindKeyAsync("k2"));

        // A budget that is there links, and is then in use.
        Assert.True(await Store.ReplaceCustomerAsync((await Store.FindCustomerAsync("c"))! with { BudgetId = "b" }));
        Assert.True(await Store.InsertKeyAsync(Key("k3") with { BudgetId = "b" }));
        Assert.Equal(BudgetDeletion.InUse, await Store.DeleteBudgetAsync("b"));
        Assert.Equal("b", (await Store.FindKeyAsync("k3"))!.BudgetId);
    }

    [SkippableFact]
    public async Task A_reset_takes_a_row_that_has_no_reset_time_of_its_own()
    {
        // An end user under a budget's window (budget_id, or the default end-user budget) starts with none.
        await Store.InsertCustomerAsync(new Customer { UserId = "new", Spend = 2m, CreatedAt = Now, UpdatedAt = Now });
        Assert.True(await Store.ResetBudgetAsync(BudgetScope.Customer, "new", Now, Now.AddDays(1)));
        var c = (await Store.FindCustomerAsync("new"))!;
        Assert.Equal(0m, c.Spend);
        Assert.Equal(Now.AddDays(1), c.BudgetResetAt);
        // From then on, only the window it holds resets it (once).
        Assert.False(await Store.ResetBudgetAsync(BudgetScope.Customer, "new", Now, Now.AddDays(1)));
    }

    [SkippableFact]
    public async Task Migrating_again_changes_nothing()
    {
        await Store.InsertKeyAsync(Key("t", "alias"));
        await Store.MigrateAsync();
        Assert.Equal("alias", (await Store.FindKeyAsync("t"))!.KeyAlias);
    }

    [SkippableFact]
    public async Task A_key_round_trips_every_field()
    {
        var key = Key("t", "a", "team-1", "user-1") with
        {
            Models = ["gpt-4o", "openai/*"], Spend = 0.25m, MaxBudget = 10.5m, SoftBudget = 8m, BudgetDuration = "1d", BudgetResetAt = Now.AddDays(1),
            RpmLimit = 60, TpmLimit = 1000, MaxParallelRequests = 4, Expires = Now.AddDays(30), Metadata = """{"env":"prod"}""",
            Aliases = new Dictionary<string, string> { ["fast"] = "gpt-4o-mini", ["smart"] = "openai/gpt-4o" }, AllowedRoutes = ["/v1/chat/completions"], Blocked = true, CreatedBy = "admin", UpdatedBy = "admin",
            AllowedCacheControls = ["no-cache", "ttl"],
            ModelMaxBudget = new Dictionary<string, LLMux.Governance.Budgets.ModelBudget> { ["gpt-4o"] = new(10m, "1d"), ["openai/*"] = new(2.5m, null) },
        };
        Assert.True(await Store.InsertKeyAsync(key));
        var read = await Store.FindKeyAsync("t");
        Assert.Equal(key with { Models = read!.Models, AllowedRoutes = read.AllowedRoutes, AllowedCacheControls = read.AllowedCacheControls, ModelMaxBudget = read.ModelMaxBudget, Aliases = read.Aliases }, read);
        Assert.Equal(key.Aliases.OrderBy(static p => p.Key, StringComparer.Ordinal), read.Aliases.OrderBy(static p => p.Key, StringComparer.Ordinal));
        Assert.Equal(key.Models, read.Models);
        Assert.Equal(key.AllowedRoutes, read.AllowedRoutes);
        Assert.Equal(key.AllowedCacheControls, read.AllowedCacheControls);
        Assert.Equal(key.ModelMaxBudget.OrderBy(static p => p.Key, StringComparer.Ordinal), read.ModelMaxBudget.OrderBy(static p => p.Key, StringComparer.Ordinal));
        Assert.Equal("t", (await Store.FindKeyByAliasAsync("a"))!.Token);
    }

    [SkippableFact]
    public async Task A_taken_token_or_alias_is_refused()
    {
        Assert.True(await Store.InsertKeyAsync(Key("t", "x")));
        Assert.False(await Store.InsertKeyAsync(Key("t", "y")));
        Assert.False(await Store.InsertKeyAsync(Key("u", "x")));
        Assert.Null(await Store.FindKeyAsync("u"));
    }

    [SkippableFact]
    public async Task Replacing_a_key_with_a_new_token_moves_its_spend_rows()
    {
        await Store.InsertKeyAsync(Key("old"));
        await Store.WriteSpendAsync([Row("r1", "old", 0.5m)]);
        Assert.True(await Store.ReplaceKeyAsync("old", Key("new") with { Spend = 0.5m }));
        Assert.Null(await Store.FindKeyAsync("old"));
        Assert.Single(await Store.SpendLogsAsync(new(ApiKey: "new")));
        Assert.False(await Store.ReplaceKeyAsync("gone", Key("other")));
    }

    [SkippableFact]
    public async Task A_key_regenerated_with_a_grace_period_keeps_its_old_hash_until_the_grace_ends()
    {
        await Store.InsertKeyAsync(Key("old"));
        await Store.WriteSpendAsync([Row("r1", "old", 0.5m)]);
        Assert.True(await Store.RegenerateKeyAsync("old", Key("new"), Now.AddHours(1), Now));
        Assert.Null(await Store.FindKeyAsync("old"));
        Assert.Single(await Store.SpendLogsAsync(new(ApiKey: "new")));
        Assert.Equal(new DeprecatedKey("old", "new", Now.AddHours(1)), await Store.FindDeprecatedKeyAsync("old", Now));
        Assert.Equal("new", (await Store.FindDeprecatedKeyAsync("old", Now.AddMinutes(59)))!.ActiveToken);
        Assert.Null(await Store.FindDeprecatedKeyAsync("old", Now.AddHours(1)));
        Assert.Null(await Store.FindDeprecatedKeyAsync("new", Now));

        // Regenerated again without a grace: "new" is refused at once, "old" follows to "newer" with its own end.
        Assert.True(await Store.RegenerateKeyAsync("new", Key("newer"), null, Now.AddMinutes(10)));
        Assert.Null(await Store.FindDeprecatedKeyAsync("new", Now.AddMinutes(10)));
        Assert.Equal(new DeprecatedKey("old", "newer", Now.AddHours(1)), await Store.FindDeprecatedKeyAsync("old", Now.AddMinutes(10)));

        // Refused regenerations leave the grace rows alone.
        Assert.False(await Store.RegenerateKeyAsync("gone", Key("other"), Now.AddHours(1), Now));
        Assert.Null(await Store.FindDeprecatedKeyAsync("gone", Now));
    }

    [SkippableFact]
    public async Task Deleting_or_ending_the_grace_of_the_new_key_ends_its_old_keys_grace()
    {
        await Store.InsertKeyAsync(Key("a1"));
        await Store.InsertKeyAsync(Key("b1"));
        Assert.True(await Store.RegenerateKeyAsync("a1", Key("a2"), Now.AddDays(1), Now));
        Assert.True(await Store.RegenerateKeyAsync("b1", Key("b2"), Now.AddDays(1), Now));
        Assert.NotNull(await Store.DeleteKeysAsync(["a2"]));
        Assert.Null(await Store.FindDeprecatedKeyAsync("a1", Now));
        Assert.NotNull(await Store.FindDeprecatedKeyAsync("b1", Now));
        await Store.EndGraceAsync("b2");
        Assert.Null(await Store.FindDeprecatedKeyAsync("b1", Now));
        Assert.NotNull(await Store.FindKeyAsync("b2"));
    }

    [SkippableFact]
    public async Task A_grace_row_never_shadows_a_live_key_and_ended_ones_are_dropped()
    {
        await Store.InsertKeyAsync(Key("k1"));
        Assert.True(await Store.RegenerateKeyAsync("k1", Key("k2"), Now.AddMinutes(5), Now));
        // Back to the first hash (a custom new_key): it is a live key again, not an old one.
        Assert.True(await Store.RegenerateKeyAsync("k2", Key("k1"), Now.AddMinutes(5), Now.AddMinutes(1)));
        Assert.Null(await Store.FindDeprecatedKeyAsync("k1", Now.AddMinutes(1)));
        Assert.Equal("k1", (await Store.FindDeprecatedKeyAsync("k2", Now.AddMinutes(1)))!.ActiveToken);
        // A later regeneration drops the rows whose grace ended: an upsert on the same hash starts a fresh one.
        Assert.True(await Store.RegenerateKeyAsync("k1", Key("k3"), Now.AddMinutes(30), Now.AddMinutes(10)));
        Assert.Null(await Store.FindDeprecatedKeyAsync("k2", Now.AddMinutes(10)));
        Assert.Equal(new DeprecatedKey("k1", "k3", Now.AddMinutes(30)), await Store.FindDeprecatedKeyAsync("k1", Now.AddMinutes(10)));
    }

    [SkippableFact]
    public async Task Key_lists_filter_count_and_page()
    {
        for (var i = 0; i < 5; i++) await Store.InsertKeyAsync(Key("k" + i, team: i < 3 ? "t" : null) with { CreatedAt = Now.AddMinutes(i) });
        var (keys, total) = await Store.ListKeysAsync(new KeyQuery(Page: 1, Size: 2, TeamId: "t"));
        Assert.Equal(3, total);
        Assert.Equal(["k2", "k1"], keys.Select(k => k.Token));
        var (page2, _) = await Store.ListKeysAsync(new KeyQuery(Page: 2, Size: 2, TeamId: "t"));
        Assert.Equal(["k0"], page2.Select(k => k.Token));
    }

    [SkippableFact]
    public async Task A_spend_row_written_twice_adds_its_spend_once()
    {
        await Store.InsertKeyAsync(Key("t"));
        var row = Row("r1", "t", 0.5m);
        await Store.WriteSpendAsync([row]);
        await Store.WriteSpendAsync([row, Row("r2", "t", 0.25m)]);
        Assert.Equal(0.75m, (await Store.FindKeyAsync("t"))!.Spend);
        Assert.Equal(2, (await Store.SpendLogsAsync(new())).Count);
    }

    [SkippableFact]
    public async Task A_large_batch_with_some_rows_already_written_adds_only_the_new_rows_spend()
    {
        await Store.InsertKeyAsync(Key("t"));
        // Crosses several multi-row statements and ends in a partial one; two ids were written before (a retried batch).
        var rows = Enumerable.Range(0, 101).Select(i => Row($"r{i:D3}", "t", 0.5m)).ToArray();
        await Store.WriteSpendAsync([rows[40], rows[77]]);
        await Store.WriteSpendAsync(rows);
        Assert.Equal(50.5m, (await Store.FindKeyAsync("t"))!.Spend);
        Assert.Equal(101, (await Store.SpendLogsAsync(new(Limit: 500))).Count);
        await Store.WriteSpendAsync(rows);
        Assert.Equal(50.5m, (await Store.FindKeyAsync("t"))!.Spend);
    }

    [SkippableFact]
    public async Task A_large_batch_of_several_callers_is_written_column_for_column()
    {
        // 70 rows of key a on two models (some as another end user, or cache hits) and 30 of key b, interleaved: the
        // runs sharing their caller columns go many to a statement, the rest one row's columns at a time.
        var rows = Enumerable.Range(0, 100).Select(i =>
        {
            var a = i % 10 < 7;
            return Row($"x{i:D3}", a ? "a" : "b", 0.001m * (i + 1), team: a ? "ta" : null, user: a ? "ua" : "ub", endUser: i % 13 == 0 ? "eve" : null, at: Now.AddSeconds(i)) with
            {
                PromptTokens = i, CompletionTokens = 2 * i, Model = i % 4 == 0 ? "gpt-4o" : "gpt-4o-mini", KeyAlias = a ? "alias-a" : null,
                CacheHit = i % 17 == 0, Status = i % 19 == 0 ? "failure" : "success", EndTime = Now.AddSeconds(i).AddMilliseconds(250),
            };
        }).ToArray();
        await Store.WriteSpendAsync(rows);
        var read = (await Store.SpendLogsAsync(new(Limit: 500))).ToDictionary(r => r.RequestId);
        Assert.Equal(100, read.Count);
        foreach (var w in rows)
        {
            var r = read[w.RequestId];
            Assert.Equal((w.ApiKey, w.Spend, w.PromptTokens, w.CompletionTokens, w.StartTime, w.EndTime), (r.ApiKey, r.Spend, r.PromptTokens, r.CompletionTokens, r.StartTime, r.EndTime));
            Assert.Equal((w.CallType, w.Model, w.ModelGroup, w.Provider, w.TeamId, w.UserId, w.EndUser, w.KeyAlias, w.Status, w.CacheHit),
                (r.CallType, r.Model, r.ModelGroup, r.Provider, r.TeamId, r.UserId, r.EndUser, r.KeyAlias, r.Status, r.CacheHit));
        }
    }

    [SkippableFact]
    public async Task An_unlogged_batch_written_again_adds_its_spend_once()
    {
        await Store.InsertKeyAsync(Key("t"));
        // disable_spend_logs: no request ids. The writer retries the same batch when the commit's answer was lost.
        var rows = Enumerable.Range(0, 40).Select(i => Row("", "t", 0.25m) with { Logged = false }).ToArray();
        var batch = new LLMux.Governance.Spend.SpendBatch(rows);
        await Store.WriteSpendAsync(batch);
        await Store.WriteSpendAsync(batch);
        Assert.Equal(10m, (await Store.FindKeyAsync("t"))!.Spend);
        // Another batch of the very same rows (the same calls cannot be, but equal ones can) adds its own.
        await Store.WriteSpendAsync(new LLMux.Governance.Spend.SpendBatch(rows));
        Assert.Equal(20m, (await Store.FindKeyAsync("t"))!.Spend);
        // With logged rows in it too: each kind is recognised its own way.
        var mixed = new LLMux.Governance.Spend.SpendBatch([Row("logged-1", "t", 1m), Row("", "t", 2m) with { Logged = false }]);
        await Store.WriteSpendAsync(mixed);
        await Store.WriteSpendAsync(mixed);
        Assert.Equal(23m, (await Store.FindKeyAsync("t"))!.Spend);
    }

    [SkippableFact]
    public async Task A_batch_mixing_logged_and_unlogged_rows_adds_all_spend_and_logs_only_the_logged()
    {
        await Store.InsertKeyAsync(Key("t"));
        // disable_spend_logs marks rows unlogged: their spend counts, no row is kept.
        await Store.WriteSpendAsync([.. Enumerable.Range(0, 40).Select(i => Row($"m{i:D2}", "t", 0.25m) with { Logged = i % 3 != 0 })]);
        Assert.Equal(10m, (await Store.FindKeyAsync("t"))!.Spend);
        Assert.Equal(26, (await Store.SpendLogsAsync(new(Limit: 100))).Count);
        await Store.WriteSpendAsync([Row("u1", "t", 1m) with { Logged = false }]);
        Assert.Equal(11m, (await Store.FindKeyAsync("t"))!.Spend);
    }

    [SkippableFact]
    public async Task Every_field_of_a_row_in_the_middle_of_a_large_batch_reads_back()
    {
        var at = Now.AddTicks(1_234_560); // PostgreSQL keeps microseconds
        var odd = Row("mid", "k", 0.0001234m, team: "équipe", user: "用户", endUser: "alice", at: at) with
        {
            EndTime = at.AddMilliseconds(250), KeyAlias = new string('a', 300) + "é", Model = null, Provider = null, Status = "failure", CacheHit = true, PromptTokens = 5_000_000_000,
        };
        var rows = Enumerable.Range(0, 70).Select(i => i == 45 ? odd : Row($"x{i:D2}", "k", 0.01m)).ToArray();
        await Store.WriteSpendAsync(rows);
        var r = Assert.Single(await Store.SpendLogsAsync(new(RequestId: "mid")));
        Assert.Equal(odd, r);
    }

    [SkippableFact]
    public async Task Spend_is_added_to_key_team_user_and_end_user_which_is_created_at_its_first_spend()
    {
        await Store.InsertTeamAsync(new Team { TeamId = "team", CreatedAt = Now, UpdatedAt = Now });
        await Store.InsertUserAsync(new InternalUser { UserId = "user", CreatedAt = Now, UpdatedAt = Now });
        await Store.InsertKeyAsync(Key("t", team: "team", user: "user"));
        await Store.WriteSpendAsync([Row("r1", "t", 0.5m, "team", "user", "alice"), Row("r2", "t", 0.125m, "team", "user", "alice")]);
        Assert.Equal(0.625m, (await Store.FindKeyAsync("t"))!.Spend);
        Assert.Equal(0.625m, (await Store.FindTeamAsync("team"))!.Spend);
        Assert.Equal(0.625m, (await Store.FindUserAsync("user"))!.Spend);
        Assert.Equal(0.625m, (await Store.FindCustomerAsync("alice"))!.Spend);
    }

    [SkippableFact]
    public async Task Spend_logs_filter_by_key_team_request_and_time()
    {
        await Store.WriteSpendAsync([Row("a", "k1", 1m, team: "t1", at: Now), Row("b", "k2", 2m, team: "t2", at: Now.AddHours(1)), Row("c", "k1", 3m, team: "t1", at: Now.AddDays(2))]);
        Assert.Equal(["c", "a"], (await Store.SpendLogsAsync(new(ApiKey: "k1"))).Select(r => r.RequestId));
        Assert.Equal(["b"], (await Store.SpendLogsAsync(new(TeamId: "t2"))).Select(r => r.RequestId));
        Assert.Equal(["b", "a"], (await Store.SpendLogsAsync(new(Start: Now, End: Now.AddDays(1)))).Select(r => r.RequestId));
        var b = Assert.Single(await Store.SpendLogsAsync(new(RequestId: "b")));
        Assert.Equal(2m, b.Spend);
        Assert.Equal(18, b.TotalTokens);
        Assert.Equal(Now.AddHours(1), b.StartTime);
        Assert.Equal("gpt-test", b.ModelGroup);
    }

    [SkippableFact]
    public async Task A_cache_hit_is_stored_and_read_back()
    {
        await Store.WriteSpendAsync([Row("miss", "k", 0.5m) with { CacheHit = false }, Row("hit", "k", 0m) with { CacheHit = true }]);
        Assert.False(Assert.Single(await Store.SpendLogsAsync(new(RequestId: "miss"))).CacheHit);
        Assert.True(Assert.Single(await Store.SpendLogsAsync(new(RequestId: "hit"))).CacheHit);
    }

    [SkippableFact]
    public async Task Deleting_several_keys_is_all_or_nothing()
    {
        await Store.InsertKeyAsync(Key("a"));
        await Store.InsertKeyAsync(Key("b"));
        Assert.Null(await Store.DeleteKeysAsync(["a", "missing"]));
        Assert.NotNull(await Store.FindKeyAsync("a"));
        Assert.Equal(["a", "b"], await Store.DeleteKeysAsync(["a", "b"]));
        Assert.Null(await Store.FindKeyAsync("b"));
    }

    [SkippableFact]
    public async Task A_deleted_team_leaves_its_keys_without_a_team()
    {
        await Store.InsertTeamAsync(new Team { TeamId = "team", CreatedAt = Now, UpdatedAt = Now });
        await Store.InsertKeyAsync(Key("t", team: "team"));
        Assert.Equal(["team"], await Store.DeleteTeamsAsync(["team"]));
        Assert.Null((await Store.FindKeyAsync("t"))!.TeamId);
    }

    [SkippableFact]
    public async Task A_teams_model_aliases_round_trip_and_update()
    {
        var team = new Team { TeamId = "t", ModelAliases = new Dictionary<string, string> { ["fast"] = "gpt-test", ["big"] = "gpt-other" }, CreatedAt = Now, UpdatedAt = Now };
        Assert.True(await Store.InsertTeamAsync(team));
        var read = (await Store.FindTeamAsync("t"))!;
        Assert.Equal(team.ModelAliases.OrderBy(static p => p.Key, StringComparer.Ordinal), read.ModelAliases.OrderBy(static p => p.Key, StringComparer.Ordinal));
        Assert.True(await Store.ReplaceTeamAsync(read with { ModelAliases = new Dictionary<string, string> { ["fast"] = "gpt-other" } }));
        Assert.Equal("gpt-other", Assert.Single((await Store.ListTeamsAsync(null))[0].ModelAliases).Value);
        Assert.True(await Store.ReplaceTeamAsync(read with { ModelAliases = LLMux.Governance.Auth.ModelAliases.None }));
        Assert.Empty((await Store.FindTeamAsync("t"))!.ModelAliases);
    }

    [SkippableFact]
    public async Task Team_and_user_model_budgets_round_trip_and_their_spend_is_summed_by_owner()
    {
        var budgets = new Dictionary<string, LLMux.Governance.Budgets.ModelBudget> { ["gpt-test"] = new(2m, "1d"), ["gpt-4o"] = new(1m, null) };
        Assert.True(await Store.InsertTeamAsync(new Team { TeamId = "t", ModelMaxBudget = budgets, CreatedAt = Now, UpdatedAt = Now }));
        Assert.True(await Store.InsertUserAsync(new InternalUser { UserId = "u", ModelMaxBudget = budgets, CreatedAt = Now, UpdatedAt = Now }));
        Assert.Equal(budgets.OrderBy(static p => p.Key, StringComparer.Ordinal), (await Store.FindTeamAsync("t"))!.ModelMaxBudget.OrderBy(static p => p.Key, StringComparer.Ordinal));
        Assert.Equal(budgets.OrderBy(static p => p.Key, StringComparer.Ordinal), (await Store.FindUserAsync("u"))!.ModelMaxBudget.OrderBy(static p => p.Key, StringComparer.Ordinal));
        Assert.Equal(2, (await Store.ListUsersAsync())[0].ModelMaxBudget.Count);

        await Store.WriteSpendAsync([Row("a", "k1", 1m, team: "t", user: "u"), Row("b", "k2", 2m, team: "t"), Row("c", "k3", 4m, user: "u"), Row("d", "k4", 8m, team: "other", user: "other")]);
        Assert.Equal(3m, await Store.ModelSpendAsync(BudgetScope.Team, "t", "gpt-test", null));
        Assert.Equal(5m, await Store.ModelSpendAsync(BudgetScope.User, "u", "gpt-test", Now.AddHours(-1)));
        Assert.Equal(0m, await Store.ModelSpendAsync(BudgetScope.User, "u", "gpt-test", Now.AddHours(1)));
        Assert.Equal(1m, await Store.ModelSpendAsync(BudgetScope.Key, "k1", "gpt-4o-mini", null));
    }

    [SkippableFact]
    public async Task A_keys_spend_on_a_model_counts_rows_by_model_group_or_upstream_model()
    {
        await Store.WriteSpendAsync([
            Row("g", "k", 1m) with { ModelGroup = "gpt-test", Model = "gpt-4o-mini" },
            Row("u", "k", 2m) with { ModelGroup = "fast", Model = "gpt-4o-mini" },
            Row("o", "k", 4m) with { ModelGroup = "other", Model = "gpt-4o" },
            Row("x", "other-key", 8m) with { ModelGroup = "gpt-test", Model = "gpt-4o-mini" },
            Row("old", "k", 16m, at: Now.AddDays(-2)) with { ModelGroup = "gpt-test", Model = "gpt-4o-mini" },
        ]);
        Assert.Equal(17m, await Store.KeyModelSpendAsync("k", "gpt-test", null));
        Assert.Equal(1m, await Store.KeyModelSpendAsync("k", "gpt-test", Now.AddDays(-1)));
        Assert.Equal(3m, await Store.KeyModelSpendAsync("k", "gpt-4o-mini", Now.AddDays(-1)));
        // A budget on the prefixed upstream name counts the rows of its bare name (the spend logs record that).
        Assert.Equal(3m, await Store.KeyModelSpendAsync("k", "openai/gpt-4o-mini", Now.AddDays(-1)));
        Assert.Equal(4m, await Store.KeyModelSpendAsync("k", "gpt-4o", null));
    }

    [SkippableFact]
    public async Task Teams_are_listed_by_member()
    {
        await Store.InsertTeamAsync(new Team { TeamId = "a", Members = [new TeamMember("admin", "u1", null)], CreatedAt = Now, UpdatedAt = Now });
        await Store.InsertTeamAsync(new Team { TeamId = "b", Members = [new TeamMember("user", "u2", "u2@example.com")], CreatedAt = Now.AddSeconds(1), UpdatedAt = Now });
        Assert.Equal(["a", "b"], (await Store.ListTeamsAsync(null)).Select(t => t.TeamId));
        Assert.Equal(["b"], (await Store.ListTeamsAsync("u2")).Select(t => t.TeamId));
        Assert.Equal("u2@example.com", (await Store.FindTeamAsync("b"))!.Members[0].UserEmail);
    }

    [SkippableFact]
    public async Task Users_and_customers_update_and_delete()
    {
        Assert.True(await Store.InsertUserAsync(new InternalUser { UserId = "u", Teams = ["t"], CreatedAt = Now, UpdatedAt = Now }));
        Assert.True(await Store.ReplaceUserAsync(new InternalUser { UserId = "u", UserEmail = "u@example.com", MaxBudget = 3m, CreatedAt = Now, UpdatedAt = Now.AddMinutes(1) }));
        Assert.Equal("u@example.com", (await Store.FindUserAsync("u"))!.UserEmail);
        Assert.False(await Store.ReplaceUserAsync(new InternalUser { UserId = "missing", CreatedAt = Now, UpdatedAt = Now }));
        Assert.True(await Store.InsertCustomerAsync(new Customer { UserId = "c", MaxBudget = 1m, Blocked = true, CreatedAt = Now, UpdatedAt = Now }));
        Assert.True((await Store.FindCustomerAsync("c"))!.Blocked);
        Assert.Single(await Store.ListCustomersAsync());
        Assert.Null(await Store.DeleteUsersAsync(["u", "missing"]));
        Assert.Equal(["c"], await Store.DeleteCustomersAsync(["c"]));
        Assert.Empty(await Store.ListCustomersAsync());
    }

    [SkippableFact]
    public async Task A_budget_window_is_reset_once_even_when_two_replicas_try()
    {
        var due = Now.AddHours(1);
        await Store.InsertKeyAsync(Key("t") with { Spend = 5m, BudgetDuration = "1h", BudgetResetAt = due });
        var results = await Task.WhenAll(Store.ResetBudgetAsync(BudgetScope.Key, "t", due, due.AddHours(1)).AsTask(), Store.ResetBudgetAsync(BudgetScope.Key, "t", due, due.AddHours(1)).AsTask());
        Assert.Single(results, r => r);
        var key = await Store.FindKeyAsync("t");
        Assert.Equal(0m, key!.Spend);
        Assert.Equal(due.AddHours(1), key.BudgetResetAt);
    }

    [SkippableFact]
    public async Task The_spend_report_sums_per_day_team_model_and_key()
    {
        await Store.InsertTeamAsync(new Team { TeamId = "t1", TeamAlias = "search", CreatedAt = Now, UpdatedAt = Now });
        await Store.WriteSpendAsync([
            Row("a", "k1", 1m, team: "t1", endUser: "alice", at: Now), Row("b", "k1", 2m, team: "t1", endUser: "alice", at: Now.AddHours(1)),
            Row("c", "k2", 4m, endUser: "bob", at: Now.AddHours(2)), Row("d", "k1", 8m, team: "t1", at: Now.AddDays(1)), Row("e", "k1", 16m, team: "t1", at: Now.AddDays(5)),
        ]);
        var day = new DateTimeOffset(Now.Date, TimeSpan.Zero);
        var byTeam = await Store.SpendReportAsync(new SpendReportQuery(day, day.AddDays(2), SpendGroup.Team));
        Assert.Equal([("2026-12-01", "Unassigned Team", 4m), ("2026-12-01", "search", 3m), ("2026-12-02", "search", 8m)], byTeam.Select(r => (r.Day, r.Group, r.Spend)));
        Assert.Equal(22, byTeam[1].PromptTokens);
        var byCustomer = await Store.SpendReportAsync(new SpendReportQuery(day, day.AddDays(1), SpendGroup.Customer, CustomerId: "alice"));
        Assert.Equal([("alice", 3m)], byCustomer.Select(r => (r.Group, r.Spend)));
        var byKey = await Store.SpendReportAsync(new SpendReportQuery(day, day.AddDays(10), SpendGroup.ApiKey, ApiKey: "k1"));
        Assert.Equal(27m, byKey.Sum(r => r.Spend));
    }

    [SkippableFact]
    public async Task A_setting_changes_only_from_the_value_its_writer_read()
    {
        Assert.Null(await Store.FindSettingAsync("master_key"));
        // Two writers that both read "unset": one wins.
        var first = await Task.WhenAll(Store.SwapSettingAsync("master_key", null, "one", Now).AsTask(), Store.SwapSettingAsync("master_key", null, "two", Now).AsTask());
        Assert.Single(first, r => r);
        var held = await Store.FindSettingAsync("master_key");
        Assert.Contains(held, new[] { "one", "two" });
        Assert.False(await Store.SwapSettingAsync("master_key", "stale", "three", Now));
        Assert.True(await Store.SwapSettingAsync("master_key", held, "three", Now.AddMinutes(1)));
        Assert.Equal("three", await Store.FindSettingAsync("master_key"));
        Assert.False(await Store.SwapSettingAsync("master_key", null, "four", Now));
        Assert.Null(await Store.FindSettingAsync("other"));
    }
}
