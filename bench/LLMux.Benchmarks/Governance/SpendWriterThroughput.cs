using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using LLMux.Governance.Entities;
using LLMux.Governance.Spend;
using LLMux.Governance.Storage;
using LLMux.Governance.Storage.Postgres;
using LLMux.Governance.Storage.Sqlite;

namespace LLMux.Benchmarks.Governance;

/// <summary>
/// <c>dotnet run -c Release --project bench/LLMux.Benchmarks -- spend-writer [rows] [postgres connection string]</c>:
/// the spend writer's throughput (rows a second from the first <see cref="SpendWriter.Enqueue"/> to the end of
/// <see cref="SpendWriter.FlushAsync"/>, four producers) against the store's own ceiling in the same run (its
/// <c>WriteSpendAsync</c> called in batches of <see cref="SpendWriter.BatchSize"/> from one loop, no queue), for
/// SQLite and, when a connection string is given (or <c>LLMUX_TEST_POSTGRES</c> is set), PostgreSQL (which then keeps
/// the rows written: give it a throwaway database). Then its memory
/// bound: with the store stalled, the managed heap holding a full queue, and what the rows past it cost (spilled to the
/// local file: nothing).
/// </summary>
public static class SpendWriterThroughput
{
    private const string ApiKey = "88f0c4bd2a8d2bfb3e1c5e4c1e2f0a9b6b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e";

