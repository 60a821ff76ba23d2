using LLMux.Stages.Hosting;

namespace LLMux.Host.Batch;

/// <summary>One <c>llmux batch</c> run: where the OpenAI Batch file comes from and where results and failures go.</summary>
public sealed record BatchOptions
{
    public required string InputPath { get; init; }
    public required string OutputPath { get; init; }
    /// <summary>Failures; <c>results.errors.jsonl</c> beside the output when not given.</summary>
    public string? ErrorsPath { get; init; }
    /// <summary>Requests in flight at once (the router's per-deployment limits still apply inside).</summary>
    public int Parallelism { get; init; } = 16;
    /// <summary>Calls at once for a requested model (the sum of its deployments' <c>max_parallel_requests</c>); null is no limit beyond <see cref="Parallelism"/>.</summary>
    public Func<string, int?>? ModelLimit { get; init; }

    /// <summary>Whom the calls are made for (governance: that key's models, limits and budgets; its spend); null is the process itself.</summary>
    public LLMux.Pipeline.Context.Caller? Caller { get; init; }
    /// <summary>The one endpoint every line must name (a server batch's <c>endpoint</c>); null accepts any LLMux serves.</summary>
    public LLMux.Pipeline.Capabilities.LlmMode? RequiredMode { get; init; }

    /// <summary>
    /// Set: no new line is sent once it is cancelled, while the calls in flight run to their end and are written (a
    /// server batch stopping or cancelled: what was sent is never sent again). The run's own token still aborts them.
    /// </summary>
    public CancellationToken StopReading { get; init; }

    /// <summary>Sends one line (the server's runner answers each line as its endpoint would); null: <see cref="ILlmClient.SendRawAsync(ReadOnlyMemory{byte}, LLMux.Pipeline.Capabilities.LlmMode, LLMux.Pipeline.Context.Caller?, CancellationToken)"/>.</summary>
    internal Func<BatchRequestLine, CancellationToken, Task<BatchResult>>? Send { get; init; }

    public string EffectiveErrorsPath => ErrorsPath ?? DefaultErrorsPath(OutputPath);

    public static string DefaultErrorsPath(string output)
    {
        var dir = Path.GetDirectoryName(output) ?? "";
        return Path.Combine(dir, Path.GetFileNameWithoutExtension(output) + ".errors" + (Path.HasExtension(output) ? Path.GetExtension(output) : ".jsonl"));
    }
}
