using System.Data.Common;
using LLMux.Governance.Entities;
using Npgsql;

namespace LLMux.Governance.Storage.Postgres;

/// <summary>
/// The shared store for several replicas: PostgreSQL through one <see cref="NpgsqlDataSource"/> (its pool), every call
/// asynchronous end to end, every write one transaction. Spend batches are one round trip each way: the log rows go in
/// with one <c>INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING RETURNING</c> (a retried batch adds nothing twice),
/// and each key, team, user and end user gets one <c>spend = spend + x</c> per batch, in a fixed order so two replicas'
/// batches never deadlock on the same hot rows.
/// </summary>
public sealed class PostgresGovernanceStore : IGovernanceStore, IGovernanceStoreLocks, IAsyncDisposable, IDisposable
{
    private readonly NpgsqlDataSource _source;

    public PostgresGovernanceStore(string connectionString)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        _source = NpgsqlDataSource.Create(ToConnectionString(connectionString));
    }

    /// <summary>
    /// An Npgsql connection string from either form LiteLLM's users write: <c>postgresql://user:pass@host:5432/db?sslmode=require</c>
    /// (<c>DATABASE_URL</c>) or <c>Host=…;Username=…</c>.
    /// </summary>
    public static string ToConnectionString(string value)
    {
        if (!value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) && !value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
            return value;
        var uri = new Uri(value);
        var b = new NpgsqlConnectionStringBuilder { Host = uri.Host, Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port };
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            b.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2) b.Password = Uri.UnescapeDataString(parts[1]);
        }
        var db = uri.AbsolutePath.Trim('/');
        if (db.Length > 0) b.Database = Uri.UnescapeDataString(db);
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            var name = Uri.UnescapeDataString(kv[0]);
            var v = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : "";
            switch (name.ToLowerInvariant())
            {
                case "sslmode": b["SSL Mode"] = v switch { "require" => "Require", "disable" => "Disable", "prefer" => "Prefer", "verify-full" => "VerifyFull", "verify-ca" => "VerifyCA", _ => v }; break;
                case "connection_limit": b.MaxPoolSize = int.Parse(v, System.Globalization.CultureInfo.InvariantCulture); break;
                case "pool_timeout": b.Timeout = int.Parse(v, System.Globalization.CultureInfo.InvariantCulture); break;
                case "schema": b.SearchPath = v; break;
                default: b[name] = v; break;
            }
        }
        return b.ConnectionString;
    }

    public void Dispose() => _source.Dispose();
    public ValueTask DisposeAsync() => _source.DisposeAsync();

    /// <summary>
    /// A session advisory lock (<c>pg_advisory_lock</c>) on a connection of its own, keyed by a digest of the name: every
    /// replica on this database waits for it. If this process dies, PostgreSQL releases it with the connection.
    /// </summary>
    public async ValueTask<IAsyncDisposable> LockAsync(string name, CancellationToken cancellationToken = default)
    {
        var id = BitConverter.ToInt64(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("llmux-lock:" + name)), 0);
        var c = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var cmd = new NpgsqlCommand("SELECT pg_advisory_lock($1)", c) { Parameters = { new() { Value = id } } };
            await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await c.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return new AdvisoryLock(c, id);
    }

    private sealed class AdvisoryLock(NpgsqlConnection connection, long id) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await using var cmd = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", connection) { Parameters = { new() { Value = id } } };
                await cmd.ExecuteNonQueryAsync().ConfigureAwait(false);
            }
            catch (NpgsqlException)
            {
                // The connection is gone, and the lock with it.
            }
            finally
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    public async ValueTask MigrateAsync(CancellationToken cancellationToken = default)
    {
        await using var c = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        // Held until commit: a second replica waits here, then sees every step already recorded.
        await ExecAsync(c, tx, "SELECT pg_advisory_xact_lock($1)", cancellationToken, PostgresMigrations.LockKey).ConfigureAwait(false);
        await ExecAsync(c, tx, """CREATE TABLE IF NOT EXISTS "llmux_schema_migrations" (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)""", cancellationToken).ConfigureAwait(false);
        var applied = new HashSet<int>();
        await using (var cmd = Command(c, tx, """SELECT version FROM "llmux_schema_migrations" """))
        await using (var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false)) applied.Add(r.GetInt32(0));
        foreach (var (version, name, sql) in PostgresMigrations.Steps)
        {
            if (applied.Contains(version)) continue;
            await ExecAsync(c, tx, sql, cancellationToken).ConfigureAwait(false);
            await ExecAsync(c, tx, """INSERT INTO "llmux_schema_migrations"(version, name, applied_at) VALUES ($1, $2, now())""", cancellationToken, version, name).ConfigureAwait(false);
        }
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Versions applied so far (tests, diagnostics).</summary>
    public async Task<IReadOnlyList<int>> AppliedVersionsAsync()
    {
        await using var cmd = _source.CreateCommand("""SELECT version FROM "llmux_schema_migrations" ORDER BY version""");
        await using var r = await cmd.ExecuteReaderAsync().ConfigureAwait(false);
        var list = new List<int>();
        while (await r.ReadAsync().ConfigureAwait(false)) list.Add(r.GetInt32(0));
        return list;
    }

    // ---- keys ----

    private const string KeyColumns = "token, key_name, key_alias, spend, max_budget, soft_budget, budget_duration, budget_reset_at, rpm_limit, tpm_limit, max_parallel_requests, expires, models, aliases, metadata, allowed_routes, team_id, user_id, blocked, created_at, updated_at, created_by, updated_by, allowed_cache_controls, model_max_budget, budget_id, model_rpm_limit, model_tpm_limit";

    public ValueTask<VirtualKey?> FindKeyAsync(string token, CancellationToken cancellationToken = default) =>
        QueryOneAsync($"""SELECT {KeyColumns} FROM "LiteLLM_VerificationToken" WHERE token = $1""", ReadKey, cancellationToken, token);

    public ValueTask<VirtualKey?> FindKeyByAliasAsync(string alias, CancellationToken cancellationToken = default) =>
        QueryOneAsync($"""SELECT {KeyColumns} FROM "LiteLLM_VerificationToken" WHERE key_alias = $1""", ReadKey, cancellationToken, alias);

    public ValueTask<bool> InsertKeyAsync(VirtualKey key, CancellationToken cancellationToken = default) =>
        InsertAsync("LiteLLM_VerificationToken", KeyColumns, KeyValues(key), cancellationToken);

    public async ValueTask<bool> ReplaceKeyAsync(string token, VirtualKey key, CancellationToken cancellationToken = default)
    {
        await using var c = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        // Rolled back on dispose on every early return.
        if (!await SwapKeyRowAsync(c, tx, token, key, cancellationToken).ConfigureAwait(false)) return false;
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>The key row under <paramref name="token"/> replaced by <paramref name="key"/>, its spend rows following; false when the old row is gone or the new one collides (the caller's transaction is then to be dropped).</summary>
    private static async ValueTask<bool> SwapKeyRowAsync(NpgsqlConnection c, NpgsqlTransaction tx, string token, VirtualKey key, CancellationToken cancellationToken)
    {
        if (await ExecAsync(c, tx, """DELETE FROM "LiteLLM_VerificationToken" WHERE token = $1""", cancellationToken, token).ConfigureAwait(false) == 0)
            return false;
        try
        {
            await ExecAsync(c, tx, $"""INSERT INTO "LiteLLM_VerificationToken" ({KeyColumns}) VALUES ({Params(KeyColumns)})""", cancellationToken, KeyValues(key)).ConfigureAwait(false);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return false;
        }
        catch (PostgresException ex) when (IsMissingBudget(ex))
        {
            throw new MissingBudgetException(key.BudgetId);
        }
        // Spend rows follow a regenerated key, so its history stays in one place.
        if (token != key.Token)
            await ExecAsync(c, tx, """UPDATE "LiteLLM_SpendLogs" SET api_key = $1 WHERE api_key = $2""", cancellationToken, key.Token, token).ConfigureAwait(false);
        return true;
    }

    public async ValueTask<bool> RegenerateKeyAsync(string token, VirtualKey key, DateTimeOffset? graceUntil, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var c = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        // Rolled back on dispose on every early return.
        if (!await SwapKeyRowAsync(c, tx, token, key, cancellationToken).ConfigureAwait(false)) return false;
        if (token != key.Token)
        {
            await ExecAsync(c, tx, """UPDATE "LiteLLM_DeprecatedVerificationToken" SET active_token_id = $1 WHERE active_token_id = $2""", cancellationToken, key.Token, token).ConfigureAwait(false);
            // The new hash is a live key now: no grace row may shadow it.
            await ExecAsync(c, tx, """DELETE FROM "LiteLLM_DeprecatedVerificationToken" WHERE token = $1 OR revoke_at <= $2""", cancellationToken, key.Token, now).ConfigureAwait(false);
            if (graceUntil is { } until)
                await ExecAsync(c, tx, """
                    INSERT INTO "LiteLLM_DeprecatedVerificationToken" (token, active_token_id, revoke_at, created_at) VALUES ($1, $2, $3, $4)
                    ON CONFLICT (token) DO UPDATE SET active_token_id = excluded.active_token_id, revoke_at = excluded.revoke_at
                    """, cancellationToken, token, key.Token, until, now).ConfigureAwait(false);
        }
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    public ValueTask<DeprecatedKey?> FindDeprecatedKeyAsync(string token, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        QueryOneAsync("""SELECT token, active_token_id, revoke_at FROM "LiteLLM_DeprecatedVerificationToken" WHERE token = $1 AND revoke_at > $2""",
            static r => new DeprecatedKey(r.GetString(0), r.GetString(1), TimeOf(r, 2)!.Value), cancellationToken, token, now);

    public async ValueTask EndGraceAsync(string activeToken, CancellationToken cancellationToken = default)
    {
        await using var cmd = Command(_source, """DELETE FROM "LiteLLM_DeprecatedVerificationToken" WHERE active_token_id = $1""", activeToken);
        await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public ValueTask<IReadOnlyList<string>?> DeleteKeysAsync(IReadOnlyList<string> tokens, CancellationToken cancellationToken = default) =>
        DeleteAllAsync("LiteLLM_VerificationToken", "token", tokens, """DELETE FROM "LiteLLM_DeprecatedVerificationToken" WHERE active_token_id = $1""", cancellationToken);

    public async ValueTask<(IReadOnlyList<VirtualKey> Keys, int Total)> ListKeysAsync(KeyQuery q, CancellationToken cancellationToken = default)
    {
        var where = new List<string>();
        var args = new List<object?>();
        if (q.UserId is not null) { args.Add(q.UserId); where.Add($"user_id = ${args.Count}"); }
        if (q.TeamId is not null) { args.Add(q.TeamId); where.Add($"team_id = ${args.Count}"); }
        if (q.KeyAlias is not null) { args.Add(q.KeyAlias); where.Add($"key_alias = ${args.Count}"); }
        if (q.KeyHash is not null) { args.Add(q.KeyHash); where.Add($"token = ${args.Count}"); }
        var filter = where.Count == 0 ? "" : " WHERE " + string.Join(" AND ", where);
        await using var c = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        int total;
        await using (var count = Command(c, null, $"""SELECT COUNT(*) FROM "LiteLLM_VerificationToken"{filter}""", [.. args]))
            total = Convert.ToInt32(await count.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        args.Add(q.Size);
        args.Add((q.Page - 1) * q.Size);
        await using var cmd = Command(c, null, $"""SELECT {KeyColumns} FROM "LiteLLM_VerificationToken"{filter} ORDER BY created_at DESC, token LIMIT ${args.Count - 1} OFFSET ${args.Count}""", [.. args]);
        return (await ReadAllAsync(cmd, ReadKey, cancellationToken).ConfigureAwait(false), total);
    }

    private static object?[] KeyValues(VirtualKey k) =>
    [
        k.Token, k.KeyName, k.KeyAlias, k.Spend, k.MaxBudget, k.SoftBudget, k.BudgetDuration, k.BudgetResetAt, k.RpmLimit, k.TpmLimit,
        k.MaxParallelRequests, k.Expires, JsonColumns.Write(k.Models), Auth.ModelAliases.Write(k.Aliases), k.Metadata, JsonColumns.Write(k.AllowedRoutes), k.TeamId, k.UserId,
        k.Blocked, k.CreatedAt, k.UpdatedAt, k.CreatedBy, k.UpdatedBy, JsonColumns.Write(k.AllowedCacheControls), Budgets.ModelBudget.Write(k.ModelMaxBudget),
        k.BudgetId, Limits.ModelLimits.Write(k.ModelRpmLimit), Limits.ModelLimits.Write(k.ModelTpmLimit),
    ];

    private static VirtualKey ReadKey(DbDataReader r) => new()
    {
        Token = r.GetString(0),
        KeyName = r.GetString(1),
        KeyAlias = Str(r, 2),
        Spend = r.GetDecimal(3),
        MaxBudget = Dec(r, 4),
        SoftBudget = Dec(r, 5),
        BudgetDuration = Str(r, 6),
        BudgetResetAt = TimeOf(r, 7),
        RpmLimit = Long(r, 8),
        TpmLimit = Long(r, 9),
        MaxParallelRequests = Long(r, 10),
        Expires = TimeOf(r, 11),
        Models = JsonColumns.ReadList(r.GetString(12)),
        Aliases = Auth.ModelAliases.ReadColumn(r.GetString(13)),
        Metadata = r.GetString(14),
        AllowedRoutes = JsonColumns.ReadList(r.GetString(15)),
        TeamId = Str(r, 16),
        UserId = Str(r, 17),
        Blocked = r.GetBoolean(18),
        CreatedAt = TimeOf(r, 19)!.Value,
        UpdatedAt = TimeOf(r, 20)!.Value,
        CreatedBy = Str(r, 21),
        UpdatedBy = Str(r, 22),
        AllowedCacheControls = JsonColumns.ReadList(r.GetString(23)),
        ModelMaxBudget = Budgets.ModelBudget.ReadColumn(Str(r, 24)),
        BudgetId = Str(r, 25),
        ModelRpmLimit = Limits.ModelLimits.ReadColumn(Str(r, 26)),
        ModelTpmLimit = Limits.ModelLimits.ReadColumn(Str(r, 27)),
    };

    // ---- teams ----

    private const string TeamColumns = "team_id, team_alias, spend, max_budget, soft_budget, budget_duration, budget_reset_at, rpm_limit, tpm_limit, max_parallel_requests, models, metadata, members_with_roles, blocked, created_at, updated_at, model_aliases, model_max_budget, model_rpm_limit, model_tpm_limit";

    public ValueTask<Team?> FindTeamAsync(string teamId, CancellationToken cancellationToken = default) =>
        QueryOneAsync($"""SELECT {TeamColumns} FROM "LiteLLM_TeamTable" WHERE team_id = $1""", ReadTeam, cancellationToken, teamId);

    public ValueTask<bool> InsertTeamAsync(Team team, CancellationToken cancellationToken = default) =>
        InsertAsync("LiteLLM_TeamTable", TeamColumns, TeamValues(team), cancellationToken);

    public ValueTask<bool> ReplaceTeamAsync(Team team, CancellationToken cancellationToken = default) =>
        UpdateAsync("LiteLLM_TeamTable", TeamColumns, TeamValues(team), cancellationToken);

    public ValueTask<IReadOnlyList<string>?> DeleteTeamsAsync(IReadOnlyList<string> teamIds, CancellationToken cancellationToken = default) =>
        DeleteAllAsync("LiteLLM_TeamTable", "team_id", teamIds, """UPDATE "LiteLLM_VerificationToken" SET team_id = NULL WHERE team_id = $1""", cancellationToken);

    public async ValueTask<IReadOnlyList<Team>> ListTeamsAsync(string? userId, CancellationToken cancellationToken = default)
    {
        await using var cmd = userId is null
            ? _source.CreateCommand($"""SELECT {TeamColumns} FROM "LiteLLM_TeamTable" ORDER BY created_at, team_id""")
            : Command(_source, $"""SELECT {TeamColumns} FROM "LiteLLM_TeamTable" t WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(t.members_with_roles::jsonb) m WHERE m->>'user_id' = $1) ORDER BY created_at, team_id""", userId);
        return await ReadAllAsync(cmd, ReadTeam, cancellationToken).ConfigureAwait(false);
    }

    private static object?[] TeamValues(Team t) =>
    [
        t.TeamId, t.TeamAlias, t.Spend, t.MaxBudget, t.SoftBudget, t.BudgetDuration, t.BudgetResetAt, t.RpmLimit, t.TpmLimit, t.MaxParallelRequests,
        JsonColumns.Write(t.Models), t.Metadata, TeamMembersJson.Write(t.Members), t.Blocked, t.CreatedAt, t.UpdatedAt,
        Auth.ModelAliases.Write(t.ModelAliases), Budgets.ModelBudget.Write(t.ModelMaxBudget),
        Limits.ModelLimits.Write(t.ModelRpmLimit), Limits.ModelLimits.Write(t.ModelTpmLimit),
    ];

    private static Team ReadTeam(DbDataReader r) => new()
    {
        TeamId = r.GetString(0),
        TeamAlias = Str(r, 1),
        Spend = r.GetDecimal(2),
        MaxBudget = Dec(r, 3),
        SoftBudget = Dec(r, 4),
        BudgetDuration = Str(r, 5),
        BudgetResetAt = TimeOf(r, 6),
        RpmLimit = Long(r, 7),
        TpmLimit = Long(r, 8),
        MaxParallelRequests = Long(r, 9),
        Models = JsonColumns.ReadList(r.GetString(10)),
        Metadata = r.GetString(11),
        Members = TeamMembersJson.Read(r.GetString(12)),
        Blocked = r.GetBoolean(13),
        CreatedAt = TimeOf(r, 14)!.Value,
        UpdatedAt = TimeOf(r, 15)!.Value,
        ModelAliases = Auth.ModelAliases.ReadColumn(Str(r, 16)),
        ModelMaxBudget = Budgets.ModelBudget.ReadColumn(Str(r, 17)),
        ModelRpmLimit = Limits.ModelLimits.ReadColumn(Str(r, 18)),
        ModelTpmLimit = Limits.ModelLimits.ReadColumn(Str(r, 19)),
    };

    // ---- users ----

    private const string UserColumns = "user_id, user_email, user_alias, user_role, teams, models, spend, max_budget, budget_duration, budget_reset_at, rpm_limit, tpm_limit, metadata, created_at, updated_at, model_max_budget";

    public ValueTask<InternalUser?> FindUserAsync(string userId, CancellationToken cancellationToken = default) =>
        QueryOneAsync($"""SELECT {UserColumns} FROM "LiteLLM_UserTable" WHERE user_id = $1""", ReadUser, cancellationToken, userId);

    public ValueTask<bool> InsertUserAsync(InternalUser user, CancellationToken cancellationToken = default) =>
        InsertAsync("LiteLLM_UserTable", UserColumns, UserValues(user), cancellationToken);

    public ValueTask<bool> ReplaceUserAsync(InternalUser user, CancellationToken cancellationToken = default) =>
        UpdateAsync("LiteLLM_UserTable", UserColumns, UserValues(user), cancellationToken);

    public ValueTask<IReadOnlyList<string>?> DeleteUsersAsync(IReadOnlyList<string> userIds, CancellationToken cancellationToken = default) =>
        DeleteAllAsync("LiteLLM_UserTable", "user_id", userIds, null, cancellationToken);

    public async ValueTask<IReadOnlyList<InternalUser>> ListUsersAsync(CancellationToken cancellationToken = default)
    {
        await using var cmd = _source.CreateCommand($"""SELECT {UserColumns} FROM "LiteLLM_UserTable" ORDER BY created_at, user_id""");
        return await ReadAllAsync(cmd, ReadUser, cancellationToken).ConfigureAwait(false);
    }

    private static object?[] UserValues(InternalUser u) =>
    [
        u.UserId, u.UserEmail, u.UserAlias, u.UserRole, JsonColumns.Write(u.Teams), JsonColumns.Write(u.Models), u.Spend, u.MaxBudget, u.BudgetDuration,
        u.BudgetResetAt, u.RpmLimit, u.TpmLimit, u.Metadata, u.CreatedAt, u.UpdatedAt, Budgets.ModelBudget.Write(u.ModelMaxBudget),
    ];

    private static InternalUser ReadUser(DbDataReader r) => new()
    {
        UserId = r.GetString(0),
        UserEmail = Str(r, 1),
        UserAlias = Str(r, 2),
        UserRole = r.GetString(3),
        Teams = JsonColumns.ReadList(r.GetString(4)),
        Models = JsonColumns.ReadList(r.GetString(5)),
        Spend = r.GetDecimal(6),
        MaxBudget = Dec(r, 7),
        BudgetDuration = Str(r, 8),
        BudgetResetAt = TimeOf(r, 9),
        RpmLimit = Long(r, 10),
        TpmLimit = Long(r, 11),
        Metadata = r.GetString(12),
        CreatedAt = TimeOf(r, 13)!.Value,
        UpdatedAt = TimeOf(r, 14)!.Value,
        ModelMaxBudget = Budgets.ModelBudget.ReadColumn(Str(r, 15)),
    };

    // ---- budgets ----

    private const string BudgetColumns = "budget_id, max_budget, soft_budget, max_parallel_requests, tpm_limit, rpm_limit, model_max_budget, budget_duration, budget_reset_at, created_at, created_by, updated_at, updated_by";

    public ValueTask<BudgetRow?> FindBudgetAsync(string budgetId, CancellationToken cancellationToken = default) =>
        QueryOneAsync($"""SELECT {BudgetColumns} FROM "LiteLLM_BudgetTable" WHERE budget_id = $1""", ReadBudget, cancellationToken, budgetId);

    public ValueTask<bool> InsertBudgetAsync(BudgetRow budget, CancellationToken cancellationToken = default) =>
        InsertAsync("LiteLLM_BudgetTable", BudgetColumns, BudgetValues(budget), cancellationToken);

    public ValueTask<bool> ReplaceBudgetAsync(BudgetRow budget, CancellationToken cancellationToken = default) =>
        UpdateAsync("LiteLLM_BudgetTable", BudgetColumns, BudgetValues(budget), cancellationToken);

    public async ValueTask<IReadOnlyList<BudgetRow>> ListBudgetsAsync(CancellationToken cancellationToken = default)
    {
        await using var cmd = _source.CreateCommand($"""SELECT {BudgetColumns} FROM "LiteLLM_BudgetTable" ORDER BY created_at, budget_id""");
        return await ReadAllAsync(cmd, ReadBudget, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<BudgetDeletion> DeleteBudgetAsync(string budgetId, CancellationToken cancellationToken = default)
    {
        await using var c = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        // The row is locked first, so that no end user or key links to it between the check and the delete.
        await using (var lockRow = Command(c, tx, """SELECT 1 FROM "LiteLLM_BudgetTable" WHERE budget_id = $1 FOR UPDATE""", budgetId))
        {
            if (await lockRow.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is null) return BudgetDeletion.NotFound;
        }
        await using (var used = Command(c, tx, """SELECT (SELECT COUNT(*) FROM "LiteLLM_EndUserTable" WHERE budget_id = $1) + (SELECT COUNT(*) FROM "LiteLLM_VerificationToken" WHERE budget_id = $1)""", budgetId))
        {
            if (Convert.ToInt64(await used.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture) > 0) return BudgetDeletion.InUse;
        }
        try
        {
            await ExecAsync(c, tx, """DELETE FROM "LiteLLM_BudgetTable" WHERE budget_id = $1""", cancellationToken, budgetId).ConfigureAwait(false);
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.ForeignKeyViolation)
        {
            // An end user or key linked to it after the count (its insert held the row's key-share lock until it committed).
            return BudgetDeletion.InUse;
        }
        return BudgetDeletion.Deleted;
    }

    private static object?[] BudgetValues(BudgetRow b) =>
    [
        b.BudgetId, b.MaxBudget, b.SoftBudget, b.MaxParallelRequests, b.TpmLimit, b.RpmLimit, Budgets.ModelBudget.Write(b.ModelMaxBudget),
        b.BudgetDuration, b.BudgetResetAt, b.CreatedAt, b.CreatedBy, b.UpdatedAt, b.UpdatedBy,
    ];

    private static BudgetRow ReadBudget(DbDataReader r) => new()
    {
        BudgetId = r.GetString(0),
        MaxBudget = Dec(r, 1),
        SoftBudget = Dec(r, 2),
        MaxParallelRequests = Long(r, 3),
        TpmLimit = Long(r, 4),
        RpmLimit = Long(r, 5),
        ModelMaxBudget = Budgets.ModelBudget.ReadColumn(Str(r, 6)),
        BudgetDuration = Str(r, 7),
        BudgetResetAt = TimeOf(r, 8),
        CreatedAt = TimeOf(r, 9)!.Value,
        CreatedBy = r.GetString(10),
        UpdatedAt = TimeOf(r, 11)!.Value,
        UpdatedBy = r.GetString(12),
    };

    // ---- customers ----

    private const string CustomerColumns = "user_id, alias, spend, max_budget, budget_duration, budget_reset_at, blocked, allowed_model_region, default_model, created_at, updated_at, budget_id";

    public ValueTask<Customer?> FindCustomerAsync(string userId, CancellationToken cancellationToken = default) =>
        QueryOneAsync($"""SELECT {CustomerColumns} FROM "LiteLLM_EndUserTable" WHERE user_id = $1""", ReadCustomer, cancellationToken, userId);

    public ValueTask<bool> InsertCustomerAsync(Customer customer, CancellationToken cancellationToken = default) =>
        InsertAsync("LiteLLM_EndUserTable", CustomerColumns, CustomerValues(customer), cancellationToken);

    public ValueTask<bool> ReplaceCustomerAsync(Customer customer, CancellationToken cancellationToken = default) =>
        UpdateAsync("LiteLLM_EndUserTable", CustomerColumns, CustomerValues(customer), cancellationToken);

    public ValueTask<IReadOnlyList<string>?> DeleteCustomersAsync(IReadOnlyList<string> userIds, CancellationToken cancellationToken = default) =>
        DeleteAllAsync("LiteLLM_EndUserTable", "user_id", userIds, null, cancellationToken);

    public async ValueTask<IReadOnlyList<Customer>> ListCustomersAsync(CancellationToken cancellationToken = default)
    {
        await using var cmd = _source.CreateCommand($"""SELECT {CustomerColumns} FROM "LiteLLM_EndUserTable" ORDER BY created_at, user_id""");
        return await ReadAllAsync(cmd, ReadCustomer, cancellationToken).ConfigureAwait(false);
    }

    private static object?[] CustomerValues(Customer u) =>
    [
        u.UserId, u.Alias, u.Spend, u.MaxBudget, u.BudgetDuration, u.BudgetResetAt, u.Blocked, u.AllowedModelRegion, u.DefaultModel, u.CreatedAt, u.UpdatedAt, u.BudgetId,
    ];

    private static Customer ReadCustomer(DbDataReader r) => new()
    {
        UserId = r.GetString(0),
        Alias = Str(r, 1),
        Spend = r.GetDecimal(2),
        MaxBudget = Dec(r, 3),
        BudgetDuration = Str(r, 4),
        BudgetResetAt = TimeOf(r, 5),
        Blocked = r.GetBoolean(6),
        AllowedModelRegion = Str(r, 7),
        DefaultModel = Str(r, 8),
        CreatedAt = TimeOf(r, 9)!.Value,
        UpdatedAt = TimeOf(r, 10)!.Value,
        BudgetId = Str(r, 11),
    };

    // ---- spend ----

    private const string SpendColumns = "request_id, call_type, api_key, spend, total_tokens, prompt_tokens, completion_tokens, \"startTime\", \"endTime\", model, model_group, custom_llm_provider, \"user\", team_id, end_user, key_alias, status, cache_hit";

    public async ValueTask WriteSpendAsync(IReadOnlyList<SpendRow> rows, CancellationToken cancellationToken = default)
    {
        if (rows.Count == 0) return;
        var mark = (rows as Spend.SpendBatch)?.Mark;
        var (logRows, unlogged) = Sqlite.SqliteGovernanceStore.SplitLogged(rows);
        rows = logRows;
        var n = rows.Count;
        var ids = new string[n]; var callTypes = new string[n]; var apiKeys = new string[n]; var spends = new decimal[n];
        var totals = new long[n]; var prompts = new long[n]; var completions = new long[n]; var starts = new DateTime[n]; var ends = new DateTime[n];
        var models = new string?[n]; var groups = new string?[n]; var providers = new string?[n]; var users = new string?[n]; var teams = new string?[n];
        var endUsers = new string?[n]; var aliases = new string?[n]; var statuses = new string[n]; var cacheHits = new string[n];
        var byId = new Dictionary<string, SpendRow>(n, StringComparer.Ordinal);
        for (var i = 0; i < n; i++)
        {
            var row = rows[i];
            ids[i] = row.RequestId; callTypes[i] = row.CallType; apiKeys[i] = row.ApiKey; spends[i] = row.Spend; totals[i] = row.TotalTokens;
            prompts[i] = row.PromptTokens; completions[i] = row.CompletionTokens; starts[i] = row.StartTime.UtcDateTime; ends[i] = row.EndTime.UtcDateTime;
            models[i] = row.Model; groups[i] = row.ModelGroup; providers[i] = row.Provider; users[i] = row.UserId; teams[i] = row.TeamId;
            endUsers[i] = row.EndUser; aliases[i] = row.KeyAlias; statuses[i] = row.Status; cacheHits[i] = row.CacheHit ? "True" : "False";
            byId[row.RequestId] = row;
        }
        await using var c = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var inserted = new List<SpendRow>(n);
        if (n > 0)
        {
            await using (var insert = Command(c, tx, $"""
                INSERT INTO "LiteLLM_SpendLogs" ({SpendColumns})
                SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::numeric[], $5::bigint[], $6::bigint[], $7::bigint[], $8::timestamptz[], $9::timestamptz[],
                                     $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[])
                ON CONFLICT (request_id) DO NOTHING
                RETURNING request_id
                """, ids, callTypes, apiKeys, spends, totals, prompts, completions, starts, ends, models, groups, providers, users, teams, endUsers, aliases, statuses, cacheHits))
            await using (var r = await insert.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                // Only rows not written before (a retried batch, a spill file read twice) add their spend.
                while (await r.ReadAsync(cancellationToken).ConfigureAwait(false)) inserted.Add(byId[r.GetString(0)]);
            }
        }
        if (unlogged is not null && (mark is null || await FirstTimeAsync(c, tx, mark, cancellationToken).ConfigureAwait(false))) inserted.AddRange(unlogged);
        var keySums = new SortedDictionary<string, decimal>(StringComparer.Ordinal);
        var teamSums = new SortedDictionary<string, decimal>(StringComparer.Ordinal);
        var userSums = new SortedDictionary<string, decimal>(StringComparer.Ordinal);
        var endUserSums = new SortedDictionary<string, (decimal Spend, DateTimeOffset At)>(StringComparer.Ordinal);
        foreach (var row in inserted)
        {
            if (row.Spend == 0) continue;
            Sum(keySums, row.ApiKey, row.Spend);
            Sum(teamSums, row.TeamId, row.Spend);
            Sum(userSums, row.UserId, row.Spend);
            if (!string.IsNullOrEmpty(row.EndUser))
                endUserSums[row.EndUser] = endUserSums.TryGetValue(row.EndUser, out var e) ? (e.Spend + row.Spend, row.EndTime) : (row.Spend, row.EndTime);
        }
        // One statement per entity per batch, in key order (every replica locks hot rows in the same order: no deadlock).
        var batch = new NpgsqlBatch(c, tx);
        await using (batch)
        {
            foreach (var (id, s) in keySums) Add(batch, """UPDATE "LiteLLM_VerificationToken" SET spend = spend + $2 WHERE token = $1""", id, s);
            foreach (var (id, s) in teamSums) Add(batch, """UPDATE "LiteLLM_TeamTable" SET spend = spend + $2 WHERE team_id = $1""", id, s);
            foreach (var (id, s) in userSums) Add(batch, """UPDATE "LiteLLM_UserTable" SET spend = spend + $2 WHERE user_id = $1""", id, s);
            // An end user's row is created at its first spend (LiteLLM's upsert).
            foreach (var (id, e) in endUserSums)
                Add(batch, """INSERT INTO "LiteLLM_EndUserTable"(user_id, spend, created_at, updated_at) VALUES ($1, $2, $3, $3) ON CONFLICT (user_id) DO UPDATE SET spend = "LiteLLM_EndUserTable".spend + excluded.spend""", id, e.Spend, e.At);
            if (batch.BatchCommands.Count > 0) await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        // Marks older than a day are dropped now and then, outside the spend transaction (no replica waits on it).
        if (mark is not null && Interlocked.Increment(ref _marks) % 256 == 1)
        {
            await using var prune = Command(_source, """DELETE FROM "llmux_spend_batches" WHERE written_at < $1""", DateTimeOffset.UtcNow.AddDays(-1));
            await prune.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        static void Sum(SortedDictionary<string, decimal> sums, string? id, decimal spend)
        {
            if (string.IsNullOrEmpty(id)) return;
            sums[id] = sums.GetValueOrDefault(id) + spend;
        }

        static void Add(NpgsqlBatch batch, string sql, params object?[] args)
        {
            var cmd = new NpgsqlBatchCommand(sql);
            foreach (var a in args) cmd.Parameters.Add(new NpgsqlParameter { Value = Db(a) });
            batch.BatchCommands.Add(cmd);
        }
    }

    public async ValueTask<bool> ResetBudgetAsync(BudgetScope scope, string id, DateTimeOffset dueAt, DateTimeOffset nextReset, CancellationToken cancellationToken = default)
    {
        var (table, idColumn) = scope switch
        {
            BudgetScope.Key => ("LiteLLM_VerificationToken", "token"),
            BudgetScope.Team => ("LiteLLM_TeamTable", "team_id"),
            BudgetScope.Customer => ("LiteLLM_EndUserTable", "user_id"),
            _ => ("LiteLLM_UserTable", "user_id"),
        };
        // Compare-and-set on the reset time: of several replicas resetting the same window, one wins. A row with no
        // reset time of its own counts windows of its linked budget (budget_id) and takes its first one here.
        await using var cmd = Command(_source, $"""UPDATE "{table}" SET spend = 0, budget_reset_at = $1 WHERE {idColumn} = $2 AND (budget_reset_at = $3 OR budget_reset_at IS NULL)""", nextReset, id, dueAt);
        return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    public ValueTask<decimal> KeyModelSpendAsync(string token, string model, DateTimeOffset? since, CancellationToken cancellationToken = default) =>
        ModelSpendAsync(BudgetScope.Key, token, model, since, cancellationToken);

    public async ValueTask<decimal> ModelSpendAsync(BudgetScope owner, string id, string model, DateTimeOffset? since, CancellationToken cancellationToken = default)
    {
        var column = Sqlite.SqliteGovernanceStore.SpendLogOwner(owner);
        await using var cmd = since is { } s
            ? Command(_source, $"""SELECT COALESCE(SUM(spend), 0) FROM "LiteLLM_SpendLogs" WHERE {column} = $1 AND (model_group = $2 OR model = $3) AND "startTime" >= $4""", id, model, Budgets.ModelBudget.Bare(model), s)
            : Command(_source, $"""SELECT COALESCE(SUM(spend), 0) FROM "LiteLLM_SpendLogs" WHERE {column} = $1 AND (model_group = $2 OR model = $3)""", id, model, Budgets.ModelBudget.Bare(model));
        return Convert.ToDecimal(await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async ValueTask<IReadOnlyList<SpendRow>> SpendLogsAsync(SpendQuery q, CancellationToken cancellationToken = default)
    {
        var where = new List<string>();
        var args = new List<object?>();
        if (q.ApiKey is not null) { args.Add(q.ApiKey); where.Add($"api_key = ${args.Count}"); }
        if (q.UserId is not null) { args.Add(q.UserId); where.Add($"\"user\" = ${args.Count}"); }
        if (q.TeamId is not null) { args.Add(q.TeamId); where.Add($"team_id = ${args.Count}"); }
        if (q.RequestId is not null) { args.Add(q.RequestId); where.Add($"request_id = ${args.Count}"); }
        if (q.Start is { } s) { args.Add(s); where.Add($"\"startTime\" >= ${args.Count}"); }
        if (q.End is { } e) { args.Add(e); where.Add($"\"startTime\" < ${args.Count}"); }
        args.Add(q.Limit);
        var filter = where.Count == 0 ? "" : " WHERE " + string.Join(" AND ", where);
        await using var cmd = Command(_source, $"""SELECT {SpendColumns} FROM "LiteLLM_SpendLogs"{filter} ORDER BY "startTime" DESC, request_id LIMIT ${args.Count}""", [.. args]);
        return await ReadAllAsync(cmd, static r => new SpendRow
        {
            RequestId = r.GetString(0),
            CallType = r.GetString(1),
            ApiKey = r.GetString(2),
            Spend = r.GetDecimal(3),
            PromptTokens = r.GetInt64(5),
            CompletionTokens = r.GetInt64(6),
            StartTime = TimeOf(r, 7)!.Value,
            EndTime = TimeOf(r, 8)!.Value,
            Model = Str(r, 9),
            ModelGroup = Str(r, 10),
            Provider = Str(r, 11),
            UserId = Str(r, 12),
            TeamId = Str(r, 13),
            EndUser = Str(r, 14),
            KeyAlias = Str(r, 15),
            Status = r.GetString(16),
            CacheHit = r.GetString(17) == "True",
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<SpendReportRow>> SpendReportAsync(SpendReportQuery q, CancellationToken cancellationToken = default)
    {
        var args = new List<object?> { q.Start, q.End };
        var where = new List<string> { "sl.\"startTime\" >= $1", "sl.\"startTime\" < $2" };
        if (q.ApiKey is not null) { args.Add(q.ApiKey); where.Add($"sl.api_key = ${args.Count}"); }
        if (q.UserId is not null) { args.Add(q.UserId); where.Add($"sl.\"user\" = ${args.Count}"); }
        if (q.TeamId is not null) { args.Add(q.TeamId); where.Add($"sl.team_id = ${args.Count}"); }
        if (q.CustomerId is not null) { args.Add(q.CustomerId); where.Add($"sl.end_user = ${args.Count}"); }
        var group = q.GroupBy switch
        {
            SpendGroup.Team => "COALESCE(tt.team_alias, sl.team_id, 'Unassigned Team')",
            SpendGroup.Customer => "sl.end_user",
            _ => "sl.api_key",
        };
        await using var cmd = Command(_source, $"""
            SELECT to_char(sl."startTime" AT TIME ZONE 'UTC', 'YYYY-MM-DD'), {group}, sl.model, sl.api_key, SUM(sl.spend), SUM(sl.prompt_tokens)::bigint, SUM(sl.completion_tokens)::bigint
            FROM "LiteLLM_SpendLogs" sl LEFT JOIN "LiteLLM_TeamTable" tt ON sl.team_id = tt.team_id
            WHERE {string.Join(" AND ", where)}
            GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
            """, [.. args]);
        return await ReadAllAsync(cmd, static r => new SpendReportRow(r.GetString(0), Str(r, 1), Str(r, 2), r.GetString(3), r.GetDecimal(4), r.GetInt64(5), r.GetInt64(6)), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Number of spend rows (tests: nothing lost).</summary>
    public async Task<long> CountSpendRowsAsync()
    {
        await using var cmd = _source.CreateCommand("""SELECT COUNT(*) FROM "LiteLLM_SpendLogs" """);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync().ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
    }

    private int _marks;

    /// <summary>
    /// Whether this batch's unlogged rows are new to the store: their mark is kept in the batch's own transaction, so
    /// a batch written again (its commit answer lost) adds nothing.
    /// </summary>
    private async ValueTask<bool> FirstTimeAsync(NpgsqlConnection c, NpgsqlTransaction tx, string mark, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        return await ExecAsync(c, tx, """INSERT INTO "llmux_spend_batches"(marker, written_at) VALUES ($1, $2) ON CONFLICT (marker) DO NOTHING""", ct,
            mark, now).ConfigureAwait(false) == 1;
    }

    public async ValueTask<string?> FindSettingAsync(string name, CancellationToken cancellationToken = default) =>
        await QueryOneAsync("""SELECT value FROM "llmux_settings" WHERE name = $1""", static r => r.GetString(0), cancellationToken, name).ConfigureAwait(false);

    public async ValueTask<bool> SwapSettingAsync(string name, string? expected, string value, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var cmd = expected is null
            ? Command(_source, """INSERT INTO "llmux_settings"(name, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING""", name, value, now)
            : Command(_source, """UPDATE "llmux_settings" SET value = $2, updated_at = $3 WHERE name = $1 AND value = $4""", name, value, now, expected);
        return await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    // ---- helpers ----

    private async ValueTask<IReadOnlyList<string>?> DeleteAllAsync(string table, string idColumn, IReadOnlyList<string> ids, string? alsoPerId, CancellationToken ct)
    {
        await using var c = await _source.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var tx = await c.BeginTransactionAsync(ct).ConfigureAwait(false);
        var deleted = new List<string>(ids.Count);
        foreach (var id in ids)
        {
            // Rolled back on dispose when an id is unknown: all or nothing.
            if (await ExecAsync(c, tx, $"""DELETE FROM "{table}" WHERE {idColumn} = $1""", ct, id).ConfigureAwait(false) == 0) return null;
            if (alsoPerId is not null) await ExecAsync(c, tx, alsoPerId, ct, id).ConfigureAwait(false);
            deleted.Add(id);
        }
        await tx.CommitAsync(ct).ConfigureAwait(false);
        return deleted;
    }

    private async ValueTask<T?> QueryOneAsync<T>(string sql, Func<DbDataReader, T> read, CancellationToken ct, params object?[] args) where T : class
    {
        await using var cmd = Command(_source, sql, args);
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        return await r.ReadAsync(ct).ConfigureAwait(false) ? read(r) : null;
    }

    private static async ValueTask<IReadOnlyList<T>> ReadAllAsync<T>(NpgsqlCommand cmd, Func<DbDataReader, T> read, CancellationToken ct)
    {
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var list = new List<T>();
        while (await r.ReadAsync(ct).ConfigureAwait(false)) list.Add(read(r));
        return list;
    }

    /// <summary>One row into <paramref name="table"/>; false when a unique key is already taken.</summary>
    private async ValueTask<bool> InsertAsync(string table, string columns, object?[] values, CancellationToken ct)
    {
        await using var cmd = Command(_source, $"""INSERT INTO "{table}" ({columns}) VALUES ({Params(columns)})""", values);
        try
        {
            await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            return true;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return false;
        }
        catch (PostgresException ex) when (IsMissingBudget(ex))
        {
            throw new MissingBudgetException(BudgetIdOf(columns, values));
        }
    }

    /// <summary>
    /// A write naming a budget row that is not there: the <c>budget_id</c> foreign keys of migration 12, or the ones a
    /// database LiteLLM's Prisma schema created already has (<c>..._budget_id_fkey</c>).
    /// </summary>
    private static bool IsMissingBudget(PostgresException ex) =>
        ex.SqlState == PostgresErrorCodes.ForeignKeyViolation
        && (ex.ConstraintName is "fk_end_user_budget" or "fk_token_budget" || ex.ConstraintName?.Contains("budget_id", StringComparison.Ordinal) == true);

    private static string? BudgetIdOf(string columns, object?[] values)
    {
        var i = Array.IndexOf(columns.Split(", "), "budget_id");
        return i >= 0 ? values[i] as string : null;
    }

    /// <summary>Every column of the row whose first column matches; false when there is no such row.</summary>
    private async ValueTask<bool> UpdateAsync(string table, string columns, object?[] values, CancellationToken ct)
    {
        var names = columns.Split(", ");
        var sets = string.Join(", ", names.Skip(1).Select(static (c, i) => $"{c} = ${i + 2}"));
        await using var cmd = Command(_source, $"""UPDATE "{table}" SET {sets} WHERE {names[0]} = $1""", values);
        try
        {
            return await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
        }
        catch (PostgresException ex) when (IsMissingBudget(ex))
        {
            throw new MissingBudgetException(BudgetIdOf(columns, values));
        }
    }

    private static async ValueTask<int> ExecAsync(NpgsqlConnection c, NpgsqlTransaction? tx, string sql, CancellationToken ct, params object?[] args)
    {
        await using var cmd = Command(c, tx, sql, args);
        return await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private static NpgsqlCommand Command(NpgsqlConnection c, NpgsqlTransaction? tx, string sql, params object?[] args)
    {
        var cmd = new NpgsqlCommand(sql, c, tx);
        foreach (var a in args) cmd.Parameters.Add(new NpgsqlParameter { Value = Db(a) });
        return cmd;
    }

    private static NpgsqlCommand Command(NpgsqlDataSource source, string sql, params object?[] args)
    {
        var cmd = source.CreateCommand(sql);
        foreach (var a in args) cmd.Parameters.Add(new NpgsqlParameter { Value = Db(a) });
        return cmd;
    }

    private static object Db(object? value) => value switch
    {
        null => DBNull.Value,
        // timestamptz takes UTC only.
        DateTimeOffset t => t.ToUniversalTime(),
        _ => value,
    };

    private static string Params(string columns) => string.Join(", ", Enumerable.Range(1, columns.Split(", ").Length).Select(static i => "$" + i));

    private static DateTimeOffset? TimeOf(DbDataReader r, int i) => r.IsDBNull(i) ? null : new DateTimeOffset(DateTime.SpecifyKind(r.GetDateTime(i), DateTimeKind.Utc));
    private static string? Str(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);
    private static decimal? Dec(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetDecimal(i);
    private static long? Long(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt64(i);
}
