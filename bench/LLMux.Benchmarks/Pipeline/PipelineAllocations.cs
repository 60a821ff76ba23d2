using System.Diagnostics.Tracing;

namespace LLMux.Benchmarks.Pipeline;

/// <summary>
/// Exact bytes allocated per call of <see cref="PassthroughPipelineBenchmarks"/>' two methods (the process-wide
/// allocation counter over many calls after a warm-up, so the figure does not depend on the machine's load), and the
/// runtime's sampled allocations (one sample per ≈ 100 KB) summed by type for the pipeline, to see who allocates.
/// Run: <c>dotnet run -c Release --project bench/LLMux.Benchmarks -- allocs [calls]</c>.
/// </summary>
internal static class PipelineAllocations
{
    public static void Run(int calls)
    {
        var bench = new PassthroughPipelineBenchmarks();
        bench.Setup();
        for (var i = 0; i < 20_000; i++) { bench.DirectCall().GetAwaiter().GetResult(); bench.Pipeline().GetAwaiter().GetResult(); }

        var direct = Measure(calls, () => bench.DirectCall().GetAwaiter().GetResult());
        using var sampler = new AllocationSampler();
        var pipeline = Measure(calls, () => bench.Pipeline().GetAwaiter().GetResult());
        sampler.Dispose();
        Console.WriteLine($"bare upstream call + body read: {direct:F1} B/call");
        Console.WriteLine($"LLMux pipeline, passthrough:    {pipeline:F1} B/call  (own: {pipeline - direct:F1} B)");
        Console.WriteLine("sampled allocations in the pipeline run, by type (share of samples):");
        var total = sampler.Samples.Values.Sum();
        foreach (var (type, n) in sampler.Samples.OrderByDescending(p => p.Value).Take(30))
            Console.WriteLine($"  {100.0 * n / total,5:F1} %  {type}");
    }

    private static double Measure(int calls, Action call)
    {
        GC.Collect();
        var before = GC.GetTotalAllocatedBytes(precise: true);
        for (var i = 0; i < calls; i++) call();
        var after = GC.GetTotalAllocatedBytes(precise: true);
        return (after - before) / (double)calls;
    }

    private sealed class AllocationSampler : EventListener
    {
        public readonly Dictionary<string, long> Samples = new();

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1);
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.EventName is not { } name || !name.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null) return;
            var i = e.PayloadNames!.IndexOf("TypeName");
            if (i < 0 || e.Payload[i] is not string type) return;
            lock (Samples) Samples[type] = Samples.GetValueOrDefault(type) + 1;
        }
    }
}
