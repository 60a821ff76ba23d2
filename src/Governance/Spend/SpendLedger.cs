using System.Collections.Concurrent;
using LLMux.Governance.Budgets;
using LLMux.Governance.Storage;

namespace LLMux.Governance.Spend;

/// <summary>
/// Live spend per key, team and user in this process: seeded from the store the first time an entity is seen,
/// then added to as each answer is priced, so a budget check never waits for the spend writer. Budget windows
/// (<c>budget_duration</c>) roll on the time provider, when a check finds the window over.
/// </summary>
public sealed class SpendLedger(TimeProvider time)
{
    private readonly ConcurrentDictionary<(BudgetScope, string), Entry> _entries = new();

    internal sealed class Entry(decimal spend, string? duration, DateTimeOffset? resetAt)
    {
        public decimal Spend = spend;
        public string? Duration = duration;
        public DateTimeOffset? ResetAt = resetAt;
        /// <summary>A window this entry took on its own (<see cref="Current"/> saw a new duration), and the spend it carried into it.</summary>
        public DateTimeOffset? CarriedEnd;
        public decimal CarriedSpend;
    }

    /// <summary>The entity's spend now; when its window is over it restarts at 0 and <paramref name="reset"/> says which window ended.</summary>
    public decimal Current(BudgetScope scope, string id, decimal storedSpend, string? duration, DateTimeOffset? storedResetAt, out (DateTimeOffset Due, DateTimeOffset Next)? reset) =>
        Current(scope, id, storedSpend, duration, storedResetAt, out reset, out _, out _);

    public decimal Current(BudgetScope scope, string id, decimal storedSpend, string? duration, DateTimeOffset? storedResetAt, out (DateTimeOffset Due, DateTimeOffset Next)? reset, out DateTimeOffset? windowEnd) =>
        Current(scope, id, storedSpend, duration, storedResetAt, out reset, out windowEnd, out _);

    /// <summary>
    /// As above, and the end of the window the spend belongs to (null: no window), which names its shared counter, and
    /// what that counter starts from when Redis has none yet (<paramref name="seed"/>): the spend carried into a window
    /// this entry took on its own, else the stored spend for the stored window (or none), else 0 (a window that rolled
    /// since the row was read).
    /// </summary>
    public decimal Current(BudgetScope scope, string id, decimal storedSpend, string? duration, DateTimeOffset? storedResetAt, out (DateTimeOffset Due, DateTimeOffset Next)? reset, out DateTimeOffset? windowEnd, out decimal seed)
    {
        reset = null;
        windowEnd = null;
        var e = _entries.GetOrAdd((scope, id), static (_, s) => new Entry(s.storedSpend, s.duration, s.storedResetAt), (storedSpend, duration, storedResetAt));
        lock (e)
        {
            // The window's length changed where this entry was not told (a /budget/update reaching its linked end users,
            // a change made on another replica): the spend counted so far stays, the window is the stored one's.
            if (!string.Equals(e.Duration, duration, StringComparison.Ordinal))
            {
                e.Duration = duration;
                e.ResetAt = duration is null ? null : storedResetAt ?? (BudgetDuration.TryParse(duration, out var fresh) ? fresh.After(time.GetUtcNow()) : null);
                e.CarriedEnd = duration is null ? null : e.ResetAt;
                e.CarriedSpend = e.Spend;
            }
            if (e.ResetAt is { } due && BudgetDuration.TryParse(e.Duration, out var d))
            {
                var now = time.GetUtcNow();
                if (now >= due)
                {
                    var next = d.NextAfter(due, now);
                    e.Spend = 0;
                    e.ResetAt = next;
                    reset = (due, next);
                }
            }
            windowEnd = e.Duration is null ? null : e.ResetAt;
            seed = windowEnd is not null && e.CarriedEnd == windowEnd ? e.CarriedSpend
                : windowEnd is null || windowEnd == storedResetAt ? storedSpend
                : 0;
            return e.Spend;
        }
    }

    /// <summary>Adds a priced answer; returns the entity's spend after it (null when the entity was never checked here).</summary>
    public decimal? Add(BudgetScope scope, string? id, decimal amount)
    {
        if (string.IsNullOrEmpty(id) || amount == 0) return null;
        if (!_entries.TryGetValue((scope, id), out var e)) return null;
        lock (e) return e.Spend += amount;
    }

    /// <summary>The admin changed the entity's budget window, or deleted it: the next check reseeds from the store.</summary>
    public void Forget(BudgetScope scope, string id) => _entries.TryRemove((scope, id), out _);

    /// <summary>A window change from the admin API keeps the spend counted so far and takes the new window.</summary>
    public void Rewindow(BudgetScope scope, string id, string? duration, DateTimeOffset? resetAt)
    {
        if (_entries.TryGetValue((scope, id), out var e)) lock (e) { e.Duration = duration; e.ResetAt = resetAt; }
    }
}
