using Microsoft.Data.Sqlite;

namespace LLMux.Governance.Storage.Sqlite;

/// <summary>
/// The Batches API's batches in the embedded SQLite file (the governance database when there is one). Each call is
/// one statement on a pooled connection, so two processes on the same file see each other's leases at once; the
/// lease is taken by one conditional <c>UPDATE</c>, which SQLite serialises.
/// </summary>
public sealed class SqliteBatchStore(string path) : IBatchStore
{
    private const string Terminal = "('completed', 'failed', 'expired', 'cancelled')";
    private const string Columns = "id, owner, team_id, created_at, status, state, cancel_requested_at, lease_holder, lease_until";

    private readonly string _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true, DefaultTimeout = 30 }.ToString();

    public ValueTask MigrateAsync(CancellationToken cancellationToken = default) => new SqliteGovernanceStore(path).MigrateAsync(cancellationToken);

    private SqliteConnection Open()
    {
        var c = new SqliteConnection(_connectionString);
        c.Open();
        using var pragma = c.CreateCommand();
        pragma.CommandText = "PRAGMA busy_timeout = 5000;";
        pragma.ExecuteNonQuery();
        return c;
    }

    private static SqliteCommand Command(SqliteConnection c, string sql, params (string Name, object? Value)[] args)
    {
        var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (name, value) in args) cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return cmd;
    }

    public ValueTask InsertAsync(BatchRow row, CancellationToken cancellationToken = default)
    {
        using var c = Open();
        using var cmd = Command(c, $"""INSERT INTO "llmux_batches" ({Columns}) VALUES ($id, $owner, $team, $created, $status, $state, NULL, NULL, 0)""",
            ("$id", row.Id), ("$owner", row.Owner), ("$team", row.TeamId), ("$created", row.CreatedAt), ("$status", row.Status), ("$state", row.State));
        cmd.ExecuteNonQuery();
        return ValueTask.CompletedTask;
    }

    public ValueTask<BatchRow?> FindAsync(string id, CancellationToken cancellationToken = default)
    {
        using var c = Open();
        using var cmd = Command(c, $"""SELECT {Columns} FROM "llmux_batches" WHERE id = $id""", ("$id", id));
        using var r = cmd.ExecuteReader();
        return new(r.Read() ? Read(r) : null);
    }

    public ValueTask<IReadOnlyList<BatchRow>> ListAsync(string? owner, string? teamId, CancellationToken cancellationToken = default)
    {
        using var c = Open();
        var all = owner is null && teamId is null;
        using var cmd = Command(c, $"""SELECT {Columns} FROM "llmux_batches" {(all ? "" : "WHERE owner = $owner OR (team_id IS NOT NULL AND team_id = $team)")} ORDER BY created_at DESC, id DESC""",
            ("$owner", owner), ("$team", teamId));
        using var r = cmd.ExecuteReader();
        var list = new List<BatchRow>();
        while (r.Read()) list.Add(Read(r));
        return new(list);
    }

    public ValueTask<IReadOnlyList<string>> RunnableAsync(long nowMs, int limit, CancellationToken cancellationToken = default)
    {
        using var c = Open();
        using var cmd = Command(c, $"""SELECT id FROM "llmux_batches" WHERE status NOT IN {Terminal} AND (lease_holder IS NULL OR lease_until < $now) ORDER BY created_at, id LIMIT $limit""",
            ("$now", nowMs), ("$limit", limit));
        using var r = cmd.ExecuteReader();
        var list = new List<string>();
        while (r.Read()) list.Add(r.GetString(0));
        return new(list);
    }

    public ValueTask<bool> TryLeaseAsync(string id, string holder, long nowMs, long untilMs, CancellationToken cancellationToken = default)
    {
        using var c = Open();
        using var cmd = Command(c, $"""
            UPDATE "llmux_batches" SET lease_holder = $holder, lease_until = $until
            WHERE id = $id AND status NOT IN {Terminal} AND (lease_holder IS NULL OR lease_holder = $holder OR lease_until < $now)
            """, ("$holder", holder), ("$until", untilMs), ("$id", id), ("$now", nowMs));
        return new(cmd.ExecuteNonQuery() == 1);
    }

    public ValueTask<(bool Saved, long? CancelRequestedAt)> SaveAsync(string id, string holder, string status, string state, CancellationToken cancellationToken = default)
    {
        using var c = Open();
        using var cmd = Command(c, """UPDATE "llmux_batches" SET status = $status, state = $state WHERE id = $id AND lease_holder = $holder RETURNING cancel_requested_at""",
            ("$status", status), ("$state", state), ("$id", id), ("$holder", holder));
        using var r = cmd.ExecuteReader();
        if (!r.Read()) return new((false, null));
        return new((true, r.IsDBNull(0) ? null : r.GetInt64(0)));
    }

    public ValueTask ReleaseAsync(string id, string holder, CancellationToken cancellationToken = default)
    {
        using var c = Open();
        using var cmd = Command(c, """UPDATE "llmux_batches" SET lease_holder = NULL, lease_until = 0 WHERE id = $id AND lease_holder = $holder""", ("$id", id), ("$holder", holder));
        cmd.ExecuteNonQuery();
        return ValueTask.CompletedTask;
    }

    public ValueTask<bool> RequestCancelAsync(string id, long at, CancellationToken cancellationToken = default)
    {
        using var c = Open();
        using var cmd = Command(c, $"""UPDATE "llmux_batches" SET cancel_requested_at = COALESCE(cancel_requested_at, $at) WHERE id = $id AND status NOT IN {Terminal}""", ("$at", at), ("$id", id));
        return new(cmd.ExecuteNonQuery() == 1);
    }

    private static BatchRow Read(SqliteDataReader r) => new()
    {
        Id = r.GetString(0),
        Owner = r.GetString(1),
        TeamId = r.IsDBNull(2) ? null : r.GetString(2),
        CreatedAt = r.GetInt64(3),
        Status = r.GetString(4),
        State = r.GetString(5),
        CancelRequestedAt = r.IsDBNull(6) ? null : r.GetInt64(6),
        LeaseHolder = r.IsDBNull(7) ? null : r.GetString(7),
        LeaseUntil = r.GetInt64(8),
    };
}
