using System.Diagnostics;

namespace LLMux.Host.Batch;

/// <summary>Counters of one batch run, read by the progress display while the writer updates them.</summary>
public sealed class BatchProgress
{
    private long _succeeded;
    private long _failed;
    private long _tokens;
    private long _costMicros;
    private readonly long _started = Stopwatch.GetTimestamp();

    /// <summary>Requests in the input that this run has to do (lines already done are not counted).</summary>
    public long Total { get; internal set; }
    /// <summary>Lines skipped because an earlier run wrote them.</summary>
    public long Skipped { get; internal set; }
    /// <summary>Lines whose custom_id appeared earlier in the input (not sent again).</summary>
    public long Duplicates { get; internal set; }
    public long Succeeded => Interlocked.Read(ref _succeeded);
    public long Failed => Interlocked.Read(ref _failed);
    public long Done => Succeeded + Failed;
    public long Tokens => Interlocked.Read(ref _tokens);
    public decimal Cost => Interlocked.Read(ref _costMicros) / 1_000_000m;
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_started);
    public double Rate => Elapsed.TotalSeconds > 0 ? Done / Elapsed.TotalSeconds : 0;
    public TimeSpan? Eta => Rate > 0 && Total >= Done ? TimeSpan.FromSeconds((Total - Done) / Rate) : null;

    /// <summary>Called by the writer after each line is written (tests stop a run from here).</summary>
    public event Action<BatchProgress>? Written;

    internal void Add(BatchResult r)
    {
        if (r.Succeeded) Interlocked.Increment(ref _succeeded); else Interlocked.Increment(ref _failed);
        Interlocked.Add(ref _tokens, r.Tokens);
        if (r.Cost is { } c) Interlocked.Add(ref _costMicros, (long)(c * 1_000_000m));
        Written?.Invoke(this);
    }

    public string Describe() =>
        $"{Done}/{Total} done ({Failed} failed, {Skipped} skipped) · {Rate:0.0} req/s · ETA {(Eta is { } eta ? eta.ToString(@"hh\:mm\:ss", System.Globalization.CultureInfo.InvariantCulture) : "--:--:--")} · {Tokens} tokens · ${Cost:0.######}";
}
