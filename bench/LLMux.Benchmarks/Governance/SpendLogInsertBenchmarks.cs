using BenchmarkDotNet.Attributes;
using LLMux.Governance.Entities;
using LLMux.Governance.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace LLMux.Benchmarks.Governance;

/// <summary>
/// One spend writer batch (400 rows, what a busy gateway gathers in the writer's 50 ms linger) into the embedded
/// SQLite store: <see cref="SqliteGovernanceStore.WriteSpendAsync"/> (multi-row statements bound through SQLite's C API)
/// against the same rows written with Microsoft.Data.Sqlite's parameterised commands, one per row, in one transaction.
/// Both write to WAL files of the same schema, so the difference is the binding and the statement steps.
/// </summary>
[MemoryDiagnoser]
public class SpendLogInsertBenchmarks
{
    private const int Batch = 400;
    private const string Columns = "request_id, call_type, api_key, spend, total_tokens, prompt_tokens, completion_tokens, \"startTime\", \"endTime\", model, model_group, custom_llm_provider, \"user\", team_id, end_user, key_alias, status, cache_hit";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "llmux-spendbench-" + Guid.NewGuid().ToString("N"));
    private SqliteGovernanceStore _store = null!;
    private SqliteGovernanceStore _adoStore = null!;
    private DateTimeOffset _at = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    [GlobalSetup]
    public void Setup()
    {
        Directory.CreateDirectory(_dir);
        _store = new SqliteGovernanceStore(Path.Combine(_dir, "store.db"));
        _store.MigrateAsync().AsTask().GetAwaiter().GetResult();
        _adoStore = new SqliteGovernanceStore(Path.Combine(_dir, "ado.db"));
        _adoStore.MigrateAsync().AsTask().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private SpendRow[] NextBatch()
    {
        var rows = new SpendRow[Batch];
        for (var i = 0; i < Batch; i++)
        {
            _at = _at.AddTicks(1234);
            rows[i] = new SpendRow
            {
                RequestId = Guid.CreateVersion7(_at).ToString(), CallType = "acompletion", ApiKey = "88f0c4bd2a8d2bfb3e1c5e4c1e2f0a9b6b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e",
                Spend = 0.000123m, PromptTokens = 12, CompletionTokens = 30, StartTime = _at, EndTime = _at.AddMilliseconds(40),
                Model = "gpt-4o-mini", ModelGroup = "bench", Provider = "openai", KeyAlias = "bench-key",
            };
        }
        return rows;
    }

    [Benchmark(Baseline = true)]
    public void AdoNetRowByRow()
    {
        var rows = NextBatch();
        using var c = new SqliteConnection(_adoStore.ConnectionString);
        c.Open();
        using var tx = c.BeginTransaction(deferred: false);
        using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = $"INSERT OR IGNORE INTO \"LiteLLM_SpendLogs\" ({Columns}) VALUES ($a,$b,$c,$d,$e,$f,$g,$h,$i,$j,$k,$l,$m,$n,$o,$p,$q,$r)";
        var p = new SqliteParameter[18];
        for (var i = 0; i < p.Length; i++) p[i] = cmd.Parameters.AddWithValue("$" + (char)('a' + i), DBNull.Value);
        decimal sum = 0;
        foreach (var row in rows)
        {
            p[0].Value = row.RequestId; p[1].Value = row.CallType; p[2].Value = row.ApiKey; p[3].Value = (double)row.Spend;
            p[4].Value = row.TotalTokens; p[5].Value = row.PromptTokens; p[6].Value = row.CompletionTokens;
            p[7].Value = row.StartTime.UtcDateTime.ToString("O"); p[8].Value = row.EndTime.UtcDateTime.ToString("O");
            p[9].Value = (object?)row.Model ?? DBNull.Value; p[10].Value = (object?)row.ModelGroup ?? DBNull.Value; p[11].Value = (object?)row.Provider ?? DBNull.Value;
            p[12].Value = (object?)row.UserId ?? DBNull.Value; p[13].Value = (object?)row.TeamId ?? DBNull.Value; p[14].Value = (object?)row.EndUser ?? DBNull.Value;
            p[15].Value = (object?)row.KeyAlias ?? DBNull.Value; p[16].Value = row.Status; p[17].Value = row.CacheHit ? "True" : "False";
            if (cmd.ExecuteNonQuery() == 1) sum += row.Spend;
        }
        using var key = c.CreateCommand();
        key.Transaction = tx;
        key.CommandText = "UPDATE \"LiteLLM_VerificationToken\" SET spend = spend + $s WHERE token = $id";
        key.Parameters.AddWithValue("$s", (double)sum);
        key.Parameters.AddWithValue("$id", rows[0].ApiKey);
        key.ExecuteNonQuery();
        tx.Commit();
    }

    [Benchmark]
    public void LlmuxStore() => _store.WriteSpendAsync(NextBatch()).AsTask().GetAwaiter().GetResult();
}
