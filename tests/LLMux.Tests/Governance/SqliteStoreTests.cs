using LLMux.Governance.Budgets;
using LLMux.Governance.Entities;
using LLMux.Governance.Storage.Sqlite;

namespace LLMux.Tests.Governance;

/// <summary>The store contract on an SQLite file.</summary>
public sealed class SqliteStoreContractTests : GovernanceStoreContract
{
    private string _path = null!;

    protected override async Task<LLMux.Governance.Storage.IGovernanceStore?> CreateAsync()
    {
        _path = Path.Combine(Path.GetTempPath(), "llmux-contract-" + Guid.NewGuid().ToString("N") + ".db");
        var store = new SqliteGovernanceStore(_path);
        await store.MigrateAsync();
        return store;
    }

    protected override Task DestroyAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var f in Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(_path) + "*")) File.Delete(f);
        return Task.CompletedTask;
    }
}

public sealed class SqliteStoreTests
{
    [Fact]
    public async Task Migrations_are_versioned_and_idempotent_even_when_two_processes_start_at_once()
    {
        var path = Path.Combine(Path.GetTempPath(), "llmux-mig-" + Guid.NewGuid().ToString("N") + ".db");
        try
        {
            var a = new SqliteGovernanceStore(path);
            var b = new SqliteGovernanceStore(path);
            await Task.WhenAll(Task.Run(() => a.MigrateAsync().AsTask()), Task.Run(() => b.MigrateAsync().AsTask()));
            await a.MigrateAsync();
            Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13], a.AppliedVersions());
            var now = DateTimeOffset.UtcNow;
            Assert.True(await a.InsertKeyAsync(new VirtualKey { Token = "t", KeyName = "sk-...abcd", KeyAlias = "x", CreatedAt = now, UpdatedAt = now }));
            Assert.False(await b.InsertKeyAsync(new VirtualKey { Token = "u", KeyName = "sk-...abcd", KeyAlias = "x", CreatedAt = now, UpdatedAt = now }));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            foreach (var f in Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(path) + "*")) File.Delete(f);
        }
    }

    [Theory]
    [InlineData("30s", 30)]
    [InlineData("15m", 900)]
    [InlineData("1h", 3600)]
    [InlineData("1d", 86400)]
    [InlineData("7d", 604800)]
    [InlineData("2w", 1209600)]
    public void Durations_parse_as_LiteLLM_writes_them(string text, int seconds)
    {
        Assert.True(BudgetDuration.TryParse(text, out var d));
        var from = new DateTimeOffset(2026, 1, 31, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(from.AddSeconds(seconds), d.After(from));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0d")]
    [InlineData("d")]
    [InlineData("3y")]
    [InlineData("-1h")]
    public void Bad_durations_are_refused(string text) => Assert.False(BudgetDuration.TryParse(text, out _));

    [Fact]
    public void A_month_is_a_calendar_month_and_windows_stay_on_their_grid()
    {
        Assert.True(BudgetDuration.TryParse("1mo", out var mo));
        Assert.Equal(new DateTimeOffset(2026, 2, 28, 0, 0, 0, TimeSpan.Zero), mo.After(new DateTimeOffset(2026, 1, 31, 0, 0, 0, TimeSpan.Zero)));
        Assert.True(BudgetDuration.TryParse("1h", out var h));
        var due = new DateTimeOffset(2026, 1, 1, 10, 0, 0, TimeSpan.Zero);
        Assert.Equal(due.AddHours(4), h.NextAfter(due, due.AddHours(3).AddMinutes(5)));
    }
}
