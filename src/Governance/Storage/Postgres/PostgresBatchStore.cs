using System.Data.Common;
using Npgsql;

namespace LLMux.Governance.Storage.Postgres;

/// <summary>
/// The Batches API's batches in PostgreSQL, shared by every replica on the database. The lease is taken by one
/// conditional <c>UPDATE</c> (row-locked, so two replicas racing for a batch cannot both win); saves are conditional on
/// holding it, so a replica whose lease lapsed and was taken over can no longer write the batch.
/// </summary>
public sealed class PostgresBatchStore : IBatchStore, IAsyncDisposable
{
    private const string Terminal = "('completed', 'failed', 'expired', 'cancelled')";
    private const string Columns = "id, owner, team_id, created_at, status, state, cancel_requested_at, lease_holder, lease_until";

    private readonly NpgsqlDataSource _source;
    private readonly string _connectionString;

    public PostgresBatchStore(string connectionString)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        _connectionString = PostgresGovernanceStore.ToConnectionString(connectionString);
        _source = NpgsqlDataSource.Create(_connectionString);
    }

    public ValueTask DisposeAsync() => _source.DisposeAsync();

    public async ValueTask MigrateAsync(CancellationToken cancellationToken = default)
    {
        await using var governance = new PostgresGovernanceStore(_connectionString);
        await governance.MigrateAsync(cancellationToken).ConfigureAwait(false);
    }

    private NpgsqlCommand Command(string sql, params object?[] args)
    {
        var cmd = _source.CreateCommand(sql);
        foreach (var a in args) cmd.Parameters.Add(new NpgsqlParameter { Value = a ?? DBNull.Value });
        return cmd;
    }

    public async ValueTask InsertAsync(BatchRow row, CancellationToken cancellationToken = default)
    {
        await using var cmd = Command($"""INSERT INTO "llmux_batches" ({Columns}) VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL, 0)""",
            row.Id, row.Owner, row.TeamId, row.CreatedAt, row.Status, row.State);
        await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<BatchRow?> FindAsync(string id, CancellationToken cancellationToken = default)
    {
        await using var cmd = Command($"""SELECT {Columns} FROM "llmux_batches" WHERE id = $1""", id);
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await r.ReadAsync(cancellationToken).ConfigureAwait(false) ? Read(r) : null;
    }

    public async ValueTask<IReadOnlyList<BatchRow>> ListAsync(string? owner, string? teamId, CancellationToken cancellationToken = default)
    {
        var all = owner is null && teamId is null;
        await using var cmd = all
            ? Command($"""SELECT {Columns} FROM "llmux_batches" ORDER BY created_at DESC, id DESC""")
            : Command($"""SELECT {Columns} FROM "llmux_batches" WHERE owner = $1 OR (team_id IS NOT NULL AND team_id = $2) ORDER BY created_at DESC, id DESC""", owner ?? "", teamId);
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var list = new List<BatchRow>();
        while (await r.ReadAsync(cancellationToken).ConfigureAwait(false)) list.Add(Read(r));
        return list;
    }

    public async ValueTask<IReadOnlyList<string>> RunnableAsync(long nowMs, int limit, CancellationToken cancellationToken = default)
    {
        await using var cmd = Command($"""SELECT id FROM "llmux_batches" WHERE status NOT IN {Terminal} AND (lease_holder IS NULL OR lease_until < $1) ORDER BY created_at, id LIMIT $2""", nowMs, limit);
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var list = new List<string>();
        while (await r.ReadAsync(cancellationToken).ConfigureAwait(false)) list.Add(r.GetString(0));
        return list;
    }

    public async ValueTask<bool> TryLeaseAsync(string id, string holder, long nowMs, long untilMs, CancellationToken cancellationToken = default)
    {
        await using var cmd = Command($"""
            UPDATE "llmux_batches" SET lease_holder = $1, lease_until = $2
            WHERE id = $3 AND status NOT IN {Terminal} AND (lease_holder IS NULL OR lease_holder = $1 OR lease_until < $4)
            """, holder, untilMs, id, nowMs);
        return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    public async ValueTask<(bool Saved, long? CancelRequestedAt)> SaveAsync(string id, string holder, string status, string state, CancellationToken cancellationToken = default)
    {
        await using var cmd = Command("""UPDATE "llmux_batches" SET status = $1, state = $2 WHERE id = $3 AND lease_holder = $4 RETURNING cancel_requested_at""", status, state, id, holder);
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await r.ReadAsync(cancellationToken).ConfigureAwait(false)) return (false, null);
        return (true, r.IsDBNull(0) ? null : r.GetInt64(0));
    }

    public async ValueTask ReleaseAsync(string id, string holder, CancellationToken cancellationToken = default)
    {
        await using var cmd = Command("""UPDATE "llmux_batches" SET lease_holder = NULL, lease_until = 0 WHERE id = $1 AND lease_holder = $2""", id, holder);
        await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<bool> RequestCancelAsync(string id, long at, CancellationToken cancellationToken = default)
    {
        await using var cmd = Command($"""UPDATE "llmux_batches" SET cancel_requested_at = COALESCE(cancel_requested_at, $1) WHERE id = $2 AND status NOT IN {Terminal}""", at, id);
        return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    private static BatchRow Read(DbDataReader r) => new()
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
