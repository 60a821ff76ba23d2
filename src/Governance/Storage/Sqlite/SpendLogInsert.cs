using System.Text;
using LLMux.Governance.Entities;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace LLMux.Governance.Storage.Sqlite;

/// <summary>
/// Writes spend log rows as multi-row <c>INSERT OR IGNORE</c> statements bound through SQLite's C API on the
/// connection's own handle. The spend log gets one row per call, so this is the embedded store's hottest write: one
/// statement step per <see cref="RowsPerStatement"/> rows and UTF-8 bound from a reused buffer, where ADO.NET parameters
/// cost a step, 18 boxed values and 18 transcoded strings per row (bench/ SpendLogInsertBenchmarks measures both).
/// The calls of one key on one model share 11 of the 18 columns (key, team, user, model, ...): rows that share them, a
/// statement's worth at a time, go through a statement that binds those 11 once and 7 per row.
/// </summary>
internal sealed class SpendLogInsert : IDisposable
{
    public const int RowsPerStatement = 32;
    private const int Columns = 18;
    private const int SharedColumns = 11;
    private const int OwnColumns = Columns - SharedColumns;
    private const string ColumnList = "request_id, call_type, api_key, spend, total_tokens, prompt_tokens, completion_tokens, \"startTime\", \"endTime\", model, model_group, custom_llm_provider, \"user\", team_id, end_user, key_alias, status, cache_hit";

    private readonly sqlite3 _db;
    private sqlite3_stmt? _full;
    private sqlite3_stmt? _shared;
    // UTF-8 of one bound value (SQLite copies it when bound): reused, where a stackalloc would be zeroed on every bind.
    private readonly byte[] _utf8 = new byte[768];

    public SpendLogInsert(sqlite3 db) => _db = db;

    /// <summary>
    /// Inserts every row. False when some request id was already in the log (a batch written before, then retried):
    /// the caller rolls back and writes the batch row by row, so that no spend is added twice.
    /// </summary>
    public bool TryInsertAll(IReadOnlyList<SpendRow> rows)
    {
        var rest = rows;
        if (rows.Count >= RowsPerStatement)
        {
            var (groups, others) = GroupShared(rows);
            if (groups is not null)
            {
                foreach (var group in groups)
                    for (var i = 0; i < group.Count; i += RowsPerStatement)
                        if (!RunShared(_shared ??= PrepareShared(), group, i)) return false;
                rest = others;
            }
        }
        var n = 0;
        for (; n + RowsPerStatement <= rest.Count; n += RowsPerStatement)
            if (!Run(_full ??= Prepare(RowsPerStatement), rest, n, RowsPerStatement)) return false;
        var tail = rest.Count - n;
        if (tail == 0) return true;
        var stmt = Prepare(tail);
        try { return Run(stmt, rest, n, tail); }
        finally { stmt.Dispose(); }
    }

    public void Dispose()
    {
        _full?.Dispose();
        _shared?.Dispose();
    }

    /// <summary>
    /// Rows sharing their 11 common columns, in whole statements' worth (each list a multiple of
    /// <see cref="RowsPerStatement"/> long), and the rest; null groups when no statement's worth shares them.
    /// </summary>
    private static (List<List<SpendRow>>? Groups, List<SpendRow> Others) GroupShared(IReadOnlyList<SpendRow> rows)
    {
        var byShared = new Dictionary<SharedKey, List<SpendRow>>();
        foreach (var row in rows)
        {
            if (!byShared.TryGetValue(new SharedKey(row), out var list)) byShared[new SharedKey(row)] = list = [];
            list.Add(row);
        }
        List<List<SpendRow>>? groups = null;
        var others = new List<SpendRow>();
        foreach (var list in byShared.Values)
        {
            var whole = list.Count - list.Count % RowsPerStatement;
            if (whole == 0) { others.AddRange(list); continue; }
            (groups ??= []).Add(whole == list.Count ? list : list.GetRange(0, whole));
            if (whole < list.Count) others.AddRange(list.GetRange(whole, list.Count - whole));
        }
        return (groups, others);
    }

    /// <summary>The 11 columns the calls of one key on one model share, compared by value.</summary>
    private readonly struct SharedKey(SpendRow row) : IEquatable<SharedKey>
    {
        private readonly SpendRow _row = row;

        public bool Equals(SharedKey other)
        {
            SpendRow a = _row, b = other._row;
            return a.ApiKey == b.ApiKey && a.CallType == b.CallType && a.Model == b.Model && a.ModelGroup == b.ModelGroup
                && a.Provider == b.Provider && a.UserId == b.UserId && a.TeamId == b.TeamId && a.EndUser == b.EndUser
                && a.KeyAlias == b.KeyAlias && a.Status == b.Status && a.CacheHit == b.CacheHit;
        }

        public override bool Equals(object? obj) => obj is SharedKey k && Equals(k);

        // The key's hash is SHA-256 hex: its first 8 characters are as good a hash as any, at the cost of one read.
        public override int GetHashCode()
        {
            var key = _row.ApiKey.AsSpan();
            var head = key.Length >= 4 ? System.Runtime.InteropServices.MemoryMarshal.Read<long>(System.Runtime.InteropServices.MemoryMarshal.AsBytes(key[..4])) : key.Length;
            return HashCode.Combine(head, _row.Model?.Length ?? -1, _row.ModelGroup?.Length ?? -1, _row.EndUser?.Length ?? -1, _row.CacheHit);
        }
    }

