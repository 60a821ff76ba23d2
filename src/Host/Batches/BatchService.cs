using System.Collections.Concurrent;
using System.Security.Cryptography;
using LLMux.Governance;
using LLMux.Governance.Entities;
using LLMux.Governance.Storage;
using LLMux.Host.Batch;
using LLMux.Host.Files;
using LLMux.Pipeline.Context;
using LLMux.Stages.Accounting;
using LLMux.Stages.Hosting;

namespace LLMux.Host.Batches;

/// <summary>
/// Runs the Batches API's batches inside the gateway, through the same engine as <c>llmux batch</c> (router,
/// retries, per-model limits), in the background: validating → in_progress → finalizing → completed, or failed,
/// expired, cancelling → cancelled. Each batch's state lives in the gateway's store (<see cref="IBatchStore"/>: SQLite by
/// default, PostgreSQL with <c>database_url</c>), its output and errors in its own folder under the storage directory.
/// Several replicas share batches: any answers for any batch, and exactly one runs each unfinished batch — the one
/// holding its lease, renewed while it runs; when a runner dies its lease lapses and another replica takes the batch
/// over. A replica that stops lets the calls in flight finish and be written, then gives its leases up, so the batch
/// resumes (here after a restart, or on another replica) where it stopped without sending a line twice.
/// Batches have their own concurrency budget (<see cref="ConcurrentBatches"/> × <see cref="Parallelism"/>
/// calls), apart from interactive traffic, and each call is made as the key that created the batch.
/// </summary>
internal sealed partial class BatchService : IAsyncDisposable
{
    public const int MaxLines = 50_000;

    private readonly string _dir;
    private readonly FileStore _files;
    private readonly ILlmClient _client;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<string, int?>? _modelLimit;
    private readonly IBatchStore _store;
    private readonly string _holder = "replica-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
    /// <summary>The batches this replica runs now (it holds their leases).</summary>
    private readonly ConcurrentDictionary<string, BatchJob> _local = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _running = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _aborts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task> _tasks = new(StringComparer.Ordinal);
    /// <summary>Stopping: no new line is sent, no new batch is taken; calls in flight finish.</summary>
    private readonly CancellationTokenSource _shutdown = new();
    /// <summary>Stopping and the calls in flight did not finish within <see cref="DrainTimeout"/>: they are cancelled (a resume sends them again).</summary>
    private readonly CancellationTokenSource _abort = new();
    private readonly SemaphoreSlim _slots;
    private readonly SemaphoreSlim _scanning = new(1, 1);
    private Task? _scanLoop;

