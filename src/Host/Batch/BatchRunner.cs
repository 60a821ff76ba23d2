using System.Buffers;
using System.Threading.Tasks.Dataflow;
using LLMux.Pipeline.Errors;
using LLMux.Stages.Hosting;

namespace LLMux.Host.Batch;

/// <summary>What a run did.</summary>
public sealed record BatchSummary(long Succeeded, long Failed, long Skipped, long Duplicates, bool Cancelled, long Tokens, decimal Cost);

/// <summary>
/// Runs an OpenAI Batch file through LLMux with TPL Dataflow: lines are read lazily and posted to a bounded
/// <see cref="TransformBlock{TInput,TOutput}"/> (<see cref="BatchOptions.Parallelism"/> calls at once, retries by the
/// router), whose results go, as they complete, to one bounded writer block. Lines an earlier run wrote are
/// skipped. Cancelling stops reading, cancels calls in flight (they are not written, so a resume redoes them)
/// and writes everything that had finished.
/// </summary>
public static class BatchRunner
{
    public static async Task<BatchSummary> RunAsync(BatchOptions options, ILlmClient client, BatchProgress? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Parallelism, 1);
        if (!File.Exists(options.InputPath)) throw new FileNotFoundException($"batch input `{options.InputPath}` does not exist", options.InputPath);
        progress ??= new BatchProgress();
        var errorsPath = options.EffectiveErrorsPath;
        var done = BatchResumeIndex.Load(options.OutputPath, errorsPath);
        progress.Total = CountToDo(options.InputPath, done, out var skipped);
        progress.Skipped = skipped;

