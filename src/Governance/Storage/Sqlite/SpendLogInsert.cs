using System.Text;
using LLMux.Governance.Entities;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace LLMux.Governance.Storage.Sqlite;

/// <summary>
/// Writes spend log rows as multi-row <c>INSERT OR IGNORE</c> statements bound through SQLite's C API on the
/// connection's own handle. The spend log gets one row per call, so this is the embedded store's hottest write: one
/// statement step per <see cref="RowsPerStatement"/> rows and UTF-8 bound from the stack, where ADO.NET parameters
/// cost a step, 18 boxed values and 18 transcoded strings per row (bench/ SpendLogInsertBenchmarks measures both).
/// </summary>
internal sealed class SpendLogInsert : IDisposable
{
    public const int RowsPerStatement = 32;
    private const int Columns = 18;
    private const string ColumnList = "request_id, call_type, api_key, spend, total_tokens, prompt_tokens, completion_tokens, \"startTime\", \"endTime\", model, model_group, custom_llm_provider, \"user\", team_id, end_user, key_alias, status, cache_hit";

    private readonly sqlite3 _db;
    private sqlite3_stmt? _full;

    public SpendLogInsert(sqlite3 db) => _db = db;

    /// <summary>
    /// Inserts every row. False when some request id was already in the log (a batch written before, then retried):
    /// the caller rolls back and writes the batch row by row, so that no spend is added twice.
    /// </summary>
    public bool TryInsertAll(IReadOnlyList<SpendRow> rows)
    {
        var i = 0;
        for (; i + RowsPerStatement <= rows.Count; i += RowsPerStatement)
            if (!Run(_full ??= Prepare(RowsPerStatement), rows, i, RowsPerStatement)) return false;
        var tail = rows.Count - i;
        if (tail == 0) return true;
        var stmt = Prepare(tail);
        try { return Run(stmt, rows, i, tail); }
        finally { stmt.Dispose(); }
    }

    public void Dispose() => _full?.Dispose();

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
        Span<byte> utf8 = stackalloc byte[768];
        var n = Encoding.UTF8.GetBytes(value, utf8);
        Check(raw.sqlite3_bind_text(stmt, index, utf8[..n]));
    }

    // The store's text form of a time ("O" of a UTC DateTime: yyyy-MM-ddTHH:mm:ss.fffffffZ), formatted as UTF-8 in place.
    private void Time(sqlite3_stmt stmt, int index, DateTimeOffset value)
    {
        Span<byte> utf8 = stackalloc byte[40];
        value.UtcDateTime.TryFormat(utf8, out var n, "O");
        Check(raw.sqlite3_bind_text(stmt, index, utf8[..n]));
    }

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK) SqliteException.ThrowExceptionForRC(rc, _db);
    }
}
