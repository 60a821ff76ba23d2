using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace LLMux.Load;

/// <summary>
/// Who allocates: reads a <c>dotnet-trace collect --profile gc-verbose</c> file and sums the sampled allocations
/// (one GCAllocationTick per ≈ 100 KB) by type and by the allocating frames, so a change's effect on bytes per
/// request can be traced to its source. <c>llmux-load allocs --trace FILE [--top N] [--frames F] [--requests R]</c>.
/// </summary>
internal static class AllocationReport
{
    public static void Print(string trace, int top, int frames, long requests)
    {
        var etlx = TraceLog.CreateFromEventPipeDataFile(trace);
        using var log = new TraceLog(etlx);
        var byType = new Dictionary<string, long>(StringComparer.Ordinal);
        var byStack = new Dictionary<string, long>(StringComparer.Ordinal);
        long total = 0;
        foreach (var e in log.Events)
        {
            if (e is not GCAllocationTickTraceData tick) continue;
            var amount = tick.AllocationAmount64;
            total += amount;
            var type = tick.TypeName ?? "?";
            byType[type] = byType.GetValueOrDefault(type) + amount;
            var key = type + "  <=  " + Frames(e.CallStack(), frames);
            byStack[key] = byStack.GetValueOrDefault(key) + amount;
        }
        var per = requests > 0 ? $" ({total / (double)requests:0} B per request over {requests} requests)" : "";
        Console.WriteLine($"sampled allocation: {total / 1048576.0:0.0} MB{per}");
        Console.WriteLine("-- by type");
        foreach (var (k, v) in byType.OrderByDescending(p => p.Value).Take(top)) Console.WriteLine($"{100.0 * v / total,6:0.0}%  {k}");
        Console.WriteLine("-- by type and allocating frames");
        foreach (var (k, v) in byStack.OrderByDescending(p => p.Value).Take(top)) Console.WriteLine($"{100.0 * v / total,6:0.0}%  {k}");
    }

    private static string Frames(TraceCallStack? stack, int count)
    {
        var parts = new List<string>(count);
        // Skip the allocator's own frames (GC helpers, constructors of the runtime's collections).
        for (var s = stack; s is not null && parts.Count < count; s = s.Caller)
        {
            var name = s.CodeAddress.FullMethodName;
            if (string.IsNullOrEmpty(name)) continue;
            parts.Add(Shorten(name));
        }
        return string.Join(" < ", parts);
    }

    private static string Shorten(string name)
    {
        var paren = name.IndexOf('(');
        if (paren > 0) name = name[..paren];
        return name.Replace("System.Runtime.CompilerServices.", "").Replace("System.Threading.Tasks.", "").Replace("Microsoft.AspNetCore.Server.Kestrel.Core.Internal.", "Kestrel.");
    }
}
