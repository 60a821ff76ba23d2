using System.Globalization;
using LLMux.Governance.Entities;
using Microsoft.Data.Sqlite;

namespace LLMux.Governance.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite file (WAL journal, so readers never wait for the spend writer). Connections come
/// from Microsoft.Data.Sqlite's pool; every write is one transaction. The async methods complete synchronously:
/// SQLite is in-process, and its ADO.NET async API is synchronous underneath anyway.
/// </summary>
public sealed class SqliteGovernanceStore : IGovernanceStore, IDisposable
{
    private readonly string _connectionString;
    // An in-memory database lives as long as one connection to it is open.
    private readonly SqliteConnection? _keepAlive;

    public SqliteGovernanceStore(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } dir) Directory.CreateDirectory(dir);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true, DefaultTimeout = 30 }.ToString();
    }

    private SqliteGovernanceStore(string connectionString, bool keepAlive)
    {
        _connectionString = connectionString;
        if (keepAlive) { _keepAlive = new SqliteConnection(connectionString); _keepAlive.Open(); }
    }

    /// <summary>A private in-memory database (tests; inline configs with no <c>database_path</c>): gone when disposed.</summary>
    public static SqliteGovernanceStore InMemory() => new(
        new SqliteConnectionStringBuilder { DataSource = "llmux-" + Guid.NewGuid().ToString("N"), Mode = SqliteOpenMode.Memory, Cache = SqliteCacheMode.Shared }.ToString(), keepAlive: true);

    public void Dispose() => _keepAlive?.Dispose();

    public string ConnectionString => _connectionString;

    private SqliteConnection Open()
    {
        var c = new SqliteConnection(_connectionString);
        c.Open();
        using var pragma = c.CreateCommand();
        pragma.CommandText = "PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;";
        pragma.ExecuteNonQuery();
        return c;
    }

    public ValueTask MigrateAsync(CancellationToken cancellationToken = default)
    {
        using var c = Open();
        Exec(c, null, "PRAGMA journal_mode = WAL;");
        Exec(c, null, """CREATE TABLE IF NOT EXISTS "llmux_schema_migrations" (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);""");
        foreach (var (version, name, sql) in SqliteMigrations.Steps)
        {
            // BEGIN IMMEDIATE takes the write lock before the check, so a second process waits, then sees the step applied.
            using var tx = c.BeginTransaction(deferred: false);
            using (var check = Command(c, tx, """SELECT COUNT(*) FROM "llmux_schema_migrations" WHERE version = $v""", ("$v", version)))
            {
                if (Convert.ToInt64(check.ExecuteScalar(), CultureInfo.InvariantCulture) > 0) { tx.Rollback(); continue; }
            }
            Exec(c, tx, sql);
            using (var mark = Command(c, tx, """INSERT INTO "llmux_schema_migrations"(version, name, applied_at) VALUES ($v, $n, $t)""", ("$v", version), ("$n", name), ("$t", Time(DateTimeOffset.UtcNow))))
                mark.ExecuteNonQuery();
            tx.Commit();
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>Versions applied so far (tests, <c>llmux</c> diagnostics).</summary>
    public IReadOnlyList<int> AppliedVersions()
    {
        using var c = Open();
        using var cmd = Command(c, null, """SELECT version FROM "llmux_schema_migrations" ORDER BY version""");
        using var r = cmd.ExecuteReader();
        var list = new List<int>();
        while (r.Read()) list.Add(r.GetInt32(0));
        return list;
    }

    // ---- keys ----

    private const string KeyColumns = "token, key_name, key_alias, spend, max_budget, soft_budget, budget_duration, budget_reset_at, rpm_limit, tpm_limit, max_parallel_requests, expires, models, aliases, metadata, allowed_routes, team_id, user_id, blocked, created_at, updated_at, created_by, updated_by, allowed_cache_controls, model_max_budget, budget_id, model_rpm_limit, model_tpm_limit";

    public ValueTask<VirtualKey?> FindKeyAsync(string token, CancellationToken cancellationToken = default) =>
        new(QueryOne($"""SELECT {KeyColumns} FROM "LiteLLM_VerificationToken" WHERE token = $p""", ReadKey, ("$p", token)));

    public ValueTask<VirtualKey?> FindKeyByAliasAsync(string alias, CancellationToken cancellationToken = default) =>
        new(QueryOne($"""SELECT {KeyColumns} FROM "LiteLLM_VerificationToken" WHERE key_alias = $p""", ReadKey, ("$p", alias)));

    public ValueTask<bool> InsertKeyAsync(VirtualKey key, CancellationToken cancellationToken = default) =>
        new(Linked(key.BudgetId, (c, tx) => Insert(c, tx, "LiteLLM_VerificationToken", KeyColumns, KeyValues(key))));

    public ValueTask<bool> ReplaceKeyAsync(string token, VirtualKey key, CancellationToken cancellationToken = default)
    {
        using var c = Open();
        using var tx = c.BeginTransaction(deferred: false);
        CheckBudget(c, tx, key.BudgetId);
        if (!SwapKeyRow(c, tx, token, key)) { tx.Rollback(); return new(false); }
        tx.Commit();
        return new(true);
    }

    /// <summary>The key row under <paramref name="token"/> replaced by <paramref name="key"/>, its spend rows following; false (nothing done) when the old row is gone or the new one collides.</summary>
    private static bool SwapKeyRow(SqliteConnection c, SqliteTransaction tx, string token, VirtualKey key)
    {
        using (var del = Command(c, tx, """DELETE FROM "LiteLLM_VerificationToken" WHERE token = $old""", ("$old", token)))
            if (del.ExecuteNonQuery() == 0) return false;
        using (var ins = Command(c, tx, $"""INSERT INTO "LiteLLM_VerificationToken" ({KeyColumns}) VALUES ({Params(KeyColumns)})""", KeyValues(key)))
            if (!TryUnique(ins)) return false;
        // Spend rows follow a regenerated key, so its history stays in one place.
        if (token != key.Token)
            using (var move = Command(c, tx, """UPDATE "LiteLLM_SpendLogs" SET api_key = $new WHERE api_key = $old""", ("$new", key.Token), ("$old", token))) move.ExecuteNonQuery();
        return true;
    }

    public ValueTask<bool> RegenerateKeyAsync(string token, VirtualKey key, DateTimeOffset? graceUntil, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        using var c = Open();
        using var tx = c.BeginTransaction(deferred: false);
        CheckBudget(c, tx, key.BudgetId);
        if (!SwapKeyRow(c, tx, token, key)) { tx.Rollback(); return new(false); }
        if (token != key.Token)
        {
            using (var follow = Command(c, tx, """UPDATE "LiteLLM_DeprecatedVerificationToken" SET active_token_id = $new WHERE active_token_id = $old""", ("$new", key.Token), ("$old", token))) follow.ExecuteNonQuery();
            // The new hash is a live key now: no grace row may shadow it.
            using (var live = Command(c, tx, """DELETE FROM "LiteLLM_DeprecatedVerificationToken" WHERE token = $new OR revoke_at <= $now""", ("$new", key.Token), ("$now", Time(now)))) live.ExecuteNonQuery();
            if (graceUntil is { } until)
                using (var grace = Command(c, tx, """
                    INSERT INTO "LiteLLM_DeprecatedVerificationToken" (token, active_token_id, revoke_at, created_at) VALUES ($old, $new, $until, $now)
                    ON CONFLICT(token) DO UPDATE SET active_token_id = excluded.active_token_id, revoke_at = excluded.revoke_at
                    """, ("$old", token), ("$new", key.Token), ("$until", Time(until)), ("$now", Time(now)))) grace.ExecuteNonQuery();
        }
        tx.Commit();
        return new(true);
    }

    public ValueTask<DeprecatedKey?> FindDeprecatedKeyAsync(string token, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        new(QueryOne("""SELECT token, active_token_id, revoke_at FROM "LiteLLM_DeprecatedVerificationToken" WHERE token = $p AND revoke_at > $now""",
            static r => new DeprecatedKey(r.GetString(0), r.GetString(1), TimeOf(r, 2)!.Value), ("$p", token), ("$now", Time(now))));

    public ValueTask EndGraceAsync(string activeToken, CancellationToken cancellationToken = default)
    {
        using var c = Open();
        using var cmd = Command(c, null, """DELETE FROM "LiteLLM_DeprecatedVerificationToken" WHERE active_token_id = $p""", ("$p", activeToken));
        cmd.ExecuteNonQuery();
        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyList<string>?> DeleteKeysAsync(IReadOnlyList<string> tokens, CancellationToken cancellationToken = default) =>
        new(DeleteAll("LiteLLM_VerificationToken", "token", tokens, """DELETE FROM "LiteLLM_DeprecatedVerificationToken" WHERE active_token_id = $id"""));

    public ValueTask<(IReadOnlyList<VirtualKey> Keys, int Total)> ListKeysAsync(KeyQuery q, CancellationToken cancellationToken = default)
    {
        var where = new List<string>();
        var args = new List<(string, object?)>();
        if (q.UserId is not null) { where.Add("user_id = $user"); args.Add(("$user", q.UserId)); }
        if (q.TeamId is not null) { where.Add("team_id = $team"); args.Add(("$team", q.TeamId)); }
        if (q.KeyAlias is not null) { where.Add("key_alias = $alias"); args.Add(("$alias", q.KeyAlias)); }
        if (q.KeyHash is not null) { where.Add("token = $hash"); args.Add(("$hash", q.KeyHash)); }
        var filter = where.Count == 0 ? "" : " WHERE " + string.Join(" AND ", where);
        using var c = Open();
        int total;
        using (var count = Command(c, null, $"""SELECT COUNT(*) FROM "LiteLLM_VerificationToken"{filter}""", [.. args]))
            total = Convert.ToInt32(count.ExecuteScalar(), CultureInfo.InvariantCulture);
        args.Add(("$limit", q.Size));
        args.Add(("$offset", (q.Page - 1) * q.Size));
        using var cmd = Command(c, null, $"""SELECT {KeyColumns} FROM "LiteLLM_VerificationToken"{filter} ORDER BY created_at DESC, token LIMIT $limit OFFSET $offset""", [.. args]);
        return new((ReadAll(cmd, ReadKey), total));
    }

    private static (string, object?)[] KeyValues(VirtualKey k) =>
    [
        ("$token", k.Token), ("$key_name", k.KeyName), ("$key_alias", k.KeyAlias), ("$spend", k.Spend), ("$max_budget", k.MaxBudget),
        ("$soft_budget", k.SoftBudget), ("$budget_duration", k.BudgetDuration), ("$budget_reset_at", Time(k.BudgetResetAt)),
        ("$rpm_limit", k.RpmLimit), ("$tpm_limit", k.TpmLimit), ("$max_parallel_requests", k.MaxParallelRequests), ("$expires", Time(k.Expires)),
        ("$models", JsonColumns.Write(k.Models)), ("$aliases", Auth.ModelAliases.Write(k.Aliases)), ("$metadata", k.Metadata), ("$allowed_routes", JsonColumns.Write(k.AllowedRoutes)),
        ("$team_id", k.TeamId), ("$user_id", k.UserId), ("$blocked", k.Blocked ? 1 : 0), ("$created_at", Time(k.CreatedAt)), ("$updated_at", Time(k.UpdatedAt)),
        ("$created_by", k.CreatedBy), ("$updated_by", k.UpdatedBy), ("$allowed_cache_controls", JsonColumns.Write(k.AllowedCacheControls)), ("$model_max_budget", Budgets.ModelBudget.Write(k.ModelMaxBudget)),
        ("$budget_id", k.BudgetId), ("$model_rpm_limit", Limits.ModelLimits.Write(k.ModelRpmLimit)), ("$model_tpm_limit", Limits.ModelLimits.Write(k.ModelTpmLimit)),
    ];

    private static VirtualKey ReadKey(SqliteDataReader r) => new()
    {
        Token = r.GetString(0),
        KeyName = r.GetString(1),
        KeyAlias = Str(r, 2),
        Spend = (decimal)r.GetDouble(3),
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
        Blocked = r.GetInt64(18) != 0,
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
        new(QueryOne($"""SELECT {TeamColumns} FROM "LiteLLM_TeamTable" WHERE team_id = $p""", ReadTeam, ("$p", teamId)));

    public ValueTask<bool> InsertTeamAsync(Team team, CancellationToken cancellationToken = default) =>
        new(Insert("LiteLLM_TeamTable", TeamColumns, TeamValues(team)));

    public ValueTask<bool> ReplaceTeamAsync(Team team, CancellationToken cancellationToken = default) =>
        new(Update("LiteLLM_TeamTable", TeamColumns, "team_id", TeamValues(team)));

    public ValueTask<IReadOnlyList<string>?> DeleteTeamsAsync(IReadOnlyList<string> teamIds, CancellationToken cancellationToken = default) =>
        new(DeleteAll("LiteLLM_TeamTable", "team_id", teamIds, """UPDATE "LiteLLM_VerificationToken" SET team_id = NULL WHERE team_id = $id"""));

    public ValueTask<IReadOnlyList<Team>> ListTeamsAsync(string? userId, CancellationToken cancellationToken = default)
    {
        using var c = Open();
        using var cmd = userId is null
            ? Command(c, null, $"""SELECT {TeamColumns} FROM "LiteLLM_TeamTable" ORDER BY created_at, team_id""")
            : Command(c, null, $"""SELECT {TeamColumns} FROM "LiteLLM_TeamTable" t WHERE EXISTS (SELECT 1 FROM json_each(t.members_with_roles) m WHERE json_extract(m.value, '$.user_id') = $u) ORDER BY created_at, team_id""", ("$u", userId));
        return new(ReadAll(cmd, ReadTeam));
    }

    private static (string, object?)[] TeamValues(Team t) =>
    [
        ("$team_id", t.TeamId), ("$team_alias", t.TeamAlias), ("$spend", t.Spend), ("$max_budget", t.MaxBudget), ("$soft_budget", t.SoftBudget),
        ("$budget_duration", t.BudgetDuration), ("$budget_reset_at", Time(t.BudgetResetAt)), ("$rpm_limit", t.RpmLimit), ("$tpm_limit", t.TpmLimit),
        ("$max_parallel_requests", t.MaxParallelRequests), ("$models", JsonColumns.Write(t.Models)), ("$metadata", t.Metadata),
        ("$members_with_roles", TeamMembersJson.Write(t.Members)), ("$blocked", t.Blocked ? 1 : 0), ("$created_at", Time(t.CreatedAt)), ("$updated_at", Time(t.UpdatedAt)),
        ("$model_aliases", Auth.ModelAliases.Write(t.ModelAliases)), ("$model_max_budget", Budgets.ModelBudget.Write(t.ModelMaxBudget)),
        ("$model_rpm_limit", Limits.ModelLimits.Write(t.ModelRpmLimit)), ("$model_tpm_limit", Limits.ModelLimits.Write(t.ModelTpmLimit)),
    ];

    private static Team ReadTeam(SqliteDataReader r) => new()
    {
        TeamId = r.GetString(0),
        TeamAlias = Str(r, 1),
        Spend = (decimal)r.GetDouble(2),
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
        Blocked = r.GetInt64(13) != 0,
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
        new(QueryOne($"""SELECT {UserColumns} FROM "LiteLLM_UserTable" WHERE user_id = $p""", ReadUser, ("$p", userId)));

    public ValueTask<bool> InsertUserAsync(InternalUser user, CancellationToken cancellationToken = default) =>
        new(Insert("LiteLLM_UserTable", UserColumns, UserValues(user)));

    public ValueTask<bool> ReplaceUserAsync(InternalUser user, CancellationToken cancellationToken = default) =>
        new(Update("LiteLLM_UserTable", UserColumns, "user_id", UserValues(user)));

    public ValueTask<IReadOnlyList<string>?> DeleteUsersAsync(IReadOnlyList<string> userIds, CancellationToken cancellationToken = default) =>
        new(DeleteAll("LiteLLM_UserTable", "user_id", userIds, null));

    private static (string, object?)[] UserValues(InternalUser u) =>
    [
        ("$user_id", u.UserId), ("$user_email", u.UserEmail), ("$user_alias", u.UserAlias), ("$user_role", u.UserRole), ("$teams", JsonColumns.Write(u.Teams)),
        ("$models", JsonColumns.Write(u.Models)), ("$spend", u.Spend), ("$max_budget", u.MaxBudget), ("$budget_duration", u.BudgetDuration),
        ("$budget_reset_at", Time(u.BudgetResetAt)), ("$rpm_limit", u.RpmLimit), ("$tpm_limit", u.TpmLimit), ("$metadata", u.Metadata),
        ("$created_at", Time(u.CreatedAt)), ("$updated_at", Time(u.UpdatedAt)), ("$model_max_budget", Budgets.ModelBudget.Write(u.ModelMaxBudget)),
    ];

    public ValueTask<IReadOnlyList<InternalUser>> ListUsersAsync(CancellationToken cancellationToken = default)
    {
        using var c = Open();
        using var cmd = Command(c, null, $"""SELECT {UserColumns} FROM "LiteLLM_UserTable" ORDER BY created_at, user_id""");
        return new(ReadAll(cmd, ReadUser));
    }

    private static InternalUser ReadUser(SqliteDataReader r) => new()
    {
        UserId = r.GetString(0),
        UserEmail = Str(r, 1),
        UserAlias = Str(r, 2),
        UserRole = r.GetString(3),
        Teams = JsonColumns.ReadList(r.GetString(4)),
        Models = JsonColumns.ReadList(r.GetString(5)),
        Spend = (decimal)r.GetDouble(6),
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
        new(QueryOne($"""SELECT {BudgetColumns} FROM "LiteLLM_BudgetTable" WHERE budget_id = $p""", ReadBudget, ("$p", budgetId)));

    public ValueTask<bool> InsertBudgetAsync(BudgetRow budget, CancellationToken cancellationToken = default) =>
        new(Insert("LiteLLM_BudgetTable", BudgetColumns, BudgetValues(budget)));

    public ValueTask<bool> ReplaceBudgetAsync(BudgetRow budget, CancellationToken cancellationToken = default) =>
        new(Update("LiteLLM_BudgetTable", BudgetColumns, "budget_id", BudgetValues(budget)));

    public ValueTask<IReadOnlyList<BudgetRow>> ListBudgetsAsync(CancellationToken cancellationToken = default)
    {
        using var c = Open();
        using var cmd = Command(c, null, $"""SELECT {BudgetColumns} FROM "LiteLLM_BudgetTable" ORDER BY created_at, budget_id""");
        return new(ReadAll(cmd, ReadBudget));
    }

    public ValueTask<BudgetDeletion> DeleteBudgetAsync(string budgetId, CancellationToken cancellationToken = default)
    {
        using var c = Open();
        using var tx = c.BeginTransaction(deferred: false);
        using (var used = Command(c, tx, """SELECT (SELECT COUNT(*) FROM "LiteLLM_EndUserTable" WHERE budget_id = $id) + (SELECT COUNT(*) FROM "LiteLLM_VerificationToken" WHERE budget_id = $id)""", ("$id", budgetId)))
        {
            if (Convert.ToInt64(used.ExecuteScalar(), CultureInfo.InvariantCulture) > 0) { tx.Rollback(); return new(BudgetDeletion.InUse); }
        }
        using var del = Command(c, tx, """DELETE FROM "LiteLLM_BudgetTable" WHERE budget_id = $id""", ("$id", budgetId));
        var n = del.ExecuteNonQuery();
        tx.Commit();
        return new(n == 1 ? BudgetDeletion.Deleted : BudgetDeletion.NotFound);
    }

    private static (string, object?)[] BudgetValues(BudgetRow b) =>
    [
        ("$budget_id", b.BudgetId), ("$max_budget", b.MaxBudget), ("$soft_budget", b.SoftBudget), ("$max_parallel_requests", b.MaxParallelRequests),
        ("$tpm_limit", b.TpmLimit), ("$rpm_limit", b.RpmLimit), ("$model_max_budget", Budgets.ModelBudget.Write(b.ModelMaxBudget)),
        ("$budget_duration", b.BudgetDuration), ("$budget_reset_at", Time(b.BudgetResetAt)), ("$created_at", Time(b.CreatedAt)),
        ("$created_by", b.CreatedBy), ("$updated_at", Time(b.UpdatedAt)), ("$updated_by", b.UpdatedBy),
    ];

    private static BudgetRow ReadBudget(SqliteDataReader r) => new()
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
        new(QueryOne($"""SELECT {CustomerColumns} FROM "LiteLLM_EndUserTable" WHERE user_id = $p""", ReadCustomer, ("$p", userId)));

    public ValueTask<bool> InsertCustomerAsync(Customer customer, CancellationToken cancellationToken = default) =>
        new(Linked(customer.BudgetId, (c, tx) => Insert(c, tx, "LiteLLM_EndUserTable", CustomerColumns, CustomerValues(customer))));

    public ValueTask<bool> ReplaceCustomerAsync(Customer customer, CancellationToken cancellationToken = default) =>
        new(Linked(customer.BudgetId, (c, tx) => Update(c, tx, "LiteLLM_EndUserTable", CustomerColumns, "user_id", CustomerValues(customer))));

    public ValueTask<IReadOnlyList<string>?> DeleteCustomersAsync(IReadOnlyList<string> userIds, CancellationToken cancellationToken = default) =>
        new(DeleteAll("LiteLLM_EndUserTable", "user_id", userIds, null));

    public ValueTask<IReadOnlyList<Customer>> ListCustomersAsync(CancellationToken cancellationToken = default)
    {
        using var c = Open();
        using var cmd = Command(c, null, $"""SELECT {CustomerColumns} FROM "LiteLLM_EndUserTable" ORDER BY created_at, user_id""");
        return new(ReadAll(cmd, ReadCustomer));
    }

    private static (string, object?)[] CustomerValues(Customer u) =>
    [
        ("$user_id", u.UserId), ("$alias", u.Alias), ("$spend", u.Spend), ("$max_budget", u.MaxBudget), ("$budget_duration", u.BudgetDuration),
        ("$budget_reset_at", Time(u.BudgetResetAt)), ("$blocked", u.Blocked ? 1 : 0), ("$allowed_model_region", u.AllowedModelRegion),
        ("$default_model", u.DefaultModel), ("$created_at", Time(u.CreatedAt)), ("$updated_at", Time(u.UpdatedAt)), ("$budget_id", u.BudgetId),
    ];

    private static Customer ReadCustomer(SqliteDataReader r) => new()
    {
        UserId = r.GetString(0),
        Alias = Str(r, 1),
        Spend = (decimal)r.GetDouble(2),
        MaxBudget = Dec(r, 3),
        BudgetDuration = Str(r, 4),
        BudgetResetAt = TimeOf(r, 5),
        Blocked = r.GetInt64(6) != 0,
        AllowedModelRegion = Str(r, 7),
        DefaultModel = Str(r, 8),
        CreatedAt = TimeOf(r, 9)!.Value,
        UpdatedAt = TimeOf(r, 10)!.Value,
        BudgetId = Str(r, 11),
    };

    // ---- spend ----

    private const string SpendColumns = "request_id, call_type, api_key, spend, total_tokens, prompt_tokens, completion_tokens, \"startTime\", \"endTime\", model, model_group, custom_llm_provider, \"user\", team_id, end_user, key_alias, status, cache_hit";

    public ValueTask WriteSpendAsync(IReadOnlyList<SpendRow> rows, CancellationToken cancellationToken = default)
    {
        if (rows.Count == 0) return ValueTask.CompletedTask;
        using var c = Open();
        using var tx = c.BeginTransaction(deferred: false);
        // The common case: every row is new, written many to a statement. A request id already in the log (a batch that
        // was written, then retried) sends the batch down the row-by-row path, which adds only the new rows' spend.
        var (logged, unlogged) = SplitLogged(rows);
        IReadOnlyList<SpendRow> inserted = logged;
        if (logged.Count > 0)
        {
            tx.Save("spend_rows");
            bool allNew;
            using (var insert = new SpendLogInsert(c.Handle!)) allNew = insert.TryInsertAll(logged);
            if (allNew) tx.Release("spend_rows");
            else
            {
                tx.Rollback("spend_rows");
                inserted = InsertOneByOne(c, tx, logged);
            }
        }
        if (unlogged is not null && (rows is not Spend.SpendBatch batch || FirstTime(c, tx, batch.Mark))) inserted = [.. inserted, .. unlogged];
        using var key = Command(c, tx, """UPDATE "LiteLLM_VerificationToken" SET spend = spend + $s WHERE token = $id""", ("$s", 0.0), ("$id", ""));
        using var team = Command(c, tx, """UPDATE "LiteLLM_TeamTable" SET spend = spend + $s WHERE team_id = $id""", ("$s", 0.0), ("$id", ""));
        using var user = Command(c, tx, """UPDATE "LiteLLM_UserTable" SET spend = spend + $s WHERE user_id = $id""", ("$s", 0.0), ("$id", ""));
        // An end user's row is created at its first spend (LiteLLM's upsert).
        using var endUser = Command(c, tx, """INSERT INTO "LiteLLM_EndUserTable"(user_id, spend, created_at, updated_at) VALUES ($id, $s, $t, $t) ON CONFLICT(user_id) DO UPDATE SET spend = spend + excluded.spend""", ("$s", 0.0), ("$id", ""), ("$t", ""));
        // One UPDATE per entity per batch, not per row: a busy key is a hot row (LiteLLM's Postgres bottleneck).
        var keys = new Dictionary<string, decimal>(StringComparer.Ordinal);
        var teams = new Dictionary<string, decimal>(StringComparer.Ordinal);
        var users = new Dictionary<string, decimal>(StringComparer.Ordinal);
        var endUsers = new Dictionary<string, (decimal Spend, DateTimeOffset At)>(StringComparer.Ordinal);
        for (var i = 0; i < inserted.Count; i++)
        {
            var row = inserted[i];
            if (row.Spend == 0) continue;
            Sum(keys, row.ApiKey, row.Spend);
            Sum(teams, row.TeamId, row.Spend);
            Sum(users, row.UserId, row.Spend);
            if (!string.IsNullOrEmpty(row.EndUser))
                endUsers[row.EndUser] = endUsers.TryGetValue(row.EndUser, out var e) ? (e.Spend + row.Spend, row.EndTime) : (row.Spend, row.EndTime);
        }
        foreach (var (id, sum) in keys) Add(key, id, sum);
        foreach (var (id, sum) in teams) Add(team, id, sum);
        foreach (var (id, sum) in users) Add(user, id, sum);
        foreach (var (id, e) in endUsers)
        {
            Set(endUser, "$t", Time(e.At));
            Add(endUser, id, e.Spend);
        }
        tx.Commit();
        return ValueTask.CompletedTask;

        static void Sum(Dictionary<string, decimal> sums, string? id, decimal spend)
        {
            if (string.IsNullOrEmpty(id)) return;
            sums[id] = sums.GetValueOrDefault(id) + spend;
        }

        static void Add(SqliteCommand cmd, string? id, decimal spend)
        {
            if (string.IsNullOrEmpty(id)) return;
            Set(cmd, "$s", (double)spend);
            Set(cmd, "$id", id);
            cmd.ExecuteNonQuery();
        }
    }

    /// <summary>The rows to log and, when <c>disable_spend_logs</c> marked some, those only to add up (null when none).</summary>
    internal static (IReadOnlyList<SpendRow> Logged, List<SpendRow>? Unlogged) SplitLogged(IReadOnlyList<SpendRow> rows)
    {
        var all = true;
        for (var i = 0; i < rows.Count && all; i++) all = rows[i].Logged;
        if (all) return (rows, null);
        var logged = new List<SpendRow>(rows.Count);
        var unlogged = new List<SpendRow>(rows.Count);
        foreach (var row in rows) (row.Logged ? logged : unlogged).Add(row);
        return (logged, unlogged);
    }

    /// <summary>The slow path of <see cref="WriteSpendAsync"/>: one statement per row, keeping the rows that were new.</summary>
    private static List<SpendRow> InsertOneByOne(SqliteConnection c, SqliteTransaction tx, IReadOnlyList<SpendRow> rows)
    {
        using var insert = Command(c, tx, $"""INSERT OR IGNORE INTO "LiteLLM_SpendLogs" ({SpendColumns}) VALUES ($request_id, $call_type, $api_key, $spend, $total_tokens, $prompt_tokens, $completion_tokens, $start, $end, $model, $model_group, $provider, $user, $team_id, $end_user, $key_alias, $status, $cache_hit)""",
            ("$request_id", ""), ("$call_type", ""), ("$api_key", ""), ("$spend", 0.0), ("$total_tokens", 0L), ("$prompt_tokens", 0L), ("$completion_tokens", 0L),
            ("$start", ""), ("$end", ""), ("$model", null), ("$model_group", null), ("$provider", null), ("$user", null), ("$team_id", null), ("$end_user", null), ("$key_alias", null), ("$status", ""), ("$cache_hit", ""));
        var p = new SqliteParameter[insert.Parameters.Count];
        for (var i = 0; i < p.Length; i++) p[i] = insert.Parameters[i];
        var inserted = new List<SpendRow>(rows.Count);
        foreach (var row in rows)
        {
            p[0].Value = row.RequestId; p[1].Value = row.CallType; p[2].Value = row.ApiKey;
            p[3].Value = (double)row.Spend; p[4].Value = row.TotalTokens; p[5].Value = row.PromptTokens;
            p[6].Value = row.CompletionTokens; p[7].Value = Time(row.StartTime); p[8].Value = Time(row.EndTime);
            p[9].Value = Db(row.Model); p[10].Value = Db(row.ModelGroup); p[11].Value = Db(row.Provider); p[12].Value = Db(row.UserId);
            p[13].Value = Db(row.TeamId); p[14].Value = Db(row.EndUser); p[15].Value = Db(row.KeyAlias); p[16].Value = row.Status;
            p[17].Value = row.CacheHit ? "True" : "False";
            if (insert.ExecuteNonQuery() == 1) inserted.Add(row);
        }
        return inserted;
    }

    public ValueTask<bool> ResetBudgetAsync(BudgetScope scope, string id, DateTimeOffset dueAt, DateTimeOffset nextReset, CancellationToken cancellationToken = default)
    {
        var (table, idColumn) = scope switch
        {
            BudgetScope.Key => ("LiteLLM_VerificationToken", "token"),
            BudgetScope.Team => ("LiteLLM_TeamTable", "team_id"),
            BudgetScope.Customer => ("LiteLLM_EndUserTable", "user_id"),
            _ => ("LiteLLM_UserTable", "user_id"),
        };
        using var c = Open();
        using var cmd = Command(c, null, $"""UPDATE "{table}" SET spend = 0, budget_reset_at = $next WHERE {idColumn} = $id AND (budget_reset_at = $due OR budget_reset_at IS NULL)""",
            ("$next", Time(nextReset)), ("$id", id), ("$due", Time(dueAt)));
        return new(cmd.ExecuteNonQuery() == 1);
    }

    public ValueTask<IReadOnlyList<SpendRow>> SpendLogsAsync(SpendQuery q, CancellationToken cancellationToken = default)
    {
        var where = new List<string>();
        var args = new List<(string, object?)>();
        if (q.ApiKey is not null) { where.Add("api_key = $key"); args.Add(("$key", q.ApiKey)); }
        if (q.UserId is not null) { where.Add("\"user\" = $user"); args.Add(("$user", q.UserId)); }
        if (q.TeamId is not null) { where.Add("team_id = $team"); args.Add(("$team", q.TeamId)); }
        if (q.RequestId is not null) { where.Add("request_id = $rid"); args.Add(("$rid", q.RequestId)); }
        if (q.Start is { } s) { where.Add("\"startTime\" >= $start"); args.Add(("$start", Time(s))); }
        if (q.End is { } e) { where.Add("\"startTime\" < $end"); args.Add(("$end", Time(e))); }
        args.Add(("$limit", q.Limit));
        var filter = where.Count == 0 ? "" : " WHERE " + string.Join(" AND ", where);
        using var c = Open();
        using var cmd = Command(c, null, $"""SELECT {SpendColumns} FROM "LiteLLM_SpendLogs"{filter} ORDER BY "startTime" DESC, request_id LIMIT $limit""", [.. args]);
        return new(ReadAll(cmd, static r => new SpendRow
        {
            RequestId = r.GetString(0),
            CallType = r.GetString(1),
            ApiKey = r.GetString(2),
            Spend = (decimal)r.GetDouble(3),
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
        }));
    }

    public ValueTask<decimal> KeyModelSpendAsync(string token, string model, DateTimeOffset? since, CancellationToken cancellationToken = default) =>
        ModelSpendAsync(BudgetScope.Key, token, model, since, cancellationToken);

    public ValueTask<decimal> ModelSpendAsync(BudgetScope owner, string id, string model, DateTimeOffset? since, CancellationToken cancellationToken = default)
    {
        var column = SpendLogOwner(owner);
        using var c = Open();
        using var cmd = since is { } s
            ? Command(c, null, $"""SELECT COALESCE(SUM(spend), 0) FROM "LiteLLM_SpendLogs" WHERE {column} = $id AND (model_group = $model OR model = $bare) AND "startTime" >= $since""", ("$id", id), ("$model", model), ("$bare", Budgets.ModelBudget.Bare(model)), ("$since", Time(s)))
            : Command(c, null, $"""SELECT COALESCE(SUM(spend), 0) FROM "LiteLLM_SpendLogs" WHERE {column} = $id AND (model_group = $model OR model = $bare)""", ("$id", id), ("$model", model), ("$bare", Budgets.ModelBudget.Bare(model)));
        return new((decimal)Convert.ToDouble(cmd.ExecuteScalar(), CultureInfo.InvariantCulture));
    }

    /// <summary>The spend-log column that names a budget's owner.</summary>
    internal static string SpendLogOwner(BudgetScope owner) => owner switch
    {
        BudgetScope.Key => "api_key",
        BudgetScope.Team => "team_id",
        BudgetScope.User => "\"user\"",
        BudgetScope.Customer => "end_user",
        _ => throw new ArgumentOutOfRangeException(nameof(owner), owner, "a per-model budget belongs to a key, a team or a user"),
    };

    public ValueTask<IReadOnlyList<SpendReportRow>> SpendReportAsync(SpendReportQuery q, CancellationToken cancellationToken = default)
    {
        var where = new List<string> { "sl.\"startTime\" >= $start", "sl.\"startTime\" < $end" };
        var args = new List<(string, object?)> { ("$start", Time(q.Start)), ("$end", Time(q.End)) };
        if (q.ApiKey is not null) { where.Add("sl.api_key = $key"); args.Add(("$key", q.ApiKey)); }
        if (q.UserId is not null) { where.Add("sl.\"user\" = $user"); args.Add(("$user", q.UserId)); }
        if (q.TeamId is not null) { where.Add("sl.team_id = $team"); args.Add(("$team", q.TeamId)); }
        if (q.CustomerId is not null) { where.Add("sl.end_user = $customer"); args.Add(("$customer", q.CustomerId)); }
        var group = q.GroupBy switch
        {
            SpendGroup.Team => "COALESCE(tt.team_alias, sl.team_id, 'Unassigned Team')",
            SpendGroup.Customer => "sl.end_user",
            _ => "sl.api_key",
        };
        using var c = Open();
        using var cmd = Command(c, null, $"""
            SELECT substr(sl."startTime", 1, 10), {group}, sl.model, sl.api_key, SUM(sl.spend), SUM(sl.prompt_tokens), SUM(sl.completion_tokens)
            FROM "LiteLLM_SpendLogs" sl LEFT JOIN "LiteLLM_TeamTable" tt ON sl.team_id = tt.team_id
            WHERE {string.Join(" AND ", where)}
            GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
            """, [.. args]);
        return new(ReadAll(cmd, static r => new SpendReportRow(r.GetString(0), Str(r, 1), Str(r, 2), r.GetString(3), (decimal)r.GetDouble(4), r.GetInt64(5), r.GetInt64(6))));
    }

    private int _marks;

    /// <summary>Whether a batch's unlogged rows are new to the store (its <see cref="Spend.SpendBatch.Mark"/> kept in the batch's transaction); marks older than a day are dropped now and then.</summary>
    private bool FirstTime(SqliteConnection c, SqliteTransaction tx, string mark)
    {
        var now = DateTimeOffset.UtcNow;
        if (Interlocked.Increment(ref _marks) % 256 == 1)
            using (var old = Command(c, tx, """DELETE FROM "llmux_spend_batches" WHERE written_at < $t""", ("$t", Time(now.AddDays(-1))))) old.ExecuteNonQuery();
        using var insert = Command(c, tx, """INSERT INTO "llmux_spend_batches"(marker, written_at) VALUES ($m, $t) ON CONFLICT(marker) DO NOTHING""",
            ("$m", mark), ("$t", Time(now)));
        return insert.ExecuteNonQuery() == 1;
    }

    public ValueTask<string?> FindSettingAsync(string name, CancellationToken cancellationToken = default) =>
        new(QueryOne("""SELECT value FROM "llmux_settings" WHERE name = $p""", static r => r.GetString(0), ("$p", name)));

    public ValueTask<bool> SwapSettingAsync(string name, string? expected, string value, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        using var c = Open();
        using var cmd = expected is null
            ? Command(c, null, """INSERT INTO "llmux_settings"(name, value, updated_at) VALUES ($n, $v, $t) ON CONFLICT(name) DO NOTHING""", ("$n", name), ("$v", value), ("$t", Time(now)))
            : Command(c, null, """UPDATE "llmux_settings" SET value = $v, updated_at = $t WHERE name = $n AND value = $e""", ("$n", name), ("$v", value), ("$t", Time(now)), ("$e", expected));
        return new(cmd.ExecuteNonQuery() == 1);
    }

    // ---- helpers ----

    private IReadOnlyList<string>? DeleteAll(string table, string idColumn, IReadOnlyList<string> ids, string? alsoPerId)
    {
        using var c = Open();
        using var tx = c.BeginTransaction(deferred: false);
        using var del = Command(c, tx, $"""DELETE FROM "{table}" WHERE {idColumn} = $id""", ("$id", ""));
        using var also = alsoPerId is null ? null : Command(c, tx, alsoPerId, ("$id", ""));
        var deleted = new List<string>(ids.Count);
        foreach (var id in ids)
        {
            Set(del, "$id", id);
            if (del.ExecuteNonQuery() == 0) { tx.Rollback(); return null; }
            if (also is not null) { Set(also, "$id", id); also.ExecuteNonQuery(); }
            deleted.Add(id);
        }
        tx.Commit();
        return deleted;
    }

    private T? QueryOne<T>(string sql, Func<SqliteDataReader, T> read, params (string, object?)[] args) where T : class
    {
        using var c = Open();
        using var cmd = Command(c, null, sql, args);
        using var r = cmd.ExecuteReader();
        return r.Read() ? read(r) : null;
    }

    private static List<T> ReadAll<T>(SqliteCommand cmd, Func<SqliteDataReader, T> read)
    {
        using var r = cmd.ExecuteReader();
        var list = new List<T>();
        while (r.Read()) list.Add(read(r));
        return list;
    }

    /// <summary>One row into <paramref name="table"/>; false when a unique key is already taken.</summary>
    /// <summary>
    /// A write of a row that links to a budget: with a <paramref name="budgetId"/>, the link is checked in the same write
    /// transaction (<c>BEGIN IMMEDIATE</c>, as <see cref="DeleteBudgetAsync"/> takes), so no budget is deleted between the
    /// check and the write. Throws <see cref="MissingBudgetException"/> when the budget is not there.
    /// </summary>
    private bool Linked(string? budgetId, Func<SqliteConnection, SqliteTransaction?, bool> write)
    {
        using var c = Open();
        if (budgetId is null) return write(c, null);
        using var tx = c.BeginTransaction(deferred: false);
        CheckBudget(c, tx, budgetId);
        if (!write(c, tx)) { tx.Rollback(); return false; }
        tx.Commit();
        return true;
    }

    private static void CheckBudget(SqliteConnection c, SqliteTransaction tx, string? budgetId)
    {
        if (budgetId is null) return;
        using var exists = Command(c, tx, """SELECT 1 FROM "LiteLLM_BudgetTable" WHERE budget_id = $id""", ("$id", budgetId));
        if (exists.ExecuteScalar() is null) throw new MissingBudgetException(budgetId);
    }

    private bool Insert(string table, string columns, (string Name, object? Value)[] values)
    {
        using var c = Open();
        return Insert(c, null, table, columns, values);
    }

    private static bool Insert(SqliteConnection c, SqliteTransaction? tx, string table, string columns, (string Name, object? Value)[] values)
    {
        using var cmd = Command(c, tx, $"""INSERT INTO "{table}" ({columns}) VALUES ({Params(columns)})""", values);
        return TryUnique(cmd);
    }

    /// <summary>Every column of the row whose <paramref name="keyColumn"/> matches; false when there is no such row.</summary>
    private bool Update(string table, string columns, string keyColumn, (string Name, object? Value)[] values)
    {
        using var c = Open();
        return Update(c, null, table, columns, keyColumn, values);
    }

    private static bool Update(SqliteConnection c, SqliteTransaction? tx, string table, string columns, string keyColumn, (string Name, object? Value)[] values)
    {
        using var cmd = Command(c, tx, $"""UPDATE "{table}" SET {Assignments(columns)} WHERE {keyColumn} = ${keyColumn}""", values);
        return cmd.ExecuteNonQuery() == 1;
    }

    private static bool TryUnique(SqliteCommand cmd)
    {
        try
        {
            cmd.ExecuteNonQuery();
            return true;
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode == 19) // SQLITE_CONSTRAINT: primary key or unique alias taken
        {
            return false;
        }
    }

    private static SqliteCommand Command(SqliteConnection c, SqliteTransaction? tx, string sql, params (string Name, object? Value)[] args)
    {
        var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        foreach (var (name, value) in args) cmd.Parameters.AddWithValue(name, Db(value));
        return cmd;
    }

    private static void Exec(SqliteConnection c, SqliteTransaction? tx, string sql)
    {
        using var cmd = Command(c, tx, sql);
        cmd.ExecuteNonQuery();
    }

    private static void Set(SqliteCommand cmd, string name, object? value) => cmd.Parameters[name].Value = Db(value);

    private static object Db(object? value) => value switch
    {
        null => DBNull.Value,
        decimal d => (double)d,
        _ => value,
    };

    private static string Params(string columns) => string.Join(", ", columns.Split(", ").Select(static c => "$" + c));
    private static string Assignments(string columns) => string.Join(", ", columns.Split(", ").Skip(1).Select(static c => $"{c} = ${c}"));

    private static string? Time(DateTimeOffset? t) => t?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
    private static DateTimeOffset? TimeOf(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : DateTimeOffset.Parse(r.GetString(i), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
    private static string? Str(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);
    private static decimal? Dec(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : (decimal)r.GetDouble(i);
    private static long? Long(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt64(i);
}
