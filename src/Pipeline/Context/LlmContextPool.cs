using System.Collections.Concurrent;
using System.Diagnostics;

namespace LLMux.Pipeline.Context;

/// <summary>A bounded pool of <see cref="LlmContext"/>: at most <see cref="MaxRetained"/> idle instances are kept.</summary>
public sealed class LlmContextPool
{
    private readonly ConcurrentQueue<LlmContext> _items = new();
    private int _count;

    public int MaxRetained { get; init; } = 1024;

    /// <summary>The clock every rented context uses for its timeouts.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    public LlmContext Rent()
    {
        if (_items.TryDequeue(out var ctx))
        {
            Interlocked.Decrement(ref _count);
        }
        else
        {
            ctx = new LlmContext();
        }
        ctx.StartedAt = Stopwatch.GetTimestamp();
        ctx.TimeProvider = TimeProvider;
        return ctx;
    }

    public void Return(LlmContext context)
    {
        context.Reset();
        if (Interlocked.Increment(ref _count) <= MaxRetained)
        {
            _items.Enqueue(context);
        }
        else
        {
            Interlocked.Decrement(ref _count);
        }
    }
}
