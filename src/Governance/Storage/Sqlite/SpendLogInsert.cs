using System.Globalization;
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

    // Every statement takes a row's values in two numbered groups: its own 7 (request_id, spend, total, prompt and
    // completion tokens, start, end) and the 11 a caller's rows share (call_type, api_key, model, model_group, provider,
    // user, team_id, end_user, key_alias, status, cache_hit). A row-by-row statement numbers both groups per row; the
    // shared statement numbers the 11 once, first, and only the 7 per row.
    private sqlite3_stmt Prepare(int rows) => Prepare(rows, static r => (r * Columns + 1, r * Columns + 1 + OwnColumns));

    private sqlite3_stmt PrepareShared() => Prepare(RowsPerStatement, static r => (SharedColumns + r * OwnColumns + 1, 1));

    private sqlite3_stmt Prepare(int rows, Func<int, (int Own, int Shared)> numbering)
    {
        var sql = new StringBuilder(160 + rows * 96);
        sql.Append("INSERT OR IGNORE INTO \"LiteLLM_SpendLogs\" (").Append(ColumnList).Append(") VALUES ");
        for (var r = 0; r < rows; r++)
        {
            var (o, c) = numbering(r);
            if (r > 0) sql.Append(',');
            // In ColumnList's order: request_id, call_type, api_key, spend, the three token counts, start, end, then the rest of the shared.
            sql.Append(CultureInfo.InvariantCulture, $"(?{o},?{c},?{c + 1},?{o + 1},?{o + 2},?{o + 3},?{o + 4},?{o + 5},?{o + 6},");
            for (var k = 2; k < SharedColumns; k++) sql.Append('?').Append(c + k).Append(k + 1 < SharedColumns ? "," : ")");
        }
        Check(raw.sqlite3_prepare_v2(_db, sql.ToString(), out var stmt));
        return stmt;
    }

    private bool RunShared(sqlite3_stmt stmt, List<SpendRow> rows, int start)
    {
        BindShared(stmt, rows[start], 1);
        for (var k = 0; k < RowsPerStatement; k++) BindOwn(stmt, rows[start + k], SharedColumns + k * OwnColumns + 1);
        return Step(stmt, RowsPerStatement);
    }

    private bool Run(sqlite3_stmt stmt, IReadOnlyList<SpendRow> rows, int start, int count)
    {
        for (var k = 0; k < count; k++)
        {
            BindOwn(stmt, rows[start + k], k * Columns + 1);
            BindShared(stmt, rows[start + k], k * Columns + 1 + OwnColumns);
        }
        return Step(stmt, count);
    }

    private void BindOwn(sqlite3_stmt stmt, SpendRow row, int at)
    {
        Text(stmt, at, row.RequestId);
        Check(raw.sqlite3_bind_double(stmt, at + 1, (double)row.Spend));
        Check(raw.sqlite3_bind_int64(stmt, at + 2, row.TotalTokens));
        Check(raw.sqlite3_bind_int64(stmt, at + 3, row.PromptTokens));
        Check(raw.sqlite3_bind_int64(stmt, at + 4, row.CompletionTokens));
        Time(stmt, at + 5, row.StartTime);
        Time(stmt, at + 6, row.EndTime);
    }

    private void BindShared(sqlite3_stmt stmt, SpendRow row, int at)
    {
        Text(stmt, at, row.CallType);
        Text(stmt, at + 1, row.ApiKey);
        Text(stmt, at + 2, row.Model);
        Text(stmt, at + 3, row.ModelGroup);
        Text(stmt, at + 4, row.Provider);
        Text(stmt, at + 5, row.UserId);
        Text(stmt, at + 6, row.TeamId);
        Text(stmt, at + 7, row.EndUser);
        Text(stmt, at + 8, row.KeyAlias);
        Text(stmt, at + 9, row.Status);
        Text(stmt, at + 10, row.CacheHit ? "True" : "False");
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
