using Npgsql;

namespace LLMux.Tests.Governance.Shared;

/// <summary>
/// The PostgreSQL and Redis that <c>.ci/services.sh</c> starts (<c>LLMUX_TEST_POSTGRES</c>, <c>REDIS_URL</c>). Without
/// them a test skips with the reason, except under <c>CI=true</c>, where it fails: CI must run these.
/// </summary>
internal static class TestServices
{
    private static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static string Postgres => Require("LLMUX_TEST_POSTGRES", "PostgreSQL");

    public static string RedisUrl => Require("REDIS_URL", "Redis");

    private static string Require(string variable, string what)
    {
        if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } v) return v;
        var message = $"{what} is not available: `{variable}` is not set (run `source .ci/services.sh` first; .ci/run does)";
        if (InCi) Assert.Fail(message);
        Skip.If(true, message);
        return "";
    }

    /// <summary>A fresh, empty database on the test server (dropped by disposing the result).</summary>
    public static async Task<TestDatabase> NewDatabaseAsync()
    {
        var admin = Postgres;
        var name = "llmux_test_" + Guid.NewGuid().ToString("N")[..12];
        await using (var c = new NpgsqlConnection(admin))
        {
            await c.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", c);
            await cmd.ExecuteNonQueryAsync();
        }
        var b = new NpgsqlConnectionStringBuilder(admin) { Database = name };
        return new TestDatabase(admin, name, b.ConnectionString);
    }
}

internal sealed class TestDatabase(string admin, string name, string connectionString) : IAsyncDisposable
{
    public string ConnectionString { get; } = connectionString;
    public string Name { get; } = name;

    /// <summary>The same database as a <c>postgresql://</c> URL (as <c>database_url</c> is written).</summary>
    public string Url
    {
        get
        {
            var b = new NpgsqlConnectionStringBuilder(ConnectionString);
            var auth = b.Password is { Length: > 0 } p ? $"{Uri.EscapeDataString(b.Username!)}:{Uri.EscapeDataString(p)}@" : $"{Uri.EscapeDataString(b.Username!)}@";
            return $"postgresql://{auth}{b.Host}:{b.Port}/{Name}";
        }
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            await using var c = new NpgsqlConnection(admin);
            await c.OpenAsync();
            await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)", c);
            await cmd.ExecuteNonQueryAsync();
        }
        catch (NpgsqlException)
        {
            // The server is gone (a test stopped it); .ci/services.sh removes its directory anyway.
        }
    }
}