    public int Parallelism { get; }
    public int ConcurrentBatches { get; }
    /// <summary>How long a runner's lease lasts unless renewed (renewed every third of it).</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>How often a replica looks for batches no one runs (new ones, or ones whose runner died).</summary>
    public TimeSpan ScanInterval { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(20);
    /// <summary>Governance, when on: native batches' usage and cost are charged to the key that created the batch.</summary>
    public GovernanceService? Governance { get; init; }
    public CostCalculator? Costs { get; init; }
    /// <summary>Runs the lines of /v1/responses and /v1/completions batches through those endpoints.</summary>
    public EndpointLineSender? Endpoints { get; init; }

    [LoggerMessage(Level = LogLevel.Warning, Message = "batch {BatchId} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string batchId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "batch {BatchId}: the provider refused the cancel ({Reason}); polling it to its end")]
    private static partial void LogCancelRefused(ILogger logger, string batchId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "batch {BatchId}: another replica took it over (this replica's lease lapsed); stopping here")]
    private static partial void LogLeaseLost(ILogger logger, string batchId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "batches: the store could not be read ({Reason}); trying again")]
    private static partial void LogStoreError(ILogger logger, string reason);

    private readonly ModelRegistry? _registry;
    private readonly NativeBatchRunner? _native;
    private readonly AnthropicBatchRunner? _anthropic;

    public BatchService(string directory, FileStore files, ILlmClient client, TimeProvider time, ILogger logger, IBatchStore store, int parallelism = 8, int concurrentBatches = 2,
        Func<string, int?>? modelLimit = null, ModelRegistry? registry = null, NativeBatchRunner? native = null, AnthropicBatchRunner? anthropic = null)
    {
        _registry = registry;
        _native = native;
        _anthropic = anthropic;
        _store = store;
        _dir = Path.Combine(directory, "batches");
        Directory.CreateDirectory(_dir);
        _files = files;
        _client = client;
        _time = time;
        _logger = logger;
        _modelLimit = modelLimit;
        Parallelism = parallelism;
        ConcurrentBatches = concurrentBatches;
        _slots = new SemaphoreSlim(concurrentBatches, concurrentBatches);
        ImportStateFiles();
    }

    /// <summary>
    /// The store for <paramref name="config"/>: PostgreSQL when <c>database_url</c> is set, else the SQLite file
    /// <c>database_path</c>, else <c>llmux.db</c> in the storage directory; migrated.
    /// </summary>
    public static IBatchStore OpenStore(Config.GatewayConfig config)
    {
        if (config.DatabaseUrl is { } url) return OpenPostgres(url);
        var path = config.DatabasePath ?? Path.Combine(config.Files.StoragePath, "llmux.db");
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } dir) Directory.CreateDirectory(dir);
        // Opened when a batch is first created or the file exists (then migrated now, so a broken file fails the start).
        var sqlite = new DeferredSqliteBatchStore(path);
        if (File.Exists(path)) MigrateExisting(sqlite, path);
        return sqlite;
    }

    // Its own method: the catch clause names SqliteException, and the JIT resolves it (loading Microsoft.Data.Sqlite
    // and System.Data.Common, ≈ 1 MB of RSS) when it compiles the method, even in a host that never opens the file.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void MigrateExisting(DeferredSqliteBatchStore sqlite, string path)
    {
        try
        {
            sqlite.MigrateAsync().AsTask().GetAwaiter().GetResult();
        }
        catch (Microsoft.Data.Sqlite.SqliteException ex)
        {
            throw new Config.ConfigException([$"general_settings.database_path: the batch store cannot open or migrate the SQLite database `{path}`: {ex.Message}"]);
        }
    }

    /// <summary>
    /// A store that failed (database away, timeout): the scan or the batch retries later. Its own method, so that the
    /// filters that ask do not name <c>DbException</c> themselves (the JIT would load System.Data.Common, ≈ 1 MB of
    /// RSS, in every host that runs the batch scan).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static bool IsStoreFailure(Exception ex) => ex is System.Data.Common.DbException or InvalidOperationException or TimeoutException;

    // Its own method: Npgsql is loaded only by a host that has a database_url.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static IBatchStore OpenPostgres(string url)
    {
        try
        {
            var pg = new LLMux.Governance.Storage.Postgres.PostgresBatchStore(url);
            pg.MigrateAsync().AsTask().GetAwaiter().GetResult();
            return pg;
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or ArgumentException or UriFormatException or FormatException)
        {
            throw new Config.ConfigException([$"general_settings.database_url: the batch store cannot connect to or migrate PostgreSQL: {ex.Message}"]);
        }
    }

    /// <summary>Batches an earlier LLMux kept in state files (<c>batches/&lt;id&gt;/batch.json</c>) move into the store once.</summary>
    private void ImportStateFiles()
    {
        foreach (var folder in Directory.EnumerateDirectories(_dir))
        {
            var file = Path.Combine(folder, "batch.json");
            if (!File.Exists(file) || BatchJob.Load(file) is not { } job) continue;
            if (_store.FindAsync(job.Id).AsTask().GetAwaiter().GetResult() is null)
                _store.InsertAsync(Row(job)).AsTask().GetAwaiter().GetResult();
            File.Move(file, file + ".imported", overwrite: true);
        }
    }

    private static BatchRow Row(BatchJob job) => new()
    {
        Id = job.Id, Owner = job.Caller.OwnerScope, TeamId = job.Caller.TeamId, CreatedAt = job.CreatedAt, Status = job.Status, State = job.ToState(),
    };

    /// <summary>Starts looking for batches to run: unfinished ones (resumed after a restart), new ones, and ones whose runner died.</summary>
    public void Start() => _scanLoop = Task.Run(ScanLoopAsync);

    private async Task ScanLoopAsync()
    {
        while (!_shutdown.IsCancellationRequested)
        {
            await ScanAsync().ConfigureAwait(false);
            try
            {
                await Task.Delay(ScanInterval, _time, _shutdown.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Takes every batch no replica holds, while this one has a free slot (a cancelled batch needs none: ending it sends nothing).</summary>
    private async Task ScanAsync()
    {
        if (_shutdown.IsCancellationRequested || !await _scanning.WaitAsync(0).ConfigureAwait(false)) return;
        try
        {
            foreach (var id in await _store.RunnableAsync(NowMs, 100).ConfigureAwait(false))
            {
                if (_shutdown.IsCancellationRequested) return;
                if (_local.ContainsKey(id)) continue;
                var row = await _store.FindAsync(id).ConfigureAwait(false);
                if (row is null) continue;
                var slot = false;
                if (row.CancelRequestedAt is null)
                {
                    if (!await _slots.WaitAsync(0).ConfigureAwait(false)) continue;
                    slot = true;
                }
                if (!await _store.TryLeaseAsync(id, _holder, NowMs, NowMs + (long)Lease.TotalMilliseconds).ConfigureAwait(false)
                    || await _store.FindAsync(id).ConfigureAwait(false) is not { } leased || BatchJob.FromState(leased.State, leased.CancelRequestedAt) is not { } job)
                {
                    if (slot) _slots.Release();
                    continue;
                }
                if (job.IsTerminal)
                {
                    await _store.ReleaseAsync(id, _holder).ConfigureAwait(false);
                    if (slot) _slots.Release();
                    continue;
                }
                _local[id] = job;
                Launch(job, slot);
            }
        }
        catch (Exception ex) when (IsStoreFailure(ex))
        {
            LogStoreError(_logger, ex.Message);
        }
        finally
        {
            _scanning.Release();
        }
    }

    private long Now => _time.GetUtcNow().ToUnixTimeSeconds();
    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    public static string NewId() => "batch_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    public async Task<BatchJob> CreateAsync(string endpoint, StoredFile input, string? metadata, Caller caller)
    {
        var job = new BatchJob { Id = NewId(), Endpoint = endpoint, InputFileId = input.Id, Metadata = metadata, CreatedAt = Now, Caller = caller };
        Directory.CreateDirectory(Folder(job));
        await _store.InsertAsync(Row(job)).ConfigureAwait(false);
        _ = Task.Run(ScanAsync);
        return job;
    }

    public static bool CanSee(BatchJob job, Caller? caller) =>
        caller is null || caller.IsAdmin || job.Caller.OwnerScope == caller.OwnerScope || (job.Caller.TeamId is not null && job.Caller.TeamId == caller.TeamId);

    /// <summary>The batch as this replica runs it (its counts are the freshest), else as the store has it.</summary>
    public async Task<BatchJob?> FindAsync(string id, Caller? caller)
    {
        var job = _local.TryGetValue(id, out var j) ? j
            : await _store.FindAsync(id).ConfigureAwait(false) is { } row ? BatchJob.FromState(row.State, row.CancelRequestedAt) : null;
        return job is not null && CanSee(job, caller) ? job : null;
    }

    public async Task<IReadOnlyList<BatchJob>> ListAsync(Caller? caller)
    {
        var all = caller is null || caller.IsAdmin;
        var rows = await _store.ListAsync(all ? null : caller!.OwnerScope, all ? null : caller!.TeamId).ConfigureAwait(false);
        var list = new List<BatchJob>(rows.Count);
        foreach (var row in rows)
        {
            var job = _local.TryGetValue(row.Id, out var j) ? j : BatchJob.FromState(row.State, row.CancelRequestedAt);
            if (job is not null && CanSee(job, caller)) list.Add(job);
        }
        return list;
    }

    /// <summary>
    /// Asks a batch to stop: recorded in the store (the replica that runs it sees it at its next save, within a
    /// second), cancelling now, cancelled once the calls in flight have ended. False when it has already ended.
    /// </summary>
    public async Task<bool> CancelAsync(BatchJob job)
    {
        if (job.IsTerminal) return false;
        var at = Now;
        if (!await _store.RequestCancelAsync(job.Id, at).ConfigureAwait(false)) return false;
        if (_local.TryGetValue(job.Id, out var mine)) MarkCancelling(mine, at);
        else _ = Task.Run(ScanAsync);
        return true;
    }

    private void MarkCancelling(BatchJob job, long at)
    {
        var changed = false;
        lock (job.Sync)
        {
            job.CancelRequestedAt ??= at;
            if (!job.IsTerminal && job.Status != "cancelling")
            {
                job.Status = "cancelling";
                job.CancellingAt = at;
                changed = true;
            }
        }
        if (!changed) return;
        Save(job);
        if (_running.TryGetValue(job.Id, out var cts)) cts.Cancel();
    }

    private void Launch(BatchJob job, bool slot)
    {
        var task = Task.Run(() => RunLeasedAsync(job, slot));
        _tasks[job.Id] = task;
        _ = task.ContinueWith(t => _tasks.TryRemove(job.Id, out _), TaskScheduler.Default);
    }

    /// <summary>The batch's folder: <c>output.jsonl</c>, <c>errors.jsonl</c> (and a native run's working files).</summary>
    private string Folder(BatchJob job) => Path.Combine(_dir, job.Id);

    /// <summary>Writes the batch to the store (only while this replica holds its lease); notices a cancel another replica recorded.</summary>
    private void Save(BatchJob job)
    {
        if (job.LeaseLost) return;
        string status, state;
        lock (job.Sync)
        {
            status = job.Status;
            state = job.ToState();
        }
        try
        {
            var (saved, cancelAt) = _store.SaveAsync(job.Id, _holder, status, state).AsTask().GetAwaiter().GetResult();
            if (!saved) { LoseLease(job); return; }
            if (cancelAt is { } at && job.Status != "cancelling" && !job.IsTerminal) MarkCancelling(job, at);
        }
        catch (Exception ex) when (IsStoreFailure(ex))
        {
            LogFailed(_logger, job.Id, "its state could not be saved: " + ex.Message);
        }
    }

    /// <summary>
    /// This replica no longer runs the batch: it sends no new line and writes nothing more to the store. With
    /// <paramref name="abort"/> (another replica holds the lease now) the calls in flight are cancelled too.
    /// </summary>
    private void LoseLease(BatchJob job, bool abort = true)
    {
        if (job.LeaseLost) return;
        job.LeaseLost = true;
        LogLeaseLost(_logger, job.Id);
        if (abort && _aborts.TryGetValue(job.Id, out var a)) a.Cancel();
        if (_running.TryGetValue(job.Id, out var cts)) cts.Cancel();
    }

    private int _savingInBackground;

    /// <summary>A progress save off the writer's thread (one at a time): a slow store never holds results back from the output file.</summary>
    private void SaveSoon(BatchJob job)
    {
        if (Interlocked.Exchange(ref _savingInBackground, 1) == 1) return;
        _ = Task.Run(() =>
        {
            try { Save(job); }
            finally { Volatile.Write(ref _savingInBackground, 0); }
        });
    }

    private void Set(BatchJob job, string status, Action<BatchJob>? also = null)
    {
        lock (job.Sync)
        {
            job.Status = status;
            also?.Invoke(job);
        }
        Save(job);
    }

    /// <summary>This replica stops running the batch (it ended, or this replica is stopping): no more writes for it.</summary>
    private bool Stopping(BatchJob job) => _shutdown.IsCancellationRequested || job.LeaseLost;

    /// <summary>Runs a batch whose lease this replica holds, renewing the lease meanwhile; gives it up at the end.</summary>
    private async Task RunLeasedAsync(BatchJob job, bool slot)
    {
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(_abort.Token);
        _aborts[job.Id] = abort;
        using var renewing = new CancellationTokenSource();
        var renewal = RenewAsync(job, renewing.Token);
        try
        {
            await RunAsync(job, abort.Token).ConfigureAwait(false);
        }
        finally
        {
            renewing.Cancel();
            await renewal.ConfigureAwait(false);
            _aborts.TryRemove(job.Id, out _);
            if (!job.LeaseLost)
            {
                Save(job);
                try
                {
                    await _store.ReleaseAsync(job.Id, _holder).ConfigureAwait(false);
                }
                catch (Exception ex) when (IsStoreFailure(ex))
                {
                    // The lease lapses by itself.
                    LogFailed(_logger, job.Id, "its lease could not be given up: " + ex.Message);
                }
            }
            _local.TryRemove(job.Id, out _);
            if (slot) _slots.Release();
            if (!_shutdown.IsCancellationRequested) _ = Task.Run(ScanAsync);
        }
    }

    /// <summary>
    /// Renews the lease every third of its length. A replica that could not renew for half of it (cut off from the
    /// store) stops sending lines — its calls in flight still finish and are written — well before the lease lapses and
    /// another replica may take the batch over, so that the two never run the same line.
    /// </summary>
    private async Task RenewAsync(BatchJob job, CancellationToken stop)
    {
        var every = Lease / 3;
        var lastRenewed = _time.GetTimestamp();
        while (true)
        {
            try
            {
                await Task.Delay(every, _time, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            try
            {
                if (await _store.TryLeaseAsync(job.Id, _holder, NowMs, NowMs + (long)Lease.TotalMilliseconds, CancellationToken.None).ConfigureAwait(false))
                {
                    lastRenewed = _time.GetTimestamp();
                    continue;
                }
                // Ended (terminal: nothing to renew) or taken over by another replica.
                if (!job.IsTerminal) LoseLease(job, abort: true);
                return;
            }
            catch (Exception ex) when (IsStoreFailure(ex))
            {
                LogStoreError(_logger, ex.Message);
            }
            if (_time.GetElapsedTime(lastRenewed) >= Lease / 2)
            {
                LoseLease(job, abort: false);
                return;
            }
        }
    }

    private async Task RunAsync(BatchJob job, CancellationToken abort)
    {
        try
        {
            if (job.Status == "cancelling" && (job.NativeDeployment is null || job.Native is null)) { Finish(job, cancelled: true); return; }
            if (Now >= job.ExpiresAt) { Set(job, "expired", j => j.ExpiredAt = Now); return; }
            if (job.Status == "validating" && !Validate(job)) return;
            if (job.Status is "in_progress" or "cancelling" && job.NativeDeployment is not null) await ExecuteNativeAsync(job).ConfigureAwait(false);
            else if (job.Status == "in_progress") await ExecuteAsync(job, abort).ConfigureAwait(false);
            if (Stopping(job) && job.Status is "in_progress") return;
            if (job.LeaseLost) return;
            if (job.Status is "in_progress" or "finalizing" or "cancelling") Finish(job, cancelled: job.Status == "cancelling");
        }
        catch (OperationCanceledException) when (Stopping(job))
        {
            // Stopping, or another replica took the batch over: it goes on there, or here after the restart.
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            LogFailed(_logger, job.Id, ex.Message);
            Set(job, "failed", j =>
            {
                j.FailedAt = Now;
                j.Errors.Add(new BatchJobError("batch_failed", "the gateway could not run this batch: " + ex.Message));
            });
        }
    }

    /// <summary>One pass over the input: every line a request, no repeated custom_id, at most <see cref="MaxLines"/>.
    /// Malformed lines do not fail the batch: they are reported one by one in the error file.</summary>
    private bool Validate(BatchJob job)
    {
        var input = _files.Find(job.InputFileId, null);
        if (input is null) return Fail(job, "input_file_not_found", $"the input file {job.InputFileId} was deleted before the batch ran", "input_file_id");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        long total = 0, number = 0;
        foreach (var text in File.ReadLines(_files.ContentPath(input.Id)))
        {
            number++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            total++;
            if (total > MaxLines) return Fail(job, "too_many_requests", $"the input file has more than {MaxLines:N0} requests; split it into several batches", "input_file_id");
            var line = BatchRequestLine.Parse(number, System.Text.Encoding.UTF8.GetBytes(text));
            if (line.CustomId is { } id && !seen.Add(id))
                return Fail(job, "duplicate_custom_id", $"The custom_id for each request must be unique: `{id}` appears again on line {number}", "custom_id", number);
        }
        if (total == 0) return Fail(job, "empty_file", "the input file has no requests", "input_file_id");
        var native = NativeDeploymentFor(input, job.Endpoint);
        Set(job, "in_progress", j =>
        {
            j.Total = total;
            j.InProgressAt = Now;
            j.NativeDeployment = native?.Id;
        });
        return true;
    }

    private bool Fail(BatchJob job, string code, string message, string? param, long? line = null)
    {
        Set(job, "failed", j =>
        {
            j.FailedAt = Now;
            j.Errors.Add(new BatchJobError(code, message, param, line));
        });
        return false;
    }

    /// <summary>
    /// Runs the lines not yet in the output or error file. Stopping or a cancel stops reading (<see cref="BatchOptions.StopReading"/>):
    /// the calls in flight finish and are written, so that no line is sent twice; <paramref name="abort"/> cancels them.
    /// </summary>
    private async Task ExecuteAsync(BatchJob job, CancellationToken abort)
    {
        var folder = Folder(job);
        var output = Path.Combine(folder, "output.jsonl");
        var errors = Path.Combine(folder, "errors.jsonl");
        var doneBefore = (Ok: CountLines(output), Failed: CountLines(errors));
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token);
        _running[job.Id] = cts;
        var progress = new BatchProgress();
        var lastSave = _time.GetTimestamp();
        progress.Written += p =>
        {
            lock (job.Sync)
            {
                job.Completed = doneBefore.Ok + p.Succeeded;
                job.Failed = doneBefore.Failed + p.Failed;
            }
            if (_time.GetElapsedTime(lastSave) >= TimeSpan.FromSeconds(1))
            {
                lastSave = _time.GetTimestamp();
                SaveSoon(job);
            }
        };
        try
        {
            if (job.Status == "cancelling") return;
            await BatchRunner.RunAsync(new BatchOptions
            {
                InputPath = _files.ContentPath(job.InputFileId),
                OutputPath = output,
                ErrorsPath = errors,
                Parallelism = Parallelism,
                ModelLimit = _modelLimit,
                Caller = job.Caller,
                RequiredMode = job.Mode,
                StopReading = cts.Token,
                Send = job.Mode is LLMux.Pipeline.Capabilities.LlmMode.Responses or LLMux.Pipeline.Capabilities.LlmMode.Completion && Endpoints is { } endpoints
                    ? (line, token) => endpoints.SendAsync(line, job.Caller, token)
                    : null,
            }, _client, progress, abort).ConfigureAwait(false);
        }
        finally
        {
            _running.TryRemove(job.Id, out _);
            lock (job.Sync)
            {
                job.Completed = CountLines(output);
                job.Failed = CountLines(errors);
            }
            Save(job);
        }
        if (job.Status == "in_progress" && !cts.IsCancellationRequested) Set(job, "finalizing", j => j.FinalizingAt = Now);
    }

    /// <summary>
    /// The deployment that can run the whole file with its provider's Batch API: every line names the same model
    /// group, and that group's first deployment is OpenAI or Azure OpenAI (see <see cref="NativeBatchRunner.Supports"/>).
    /// </summary>
    private Deployment? NativeDeploymentFor(StoredFile input, string endpoint)
    {
        if ((_native is null && _anthropic is null) || _registry is null) return null;
        string? model = null;
        // A line that is not a request (no JSON, no body.model string) is an error line on every runner; the OpenAI
        // runner uploads the file as it is, so such a line keeps the batch on the gateway there.
        var malformed = false;
        foreach (var text in File.ReadLines(_files.ContentPath(input.Id)))
        {
            if (string.IsNullOrWhiteSpace(text)) continue;
            try
            {
                using var doc = System.Text.Json.JsonDocument.Parse(text);
                if (doc.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object || !doc.RootElement.TryGetProperty("body", out var body)
                    || body.ValueKind != System.Text.Json.JsonValueKind.Object || !body.TryGetProperty("model", out var m) || m.ValueKind != System.Text.Json.JsonValueKind.String)
                {
                    malformed = true;
                    continue;
                }
                var name = m.GetString()!;
                if (model is null) model = name;
                else if (model != name) return null;
            }
            catch (System.Text.Json.JsonException)
            {
                malformed = true;
            }
        }
        if (model is null || _registry.Group(model) is not { Count: > 0 } group) return null;
        if (_native is not null && NativeBatchRunner.Supports(group[0])) return malformed ? null : group[0];
        // Anthropic's Message Batches take Messages requests: chat lines only.
        if (_anthropic is not null && endpoint == "/v1/chat/completions" && AnthropicBatchRunner.Supports(group[0])) return group[0];
        return null;
    }

    /// <summary>Runs the batch at the provider: create it once (kept in the job, so a restart polls the same batch), poll, copy its files back.</summary>
    private async Task ExecuteNativeAsync(BatchJob job)
    {
        var deployment = _registry!.All.FirstOrDefault(d => d.Id == job.NativeDeployment);
        if (deployment is null)
        {
            Fail(job, "deployment_gone", $"the deployment {job.NativeDeployment} that ran this batch is no longer in the config", null);
            return;
        }
        if (deployment.ProviderName == "anthropic" && _anthropic is not null)
        {
            await ExecuteAnthropicAsync(job, deployment, _anthropic).ConfigureAwait(false);
            return;
        }
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token);
        _running[job.Id] = cts;
        try
        {
            if (job.Native is null)
            {
                if (job.Status == "cancelling") return;
                var remote = await _native!.StartAsync(deployment, _files.ContentPath(job.InputFileId), job.Endpoint, job.Metadata, cts.Token).ConfigureAwait(false);
                lock (job.Sync) job.Native = remote;
                Save(job);
            }
            var cancelSent = false;
            while (true)
            {
                try
                {
                    if (job.Status == "cancelling" && !cancelSent)
                    {
                        await _native!.CancelAsync(deployment, job.Native!, _shutdown.Token).ConfigureAwait(false);
                        cancelSent = true;
                    }
                    using var final = await _native!.WaitAsync(deployment, job.Native!, (status, total, completed, failed) =>
                    {
                        lock (job.Sync)
                        {
                            if (total > 0) job.Total = total;
                            job.Completed = completed;
                            job.Failed = failed;
                        }
                    }, job.Status == "cancelling" ? _shutdown.Token : cts.Token).ConfigureAwait(false);
                    var root = final.RootElement;
                    var folder = Folder(job);
                    if (root.TryGetProperty("output_file_id", out var o) && o.GetString() is { } outId)
                        await _native.DownloadAsync(deployment, outId, Path.Combine(folder, "output.jsonl"), _shutdown.Token).ConfigureAwait(false);
                    if (root.TryGetProperty("error_file_id", out var e) && e.GetString() is { } errId)
                        await _native.DownloadAsync(deployment, errId, Path.Combine(folder, "errors.jsonl"), _shutdown.Token).ConfigureAwait(false);
                    ChargeNative(job, deployment);
                    var status = root.GetProperty("status").GetString();
                    if (status == "failed")
                    {
                        var message = root.TryGetProperty("errors", out var errs) && errs.ValueKind == System.Text.Json.JsonValueKind.Object && errs.GetProperty("data") is { ValueKind: System.Text.Json.JsonValueKind.Array } data && data.GetArrayLength() > 0
                            ? data[0].GetProperty("message").GetString() ?? "failed" : "the provider failed the batch";
                        Fail(job, "provider_failed", message, null);
                        return;
                    }
                    if (status == "expired") { Set(job, "expired", j => j.ExpiredAt = Now); return; }
                    if (status == "cancelled" && job.Status != "cancelling") Set(job, "cancelling", j => j.CancellingAt = Now);
                    else if (job.Status == "in_progress") Set(job, "finalizing", j => j.FinalizingAt = Now);
                    return;
                }
                catch (OperationCanceledException) when (!_shutdown.IsCancellationRequested && job.Status == "cancelling")
                {
                    // Cancelled by the client while polling: send the provider's cancel, then poll to its end.
                }
            }
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
            // Stopping: the provider's batch goes on; the next start polls it again.
        }
        catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException or System.Text.Json.JsonException or KeyNotFoundException)
        {
            Fail(job, "provider_error", ex.Message, null);
        }
        finally
        {
            _running.TryRemove(job.Id, out _);
            Save(job);
        }
    }

    /// <summary>
    /// Runs the batch with Anthropic's Message Batches: translate and create it once (its id kept in the job, so a
    /// restart polls the same batch), poll, translate its results back. Lines that could not be sent are in
    /// <c>local-errors.jsonl</c> and join the error file.
    /// </summary>
    private async Task ExecuteAnthropicAsync(BatchJob job, Deployment deployment, AnthropicBatchRunner anthropic)
    {
        var folder = Folder(job);
        var localErrors = Path.Combine(folder, "local-errors.jsonl");
        var output = Path.Combine(folder, "output.jsonl");
        var errors = Path.Combine(folder, "errors.jsonl");
        var input = _files.ContentPath(job.InputFileId);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token);
        _running[job.Id] = cts;
        try
        {
            if (job.Native is null)
            {
                if (job.Status == "cancelling") return;
                var remote = await anthropic.StartAsync(deployment, input, folder, localErrors, job.Caller, cts.Token).ConfigureAwait(false);
                if (remote is null)
                {
                    // No line could be sent: the error file is the whole answer.
                    if (File.Exists(localErrors)) File.Copy(localErrors, errors, overwrite: true);
                    if (job.Status == "in_progress") Set(job, "finalizing", j => j.FinalizingAt = Now);
                    return;
                }
                lock (job.Sync) job.Native = remote;
                Save(job);
            }
            var local = CountLines(localErrors);
            var cancelSent = false;
            while (true)
            {
                try
                {
                    if (job.Status == "cancelling" && !cancelSent)
                    {
                        cancelSent = true;
                        try
                        {
                            await anthropic.CancelAsync(deployment, job.Native!, _shutdown.Token).ConfigureAwait(false);
                        }
                        catch (InvalidOperationException ex)
                        {
                            // Already canceling or ended (a restart sends the cancel again): the poll below tells.
                            LogCancelRefused(_logger, job.Id, ex.Message);
                        }
                    }
                    var final = await anthropic.WaitAsync(deployment, job.Native!, p =>
                    {
                        lock (job.Sync)
                        {
                            job.Total = p.Total + local;
                            job.Completed = p.Succeeded;
                            job.Failed = p.Errored + p.Canceled + p.Expired + local;
                        }
                    }, job.Status == "cancelling" ? _shutdown.Token : cts.Token).ConfigureAwait(false);
                    await anthropic.CollectAsync(deployment, job.Native!, input, output, errors, localErrors, _shutdown.Token).ConfigureAwait(false);
                    ChargeNative(job, deployment);
                    if (final.CancelInitiated || job.Status == "cancelling")
                    {
                        if (job.Status != "cancelling") Set(job, "cancelling", j => j.CancellingAt = Now);
                        return;
                    }
                    if (final.Expired > 0) { Finish(job, "expired"); return; }
                    Set(job, "finalizing", j => j.FinalizingAt = Now);
                    return;
                }
                catch (OperationCanceledException) when (!_shutdown.IsCancellationRequested && job.Status == "cancelling")
                {
                    // Cancelled by the client while polling: send Anthropic's cancel, then poll to the end.
                }
            }
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
            // Stopping: Anthropic's batch goes on; the next start polls it again.
        }
        catch (OperationCanceledException) when (job.Status == "cancelling")
        {
            // Cancelled while the lines were being translated: nothing was sent.
        }
        catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException or System.Text.Json.JsonException or KeyNotFoundException or LLMux.Pipeline.Errors.LlmException)
        {
            Fail(job, "provider_error", ex.Message, null);
        }
        finally
        {
            _running.TryRemove(job.Id, out _);
            Save(job);
        }
    }

    /// <summary>Publishes the output and error files (what exists, also for a cancelled batch) and ends the batch.</summary>
    private void Finish(BatchJob job, bool cancelled) => Finish(job, cancelled ? "cancelled" : "completed");

    /// <summary>Publishes the output and error files and ends the batch as <paramref name="status"/> (completed, cancelled or expired).</summary>
    private void Finish(BatchJob job, string status)
    {
        var folder = Folder(job);
        var outputId = Publish(job, Path.Combine(folder, "output.jsonl"), "batch_output.jsonl");
        var errorId = Publish(job, Path.Combine(folder, "errors.jsonl"), "batch_errors.jsonl");
        Set(job, status, j =>
        {
            j.OutputFileId = outputId;
            j.ErrorFileId = errorId;
            j.Completed = CountLines(Path.Combine(folder, "output.jsonl"));
            j.Failed = CountLines(Path.Combine(folder, "errors.jsonl"));
            if (status == "cancelled") j.CancelledAt = Now;
            else if (status == "expired") j.ExpiredAt = Now;
            else j.CompletedAt = Now;
        });
    }

    private string? Publish(BatchJob job, string path, string name)
    {
        if (!File.Exists(path) || new FileInfo(path).Length == 0) return null;
        var id = FileStore.NewId();
        File.Copy(path, _files.ContentPath(id), overwrite: true);
        _files.Add(new StoredFile
        {
            Id = id, Filename = name, Purpose = "batch_output", Bytes = new FileInfo(path).Length, CreatedAt = Now,
            Owner = job.Caller.OwnerScope, TeamId = job.Caller.TeamId,
        });
        return id;
    }

    private static long CountLines(string path)
    {
        if (!File.Exists(path)) return 0;
        long n = 0;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 64 * 1024);
        Span<byte> buffer = stackalloc byte[16 * 1024];
        int read;
        while ((read = stream.Read(buffer)) > 0) n += buffer[..read].Count((byte)'\n');
        return n;
    }

    /// <summary>
    /// Native batches: one spend row per succeeded line on the key that created the batch, at the batch price (the
    /// price table's <c>*_cost_per_token_batches</c>, else half the normal price, as the providers bill batches). Row ids
    /// are the batch's id and the line's custom_id, and the store writes a request id once, so reading the results
    /// again (a restart between collecting and finishing) charges nothing twice.
    /// </summary>
    private void ChargeNative(BatchJob job, Deployment deployment)
    {
        if (Governance is not { } governance || job.SpendCharged) return;
        var output = Path.Combine(Folder(job), "output.jsonl");
        if (File.Exists(output))
        {
            var price = BatchPrice(Costs?.PriceFor(deployment));
            var at = _time.GetUtcNow();
            var started = DateTimeOffset.FromUnixTimeSeconds(job.InProgressAt ?? job.CreatedAt);
            foreach (var text in File.ReadLines(output))
            {
                if (string.IsNullOrWhiteSpace(text)) continue;
                if (NativeUsage(text) is not { } line) continue;
                var cost = price is null ? 0m : CostCalculator.Compute(price, line.Usage);
                governance.Writer.Enqueue(new SpendRow
                {
                    RequestId = job.Id + ":" + line.CustomId,
                    CallType = job.Mode switch
                    {
                        LLMux.Pipeline.Capabilities.LlmMode.Embeddings => "aembedding",
                        LLMux.Pipeline.Capabilities.LlmMode.Responses => "aresponses",
                        LLMux.Pipeline.Capabilities.LlmMode.Completion => "atext_completion",
                        _ => "acompletion",
                    },
                    ApiKey = job.Caller.KeyHash,
                    Spend = cost,
                    PromptTokens = line.Usage.PromptTokens,
                    CompletionTokens = line.Usage.CompletionTokens,
                    StartTime = started,
                    EndTime = at,
                    Model = deployment.UpstreamModel,
                    ModelGroup = deployment.ModelName,
                    Provider = deployment.ProviderName,
                    TeamId = job.Caller.TeamId,
                    UserId = job.Caller.UserId,
                    KeyAlias = job.Caller.KeyAlias,
                });
            }
        }
        lock (job.Sync) job.SpendCharged = true;
        Save(job);
    }

    /// <summary>The batch price: <c>*_cost_per_token_batches</c> where the table has them, else half of each normal price.</summary>
    internal static ModelPrice? BatchPrice(ModelPrice? price) => price is null ? null : price with
    {
        InputPerToken = price.InputPerTokenBatches ?? price.InputPerToken / 2,
        OutputPerToken = price.OutputPerTokenBatches ?? price.OutputPerToken / 2,
        CacheReadPerToken = price.CacheReadPerToken / 2,
        CacheCreationPerToken = price.CacheCreationPerToken / 2,
        ReasoningPerToken = price.ReasoningPerToken / 2,
        Tiers = [],
    };

    /// <summary>The custom_id and usage of a succeeded output line (chat and completions: prompt/completion tokens; Responses: input/output tokens).</summary>
    private static (string CustomId, LLMux.Pipeline.Wire.Usage Usage)? NativeUsage(string text)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(text);
            var root = doc.RootElement;
            if (!root.TryGetProperty("custom_id", out var id) || id.ValueKind != System.Text.Json.JsonValueKind.String) return null;
            if (!root.TryGetProperty("response", out var response) || response.ValueKind != System.Text.Json.JsonValueKind.Object) return null;
            if (!response.TryGetProperty("body", out var body) || !body.TryGetProperty("usage", out var u) || u.ValueKind != System.Text.Json.JsonValueKind.Object) return null;
            var usage = new LLMux.Pipeline.Wire.Usage { PromptTokens = Long(u, "prompt_tokens") ?? Long(u, "input_tokens") ?? 0, CompletionTokens = Long(u, "completion_tokens") ?? Long(u, "output_tokens") ?? 0 };
            var details = u.TryGetProperty("prompt_tokens_details", out var pd) ? pd : u.TryGetProperty("input_tokens_details", out var id2) ? id2 : default;
            if (details.ValueKind == System.Text.Json.JsonValueKind.Object && Long(details, "cached_tokens") is { } cached)
                usage.PromptTokensDetails = new LLMux.Pipeline.Wire.PromptTokensDetails { CachedTokens = cached };
            return (id.GetString()!, usage);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }

        static long? Long(System.Text.Json.JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.TryGetInt64(out var n) ? n : null;
    }

    /// <summary>
    /// Stops: no new line is sent and no new batch taken; the calls in flight finish and are written (at most
    /// <see cref="DrainTimeout"/>, then cancelled), then each batch's lease is given up, so that it resumes at the next start
    /// or on another replica at once. Batches stay in_progress.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        _shutdown.Cancel();
        var running = Task.WhenAll(_tasks.Values.Append(_scanLoop ?? Task.CompletedTask));
        try
        {
            await running.WaitAsync(DrainTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _abort.Cancel();
            try
            {
                await running.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
            {
            }
        }
        catch (OperationCanceledException)
        {
        }
        switch (_store)
        {
            case IAsyncDisposable d: await d.DisposeAsync().ConfigureAwait(false); break;
            case IDisposable d: d.Dispose(); break;
        }
        _shutdown.Dispose();
        _abort.Dispose();
    }
}