        await using var files = new BatchFileWriter(options.OutputPath, errorsPath);
        var limits = new ModelLimits(options.ModelLimit);
        var call = new TransformBlock<BatchRequestLine, BatchResult>(
            line => SendAsync(client, line, limits, options, cancellationToken),
            new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = options.Parallelism, BoundedCapacity = options.Parallelism * 2, EnsureOrdered = false });
        ActionBlock<BatchResult>? write = null;
        write = new ActionBlock<BatchResult>(result =>
        {
            if (result.Cancelled) return;
            files.Write(result);
            if (write!.InputCount == 0) files.Flush();
            progress.Add(result);
        }, new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = 1, BoundedCapacity = options.Parallelism * 4 });
        call.LinkTo(write, new DataflowLinkOptions { PropagateCompletion = true });

        var seen = new HashSet<string>(StringComparer.Ordinal);
        long duplicates = 0;
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, options.StopReading);
        try
        {
            await foreach (var line in ReadLinesAsync(options.InputPath, reading.Token).ConfigureAwait(false))
            {
                if (done.IsDone(line)) continue;
                if (line.CustomId is { } id && !seen.Add(id)) { duplicates++; continue; }
                if (!await call.SendAsync(line, reading.Token).ConfigureAwait(false)) break;
            }
        }
        catch (OperationCanceledException) when (reading.IsCancellationRequested)
        {
            // Ctrl-C, or the server's batch stopping: stop reading; what is in flight ends below.
        }
        call.Complete();
        await write.Completion.ConfigureAwait(false);
        files.Flush();
        progress.Duplicates = duplicates;
        return new BatchSummary(progress.Succeeded, progress.Failed, skipped, duplicates, reading.IsCancellationRequested, progress.Tokens, progress.Cost);
    }

    private static async Task<BatchResult> SendAsync(ILlmClient client, BatchRequestLine line, ModelLimits limits, BatchOptions options, CancellationToken cancellationToken)
    {
        if (line.Problem is not null) return new BatchResult(line, null, null, 0, null);
        if (options.RequiredMode is { } required && line.Mode != required)
            return new BatchResult(line, null, LlmError.Invalid($"line {line.LineNumber}: its url names another endpoint than the batch's ({EndpointOf(required)}); a batch runs one endpoint", "url"), 0, null);
        // Queued but not started when the run stopped: not sent, so a resume sends it.
        if (cancellationToken.IsCancellationRequested || options.StopReading.IsCancellationRequested) return new BatchResult(line, null, null, 0, null, Cancelled: true);
        SemaphoreSlim? held = null;
        try
        {
            if (limits.For(line.Body.Span) is { } gate)
            {
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                held = gate;
            }
            if (options.Send is { } send) return await send(line, cancellationToken).ConfigureAwait(false);
            if (line.Mode is not (LLMux.Pipeline.Capabilities.LlmMode.Chat or LLMux.Pipeline.Capabilities.LlmMode.Embeddings))
                return new BatchResult(line, null, LlmError.Invalid($"line {line.LineNumber}: `llmux batch` runs /v1/chat/completions and /v1/embeddings lines; send {EndpointOf(line.Mode)} batches to the server's /v1/batches", "url"), 0, null);
            await using var response = await client.SendRawAsync(line.Body, line.Mode, options.Caller, cancellationToken).ConfigureAwait(false);
            if (response.IsStream)
                return new BatchResult(line, null, LlmError.Invalid("`stream: true` is not supported in a batch; remove it", "stream"), 0, null);
            return new BatchResult(line, response.Body.ToArray(), null, response.Usage?.TotalTokens ?? 0, response.Cost);
        }
        catch (LlmException ex) when (!cancellationToken.IsCancellationRequested)
        {
            return new BatchResult(line, null, ex.Error, 0, null);
        }
        catch (LlmException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped by Ctrl-C: not a failure of the request; a resume sends it again.
            return new BatchResult(line, null, null, 0, null, Cancelled: true);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return new BatchResult(line, null, null, 0, null, Cancelled: true);
        }
        finally
        {
            held?.Release();
        }
    }

    internal static string EndpointOf(LLMux.Pipeline.Capabilities.LlmMode mode) => mode switch
    {
        LLMux.Pipeline.Capabilities.LlmMode.Embeddings => "/v1/embeddings",
        LLMux.Pipeline.Capabilities.LlmMode.Responses => "/v1/responses",
        LLMux.Pipeline.Capabilities.LlmMode.Completion => "/v1/completions",
        _ => "/v1/chat/completions",
    };

    /// <summary>Lines of the input, one pooled read buffer, one array per line (the body slice lives until the call ends).</summary>
    private static async IAsyncEnumerable<BatchRequestLine> ReadLinesAsync(string path, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
        var reader = System.IO.Pipelines.PipeReader.Create(file);
        long number = 0;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                var buffer = result.Buffer;
                var lines = new List<BatchRequestLine>();
                while (TryLine(ref buffer, result.IsCompleted, out var bytes))
                {
                    number++;
                    var text = Trim(bytes);
                    if (text.Length > 0) lines.Add(BatchRequestLine.Parse(number, text));
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
                foreach (var l in lines) yield return l;
                if (result.IsCompleted) break;
            }
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    private static bool TryLine(ref ReadOnlySequence<byte> buffer, bool final, out ReadOnlySequence<byte> line)
    {
        if (buffer.PositionOf((byte)'\n') is { } end)
        {
            line = buffer.Slice(0, end);
            buffer = buffer.Slice(buffer.GetPosition(1, end));
            return true;
        }
        if (final && !buffer.IsEmpty)
        {
            line = buffer;
            buffer = buffer.Slice(buffer.End);
            return true;
        }
        line = default;
        return false;
    }

    private static byte[] Trim(ReadOnlySequence<byte> line)
    {
        var bytes = line.ToArray();
        var span = bytes.AsSpan().Trim(" \t\r"u8);
        return span.Length == bytes.Length ? bytes : span.ToArray();
    }

    /// <summary>One quick pass so that the progress line can show a total and an ETA.</summary>
    private static long CountToDo(string path, BatchResumeIndex done, out long skipped)
    {
        long total = 0, number = 0;
        skipped = 0;
        foreach (var text in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            if (done.Count > 0 && done.IsDone(BatchRequestLine.Parse(number, System.Text.Encoding.UTF8.GetBytes(text)))) { skipped++; continue; }
            total++;
        }
        return total;
    }
}
