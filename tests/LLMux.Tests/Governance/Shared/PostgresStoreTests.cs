using LLMux.Governance.Storage;
using LLMux.Governance.Storage.Postgres;

namespace LLMux.Tests.Governance.Shared;

/// <summary>The store contract on a real PostgreSQL (a fresh database per test).</summary>
public sealed class PostgresStoreContractTests : GovernanceStoreContract
{
    private TestDatabase? _db;
    private PostgresGovernanceStore? _store;

    protected override async Task<IGovernanceStore?> CreateAsync()
    {
        // Without a server the test body skips (or fails under CI) at its first use of the store.
        if (Environment.GetEnvironmentVariable("LLMUX_TEST_POSTGRES") is not { Length: > 0 }) return null;
        _db = await TestServices.NewDatabaseAsync();
        _store = new PostgresGovernanceStore(_db.ConnectionString);
        await _store.MigrateAsync();
        return _store;
    }

    protected override async Task DestroyAsync()
    {
        if (_store is not null) await _store.DisposeAsync();
        if (_db is not null) await _db.DisposeAsync();
    }

    protected override IGovernanceStore Unavailable() => throw new InvalidOperationException(TestServices.Postgres);
}

public sealed class PostgresStoreTests
{
    [SkippableFact]
    public async Task Migrations_are_applied_once_when_three_replicas_start_at_once()
    {
        await using var db = await TestServices.NewDatabaseAsync();
        var stores = Enumerable.Range(0, 3).Select(_ => new PostgresGovernanceStore(db.ConnectionString)).ToArray();
        try
        {
            await Task.WhenAll(stores.Select(s => Task.Run(() => s.MigrateAsync().AsTask())));
            await stores[0].MigrateAsync();
            Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14], await stores[0].AppliedVersionsAsync());
        }
        finally
        {
            foreach (var s in stores) await s.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("postgresql://llmux:p%40ss@db.internal:6543/gateway?sslmode=require&connection_limit=20", "db.internal", 6543, "llmux", "p@ss", "gateway")]
    [InlineData("postgres://u@localhost/llmux", "localhost", 5432, "u", null, "llmux")]
    public void A_database_url_becomes_an_Npgsql_connection_string(string url, string host, int port, string user, string? password, string database)
    {
        var b = new Npgsql.NpgsqlConnectionStringBuilder(PostgresGovernanceStore.ToConnectionString(url));
        Assert.Equal(host, b.Host);
        Assert.Equal(port, b.Port);
        Assert.Equal(user, b.Username);
        Assert.Equal(password, b.Password);
        Assert.Equal(database, b.Database);
    }
}
