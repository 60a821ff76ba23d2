namespace LLMux.Governance.Limits;

/// <summary>
/// One descriptor's counters (a key's or a team's): requests and tokens in a fixed 60 s window that starts with the
/// first request after the previous one ended (LiteLLM's v3 window), and the calls in flight. A new window resets
/// requests and tokens only: calls in flight keep their slots (LiteLLM re-sets them and leaks, #20256).
/// Guarded by its own lock; <see cref="RateLimiter"/> takes the locks of a call's descriptors in a fixed order.
/// </summary>
internal sealed class RateWindow(string descriptor, string value)
{
    public static readonly TimeSpan Length = TimeSpan.FromSeconds(60);

    public string Descriptor { get; } = descriptor;
    public string Value { get; } = value;
    public DateTimeOffset Start { get; private set; }
    public long Requests { get; private set; }
    public long Tokens { get; private set; }
    public long InFlight { get; private set; }
    /// <summary>Counts windows, so a call's token reservation is corrected only in the window that holds it.</summary>
    public long Generation { get; private set; }
    private bool _started;

    /// <summary>Caller holds the lock.</summary>
    public void Roll(DateTimeOffset now)
    {
        if (_started && now - Start < Length) return;
        _started = true;
        Start = now;
        Generation++;
        Requests = 0;
        Tokens = 0;
    }

    public DateTimeOffset ResetsAt => Start + Length;

    public void Admit(long reservedTokens) { Requests++; InFlight++; Tokens += reservedTokens; }
    public void Release() { if (InFlight > 0) InFlight--; }

    /// <summary>Replaces a call's reservation by its real tokens (or adds them, when the reservation's window has ended).</summary>
    public void Settle(long generation, long reserved, long actual, DateTimeOffset now)
    {
        Roll(now);
        Tokens = Math.Max(0, Tokens + (generation == Generation ? actual - reserved : actual));
    }
}
