using System.Collections.Concurrent;
using LLMux.Pipeline.Errors;

namespace LLMux.Governance.Limits;

/// <summary>The general admission: the key, its team and further descriptors (end user, per-model key limits), all or none.</summary>
public sealed partial class RateLimiter
{
    private readonly ConcurrentDictionary<(string Name, string Value), RateWindow> _others = new();

    /// <summary>As the key-and-team admission, with <paramref name="extra"/> descriptors counted too (locks taken key, team, then extras in order).</summary>
    public RateLease? TryAdmit(string keyToken, RateLimits keyLimits, string? teamId, RateLimits teamLimits, IReadOnlyList<RateDescriptor>? extra, long estimatedTokens, out LlmError? refusal)
    {
        if (extra is null || extra.Count == 0) return TryAdmit(keyToken, keyLimits, teamId, teamLimits, estimatedTokens, out refusal);
        refusal = null;
        var held = new List<LocalMultiRateLease.Held>(2 + extra.Count);
        var reserve = Math.Max(0, estimatedTokens);
        if (keyLimits.Any) held.Add(new(_keys.GetOrAdd(keyToken, static k => new RateWindow("api_key", k)), keyLimits, 0, keyLimits.Tpm is null ? 0 : reserve));
        if (teamId is not null && teamLimits.Any) held.Add(new(_teams.GetOrAdd(teamId, static t => new RateWindow("team", t)), teamLimits, 0, teamLimits.Tpm is null ? 0 : reserve));
        foreach (var d in extra)
            if (d.Limits.Any) held.Add(new(_others.GetOrAdd((d.Name, d.Value), static k => new RateWindow(k.Name, k.Value)), d.Limits, 0, d.Limits.Tpm is null ? 0 : reserve));
        if (held.Count == 0) return RateLease.None;
        var now = time.GetUtcNow();
        var taken = 0;
        try
        {
            for (; taken < held.Count; taken++)
            {
                Monitor.Enter(held[taken].Window);
                held[taken].Window.Roll(now);
            }
            foreach (var h in held)
                if (Refuse(h.Window, h.Limits, now) is { } r) { refusal = r; return null; }
            for (var i = 0; i < held.Count; i++)
            {
                var h = held[i];
                h.Window.Admit(h.Reserved);
                held[i] = h with { Generation = h.Window.Generation };
            }
            return new LocalMultiRateLease(time, [.. held]);
        }
        finally
        {
            for (var i = taken - 1; i >= 0; i--) Monitor.Exit(held[i].Window);
        }
    }
}

/// <summary>A local admission over any number of descriptors; <see cref="Release"/> is idempotent.</summary>
internal sealed class LocalMultiRateLease(TimeProvider time, LocalMultiRateLease.Held[] held) : RateLease
{
    internal readonly record struct Held(RateWindow Window, RateLimits Limits, long Generation, long Reserved);

    private int _released;

    public override void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0) return;
        foreach (var h in held) lock (h.Window) h.Window.Release();
    }

    public override void Settle(long tokens)
    {
        var now = time.GetUtcNow();
        // Tokens count where a tpm limit holds for the call, as in Redis.
        foreach (var h in held)
            if (h.Limits.Tpm is not null) lock (h.Window) h.Window.Settle(h.Generation, h.Reserved, tokens, now);
    }

    public override void WriteHeaders(List<KeyValuePair<string, string>> headers)
    {
        foreach (var h in held) RateLimiter.WriteHeaders(h.Window, h.Limits, headers);
    }
}