    private sqlite3_stmt Prepare(int rows)
    {
        var sql = new StringBuilder(160 + rows * (Columns * 2 + 3));
        sql.Append("INSERT OR IGNORE INTO \"LiteLLM_SpendLogs\" (").Append(ColumnList).Append(") VALUES ");
        for (var r = 0; r < rows; r++)
        {
            if (r > 0) sql.Append(',');
            sql.Append("(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
        }
        Check(raw.sqlite3_prepare_v2(_db, sql.ToString(), out var stmt));
        return stmt;
    }

    // ?1..?11: call_type, api_key, model, model_group, provider, user, team_id, end_user, key_alias, status, cache_hit;
    // then per row request_id, spend, total, prompt and completion tokens, start, end.
    private sqlite3_stmt PrepareShared()
    {
        var sql = new StringBuilder(160 + RowsPerStatement * 64);
        sql.Append("INSERT OR IGNORE INTO \"LiteLLM_SpendLogs\" (").Append(ColumnList).Append(") VALUES ");
        for (var r = 0; r < RowsPerStatement; r++)
        {
            var b = SharedColumns + r * OwnColumns;
            if (r > 0) sql.Append(',');
            sql.Append($"(?{b + 1},?1,?2,?{b + 2},?{b + 3},?{b + 4},?{b + 5},?{b + 6},?{b + 7},?3,?4,?5,?6,?7,?8,?9,?10,?11)");
        }
        Check(raw.sqlite3_prepare_v2(_db, sql.ToString(), out var stmt));
        return stmt;
    }

    private bool RunShared(sqlite3_stmt stmt, List<SpendRow> rows, int start)
    {
        var first = rows[start];
        Text(stmt, 1, first.CallType);
        Text(stmt, 2, first.ApiKey);
        Text(stmt, 3, first.Model);
        Text(stmt, 4, first.ModelGroup);
        Text(stmt, 5, first.Provider);
        Text(stmt, 6, first.UserId);
        Text(stmt, 7, first.TeamId);
        Text(stmt, 8, first.EndUser);
        Text(stmt, 9, first.KeyAlias);
        Text(stmt, 10, first.Status);
        Text(stmt, 11, first.CacheHit ? "True" : "False");
        for (var k = 0; k < RowsPerStatement; k++)
        {
            var row = rows[start + k];
            var b = SharedColumns + k * OwnColumns;
            Text(stmt, b + 1, row.RequestId);
            Check(raw.sqlite3_bind_double(stmt, b + 2, (double)row.Spend));
            Check(raw.sqlite3_bind_int64(stmt, b + 3, row.TotalTokens));
            Check(raw.sqlite3_bind_int64(stmt, b + 4, row.PromptTokens));
            Check(raw.sqlite3_bind_int64(stmt, b + 5, row.CompletionTokens));
            Time(stmt, b + 6, row.StartTime);
            Time(stmt, b + 7, row.EndTime);
        }
        return Step(stmt, RowsPerStatement);
    }

    private bool Run(sqlite3_stmt stmt, IReadOnlyList<SpendRow> rows, int start, int count)
    {
        for (var k = 0; k < count; k++)
        {
            var row = rows[start + k];
            var b = k * Columns;
            Text(stmt, b + 1, row.RequestId);
            Text(stmt, b + 2, row.CallType);
            Text(stmt, b + 3, row.ApiKey);
            Check(raw.sqlite3_bind_double(stmt, b + 4, (double)row.Spend));
            Check(raw.sqlite3_bind_int64(stmt, b + 5, row.TotalTokens));
            Check(raw.sqlite3_bind_int64(stmt, b + 6, row.PromptTokens));
            Check(raw.sqlite3_bind_int64(stmt, b + 7, row.CompletionTokens));
            Time(stmt, b + 8, row.StartTime);
            Time(stmt, b + 9, row.EndTime);
            Text(stmt, b + 10, row.Model);
            Text(stmt, b + 11, row.ModelGroup);
            Text(stmt, b + 12, row.Provider);
            Text(stmt, b + 13, row.UserId);
            Text(stmt, b + 14, row.TeamId);
            Text(stmt, b + 15, row.EndUser);
            Text(stmt, b + 16, row.KeyAlias);
            Text(stmt, b + 17, row.Status);
            Text(stmt, b + 18, row.CacheHit ? "True" : "False");
        }
        return Step(stmt, count);
    }

    private bool Step(sqlite3_stmt stmt, int count)
    {
        var rc = raw.sqlite3_step(stmt);
        var inserted = raw.sqlite3_changes(_db);
        raw.sqlite3_reset(stmt);
        if (rc != raw.SQLITE_DONE) Check(rc);
        return inserted == count;
    }

    private void Text(sqlite3_stmt stmt, int index, string? value)
    {
        if (value is null) { Check(raw.sqlite3_bind_null(stmt, index)); return; }
        if (value.Length > 256) { Check(raw.sqlite3_bind_text(stmt, index, value)); return; }
        var n = Encoding.UTF8.GetBytes(value, _utf8);
        Check(raw.sqlite3_bind_text(stmt, index, _utf8.AsSpan(0, n)));
    }

    // The store's text form of a time ("O" of a UTC DateTime: yyyy-MM-ddTHH:mm:ss.fffffffZ), formatted as UTF-8 in place.
    private void Time(sqlite3_stmt stmt, int index, DateTimeOffset value)
    {
        value.UtcDateTime.TryFormat(_utf8, out var n, "O");
        Check(raw.sqlite3_bind_text(stmt, index, _utf8.AsSpan(0, n)));
    }

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK) SqliteException.ThrowExceptionForRC(rc, _db);
    }
}
