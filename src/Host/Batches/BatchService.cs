using System.Collections.Concurrent;
using System.Security.Cryptography;
using LLMux.Host.Batch;
using LLMux.Host.Files;
using LLMux.Pipeline.Context;
using LLMux.Stages.Hosting;

namespace LLMux.Host.Batches;

/// <summary>
/// Runs the Batches API's batches inside the gateway, through the same engine as <c>llmux batch</c> (router,
/// retries, per-model limits), in the background: validating → in_progress → finalizing → completed, or failed,
/// expired, cancelling → cancelled. Each batch's state, output and errors live in its own folder under the storage
/// directory, so a restart resumes every unfinished batch where it stopped (lines already written are not sent
/// again). Batches have their own concurrency budget (<see cref="ConcurrentBatches"/> × <see cref="Parallelism"/>
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
    private readonly ConcurrentDictionary<string, BatchJob> _jobs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _running = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task> _tasks = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly SemaphoreSlim _slots;

    public int Parallelism { get; }
    public int ConcurrentBatches { get; }

    [LoggerMessage(Level = LogLevel.Warning, Message = "batch {BatchId} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string batchId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "batch {BatchId}: the provider refused the cancel ({Reason}); polling it to its end")]
    private static partial void LogCancelRefused(ILogger logger, string batchId, string reason);

    private readonly ModelRegistry? _registry;
    private readonly NativeBatchRunner? _native;
    private readonly AnthropicBatchRunner? _anthropic;

    public BatchService(string directory, FileStore files, ILlmClient client, TimeProvider time, ILogger logger, int parallelism = 8, int concurrentBatches = 2,
        Func<string, int?>? modelLimit = null, ModelRegistry? registry = null, NativeBatchRunner? native = null, AnthropicBatchRunner? anthropic = null)
    {
        _registry = registry;
        _native = native;
        _anthropic = anthropic;
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
        foreach (var folder in Directory.EnumerateDirectories(_dir))
            if (BatchJob.Load(Path.Combine(folder, "batch.json")) is { } job) _jobs[job.Id] = job;
    }

    /// <summary>Resumes every batch that was not finished when the process stopped.</summary>
    public void Start()
    {
        foreach (var job in _jobs.Values)
            if (!job.IsTerminal) Launch(job);
    }

    private long Now => _time.GetUtcNow().ToUnixTimeSeconds();

    public static string NewId() => "batch_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    public BatchJob Create(string endpoint, StoredFile input, string? metadata, Caller caller)
    {
        var job = new BatchJob { Id = NewId(), Endpoint = endpoint, InputFileId = input.Id, Metadata = metadata, CreatedAt = Now, Caller = caller };
        Directory.CreateDirectory(Folder(job));
        Save(job);
        _jobs[job.Id] = job;
        Launch(job);
        return job;
    }

    public static bool CanSee(BatchJob job, Caller? caller) =>
        caller is null || caller.IsAdmin || job.Caller.OwnerScope == caller.OwnerScope || (job.Caller.TeamId is not null && job.Caller.TeamId == caller.TeamId);

    public BatchJob? Find(string id, Caller? caller) => _jobs.TryGetValue(id, out var j) && CanSee(j, caller) ? j : null;

    public IReadOnlyList<BatchJob> List(Caller? caller) =>
        _jobs.Values.Where(j => CanSee(j, caller)).OrderByDescending(static j => j.CreatedAt).ThenByDescending(static j => j.Id, StringComparer.Ordinal).ToList();

    /// <summary>Asks a running batch to stop: cancelling now, cancelled once the calls in flight have ended. False when it has already ended.</summary>
    public bool Cancel(BatchJob job)
    {
        lock (job.Sync)
        {
            if (job.IsTerminal || job.Status == "cancelling") return job.Status == "cancelling";
            job.Status = "cancelling";
            job.CancellingAt = Now;
        }
        Save(job);
        if (_running.TryGetValue(job.Id, out var cts)) cts.Cancel();
        else if (!_tasks.ContainsKey(job.Id)) Launch(job);
        return true;
    }

    private void Launch(BatchJob job)
    {
        var task = Task.Run(() => RunAsync(job));
        _tasks[job.Id] = task;
        _ = task.ContinueWith(t => _tasks.TryRemove(job.Id, out _), TaskScheduler.Default);
    }

    /// <summary>The batch's folder: <c>batch.json</c>, <c>output.jsonl</c>, <c>errors.jsonl</c>.</summary>
    private string Folder(BatchJob job) => Path.Combine(_dir, job.Id);

    private void Save(BatchJob job)
    {
        try
        {
            job.Save(Path.Combine(Folder(job), "batch.json"));
        }
        catch (IOException ex)
        {
            LogFailed(_logger, job.Id, "its state could not be saved: " + ex.Message);
        }
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

    private async Task RunAsync(BatchJob job)
    {
        try
        {
            await _slots.WaitAsync(_shutdown.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        try
        {
            if (job.Status == "cancelling" && (job.NativeDeployment is null || job.Native is null)) { Finish(job, cancelled: true); return; }
            if (Now >= job.ExpiresAt) { Set(job, "expired", j => j.ExpiredAt = Now); return; }
            if (job.Status == "validating" && !Validate(job)) return;
            if (job.Status is "in_progress" or "cancelling" && job.NativeDeployment is not null) await ExecuteNativeAsync(job).ConfigureAwait(false);
            else if (job.Status == "in_progress") await ExecuteAsync(job).ConfigureAwait(false);
            if (_shutdown.IsCancellationRequested && job.Status is "in_progress") return;
            if (job.Status is "in_progress" or "finalizing" or "cancelling") Finish(job, cancelled: job.Status == "cancelling");
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
        finally
        {
            _slots.Release();
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

    private async Task ExecuteAsync(BatchJob job)
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
                Save(job);
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
            }, _client, progress, cts.Token).ConfigureAwait(false);
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

    /// <summary>Stops the running batches without marking them: they stay in_progress and resume at the next start.</summary>
    public async ValueTask DisposeAsync()
    {
        _shutdown.Cancel();
        try
        {
            await Task.WhenAll(_tasks.Values).WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
        }
        _shutdown.Dispose();
    }
}
