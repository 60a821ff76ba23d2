namespace LLMux.Governance.Limits;

/// <summary>
/// One admitted call's hold on its rate-limit descriptors (local counters, or Redis's shared ones). The stage
/// settles it with the call's real tokens and releases its parallel slots exactly once, on every path.
/// </summary>
public abstract class RateLease
{
    /// <summary>No limits apply to the call.</summary>
    internal static readonly RateLease None = new NoLease();

    /// <summary>Gives the parallel slots back; idempotent.</summary>
    public abstract void Release();

    /// <summary>Replaces the call's token reservation by its real tokens.</summary>
    public abstract void Settle(long tokens);

    /// <summary>The call is done: its slots back and its real tokens in place of the reservation (one round trip in Redis).</summary>
    public virtual void Finish(long tokens)
    {
        Release();
        Settle(tokens);
    }

    /// <summary>Adds the <c>x-ratelimit-*</c> headers of the call's descriptors.</summary>
    public abstract void WriteHeaders(List<KeyValuePair<string, string>> headers);

    private sealed class NoLease : RateLease
    {
        public override void Release() { }
        public override void Settle(long tokens) { }
        public override void WriteHeaders(List<KeyValuePair<string, string>> headers) { }
    }
}
