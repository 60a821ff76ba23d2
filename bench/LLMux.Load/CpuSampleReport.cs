using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Etlx;

namespace LLMux.Load;

/// <summary>
/// Where the CPU goes: reads a <c>dotnet-trace collect --profile dotnet-sampled-thread-time</c> file (every managed
/// thread's stack, ≈ 100 times a second), drops the samples of threads that are waiting (their innermost frame is a
/// wait, a sleep or the socket engine's event loop; a thread-pool worker spinning for work counts as running, since
/// it burns the core), and sums the rest by method, exclusive (innermost frame) and
/// inclusive (anywhere on the stack). <c>llmux-load cpu --trace FILE [--top N] [--match TEXT]</c>: --match also prints
/// the share of running samples whose stack contains TEXT.
/// </summary>
internal static class CpuSampleReport
{
    private static readonly string[] WaitFrames =
    [
        "LowLevelLifoSemaphore", "WaitHandle.Wait", "Monitor.Wait", "Thread.Sleep", "SocketAsyncEngine.EventLoop", "WaitForSocketEvents",
        "LowLevelMonitor.Wait", "ManualResetEventSlim.Wait", "Thread.SleepInternal", "WaitSubsystem", "TimerQueue.TimerThread", "Interop+Sys.Poll",
        "Task.SpinThenBlockingWait", "Console", "EventPipe", "PortableThreadPool+GateThread", "FileSystemWatcher", "WorkerThread.WorkerThreadStart",
        "PollGC",
        // StackExchange.Redis's own worker threads idle here (their Monitor.Wait is a native frame the trace does not name).
        "DedicatedThreadPoolPipeScheduler.RunWorkLoop",
    ];

    public static void Print(string trace, int top, string? match)
    {
        var etlx = TraceLog.CreateFromEventPipeDataFile(trace);
        using var log = new TraceLog(etlx);
        var exclusive = new Dictionary<string, long>(StringComparer.Ordinal);
        var inclusive = new Dictionary<string, long>(StringComparer.Ordinal);
        long running = 0, waiting = 0, matched = 0;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var matchedInclusive = new Dictionary<string, long>(StringComparer.Ordinal);
        var callers = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var e in log.Events)
        {
            if (e.ProviderName != "Microsoft-DotNETCore-SampleProfiler" || e.CallStack() is not { } stack) continue;
            var leaf = Name(stack);
            if (leaf is null || Waits(stack)) { waiting++; continue; }
            running++;
            exclusive[leaf] = exclusive.GetValueOrDefault(leaf) + 1;
            seen.Clear();
            var hit = false;
            var callersLeft = 0;
            for (var s = stack; s is not null; s = s.Caller)
            {
                var name = s.CodeAddress.FullMethodName;
                if (string.IsNullOrEmpty(name)) continue;
                name = Shorten(name);
                if (callersLeft > 0)
                {
                    callersLeft--;
                    var key = "caller: " + name;
                    callers[key] = callers.GetValueOrDefault(key) + 1;
                }
                if (match is not null && !hit && name.Contains(match, StringComparison.Ordinal)) { hit = true; callersLeft = 3; }
                if (seen.Add(name)) inclusive[name] = inclusive.GetValueOrDefault(name) + 1;
            }
            if (hit)
            {
                matched++;
                foreach (var name in seen) matchedInclusive[name] = matchedInclusive.GetValueOrDefault(name) + 1;
            }
        }
        Console.WriteLine($"samples: {running} running, {waiting} waiting (left out)");
        if (match is not null) Console.WriteLine($"running samples with '{match}' on the stack: {100.0 * matched / Math.Max(running, 1):0.0}%");
        if (match is not null)
        {
            Console.WriteLine($"-- the 3 frames that called '{match}'");
            foreach (var (k, v) in callers.OrderByDescending(p => p.Value).Take(top)) Console.WriteLine($"{100.0 * v / Math.Max(matched, 1),6:0.0}%  {k}");
            Console.WriteLine($"-- inclusive, samples with '{match}' only");
            foreach (var (k, v) in matchedInclusive.OrderByDescending(p => p.Value).Take(top)) Console.WriteLine($"{100.0 * v / Math.Max(matched, 1),6:0.0}%  {k}");
        }
        Console.WriteLine("-- exclusive (innermost managed frame)");
        foreach (var (k, v) in exclusive.OrderByDescending(p => p.Value).Take(top)) Console.WriteLine($"{100.0 * v / running,6:0.0}%  {k}");
        Console.WriteLine("-- inclusive");
        foreach (var (k, v) in inclusive.OrderByDescending(p => p.Value).Take(top)) Console.WriteLine($"{100.0 * v / running,6:0.0}%  {k}");
    }

    /// <summary>A waiting thread: its innermost managed frame is a wait, or it is the file watcher's blocked read.</summary>
    private static bool Waits(TraceCallStack stack)
    {
        var leaf = Name(stack)!;
        if (Array.Exists(WaitFrames, w => leaf.Contains(w, StringComparison.Ordinal))) return true;
        for (var s = stack; s is not null; s = s.Caller)
            if (s.CodeAddress.FullMethodName?.Contains("FileSystemWatcher", StringComparison.Ordinal) == true) return true;
        return false;
    }

    private static string? Name(TraceCallStack stack)
    {
        for (var s = stack; s is not null; s = s.Caller)
            if (!string.IsNullOrEmpty(s.CodeAddress.FullMethodName)) return Shorten(s.CodeAddress.FullMethodName);
        return null;
    }

    private static string Shorten(string name)
    {
        var paren = name.IndexOf('(');
        if (paren > 0) name = name[..paren];
        return name.Replace("System.Runtime.CompilerServices.", "").Replace("System.Threading.Tasks.", "").Replace("Microsoft.AspNetCore.Server.Kestrel.Core.Internal.", "Kestrel.");
    }
}