    public static void Run(string[] args)
    {
        var rows = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 200_000;
        var pg = args.Length > 2 ? args[2] : Environment.GetEnvironmentVariable("LLMUX_TEST_POSTGRES");
        Console.WriteLine($"# Spend writer throughput ({rows:N0} rows per run, {Environment.ProcessorCount} cores, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]})");
        Console.WriteLine();
        Console.WriteLine("| store | queue capacity | store alone, batches of 500 (rows/s) | spend writer, 4 producers (rows/s) | ratio | CPU µs / row | rows over capacity (written by their callers) |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        var dir = Path.Combine(Path.GetTempPath(), "llmux-spendwriter-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            // A queue that holds the whole run: the writer's own drain rate. Then the default queue, flooded far faster
            // than any gateway makes rows: the full-queue policy at work (without a spill directory).
            foreach (var capacity in new[] { rows, 10_000 })
            {
                Measure("SQLite (WAL file)", () => Sqlite(Path.Combine(dir, $"s{Guid.NewGuid():N}.db")), rows, capacity);
                if (!string.IsNullOrEmpty(pg)) Measure("PostgreSQL (loopback)", () => Postgres(pg), rows, capacity);
            }
            MemoryBound(dir);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    private static IGovernanceStore Sqlite(string path)
    {
        var s = new SqliteGovernanceStore(path);
        s.MigrateAsync().AsTask().GetAwaiter().GetResult();
        return s;
    }

    private static IGovernanceStore Postgres(string connectionString)
    {
        var s = new PostgresGovernanceStore(connectionString);
        s.MigrateAsync().AsTask().GetAwaiter().GetResult();
        return s;
    }

    private static long _seq;

    private static SpendRow Row()
    {
        var at = DateTimeOffset.UtcNow;
        return new SpendRow
        {
            RequestId = "bench-" + Interlocked.Increment(ref _seq).ToString("x12", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..8],
            CallType = "acompletion", ApiKey = ApiKey, Spend = 0.000123m, PromptTokens = 12, CompletionTokens = 30, StartTime = at.AddMilliseconds(-40), EndTime = at,
            Model = "gpt-4o-mini", ModelGroup = "bench", Provider = "openai", KeyAlias = "bench-key",
        };
    }

    private static void Measure(string name, Func<IGovernanceStore> open, int rows, int capacity)
    {
        // The store's ceiling: prepared batches, one loop, nothing else.
        var direct = open();
        var batches = Enumerable.Range(0, rows / SpendWriter.BatchSize).Select(_ => Enumerable.Range(0, SpendWriter.BatchSize).Select(_ => Row()).ToArray()).ToArray();
        var clock = Stopwatch.StartNew();
        foreach (var b in batches) direct.WriteSpendAsync(b).AsTask().GetAwaiter().GetResult();
        var directRate = batches.Length * SpendWriter.BatchSize / clock.Elapsed.TotalSeconds;
        Dispose(direct);

        // The writer: four producers enqueue as calls finishing would; done when the flush returns (every row stored).
        var store = open();
        var writer = new SpendWriter(store, TimeProvider.System, capacity);
        var prepared = Enumerable.Range(0, rows).Select(_ => Row()).ToArray();
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        clock.Restart();
        Parallel.For(0, 4, p =>
        {
            for (var i = p; i < prepared.Length; i += 4) writer.Enqueue(prepared[i]);
        });
        writer.FlushAsync().GetAwaiter().GetResult();
        var elapsed = clock.Elapsed.TotalSeconds;
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMicroseconds / rows;
        var rate = rows / elapsed;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {capacity:N0} | {directRate:N0} | {rate:N0} | {rate / directRate:F2}× | {cpu:F1} | {writer.Overflowed:N0} |"));
        writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Dispose(store);
    }

    /// <summary>With the store stalled (a database that does not answer), what a full queue holds, and what rows beyond it cost.</summary>
    private static void MemoryBound(string dir)
    {
        var inner = Sqlite(Path.Combine(dir, "stalled.db"));
        var stalled = DispatchProxy.Create<IGovernanceStore, StalledStore>();
        var gate = ((StalledStore)(object)stalled).Use(inner);
        var spill = Path.Combine(dir, "spill");
        const int capacity = 10_000;
        var writer = new SpendWriter(stalled, TimeProvider.System, capacity, spill);
        const int beyond = capacity * 5;
        var before = Heap();
        // The first rows go to the writer's first batch, stalled in the store; then the queue fills. Rows are made as
        // calls would make them, so the heap holds only what the writer keeps.
        for (var i = 0; i < SpendWriter.BatchSize; i++) writer.Enqueue(Row());
        Thread.Sleep(200);
        for (var i = 0; i < capacity; i++) writer.Enqueue(Row());
        var full = Heap();
        for (var i = 0; i < beyond; i++) writer.Enqueue(Row());
        var past = Heap();
        var total = SpendWriter.BatchSize + capacity + beyond;
        var spilled = Directory.Exists(spill) ? Directory.GetFiles(spill).Sum(f => new FileInfo(f).Length) : 0;
        Console.WriteLine();
        Console.WriteLine($"Memory bound (store stalled, queue capacity {capacity:N0} rows, {SpendWriter.BatchSize} more in the stalled batch; a row as the gateway makes it):");
        Console.WriteLine();
        Console.WriteLine("| state | managed heap growth | spilled to the local file |");
        Console.WriteLine("|---|---|---|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| queue full ({capacity + SpendWriter.BatchSize:N0} rows held) | {(full - before) / 1024.0 / 1024.0:N1} MiB ({(full - before) / (double)(capacity + SpendWriter.BatchSize):N0} B per row) | 0 |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {beyond:N0} more rows | {(past - before) / 1024.0 / 1024.0:N1} MiB | {writer.Spilled:N0} rows, {spilled / 1024.0 / 1024.0:N1} MiB ({spilled / (double)Math.Max(1, writer.Spilled):N0} B per row) |"));
        gate.SetResult();
        writer.FlushAsync().GetAwaiter().GetResult();
        writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"After the store answered again: {writer.Written:N0} of {total:N0} rows written (spill file drained)."));
        Dispose(inner);
    }

    private static void Dispose(IGovernanceStore store)
    {
        if (store is IAsyncDisposable a) a.DisposeAsync().AsTask().GetAwaiter().GetResult();
        else (store as IDisposable)?.Dispose();
    }

    private static long Heap()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    /// <summary>A store whose spend writes wait for a gate: the database is not answering.</summary>
    public class StalledStore : DispatchProxy
    {
        private IGovernanceStore _inner = null!;
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Use(IGovernanceStore inner)
        {
            _inner = inner;
            return _gate;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == nameof(IGovernanceStore.WriteSpendAsync))
                return new ValueTask(WaitThenWriteAsync((IReadOnlyList<SpendRow>)args![0]!));
            return targetMethod.Invoke(_inner, args);
        }

        private async Task WaitThenWriteAsync(IReadOnlyList<SpendRow> rows)
        {
            await _gate.Task.ConfigureAwait(false);
            await _inner.WriteSpendAsync(rows).ConfigureAwait(false);
        }
    }
}
