using System.Collections.Concurrent;
using System.Globalization;
using LLMux.Governance.Auth;
using LLMux.Pipeline.Errors;

namespace LLMux.Governance.Limits;

/// <summary>
/// In-process rpm/tpm/max_parallel_requests per key and per team. A call is admitted only when every descriptor
/// that applies has room, and then counted in all of them; a refused call counts nowhere (LiteLLM counts refused
/// calls, #39309). TPM: each call reserves an estimate of its input tokens when admitted (so calls in flight count
/// against each other) and the reservation is replaced by the real usage when the answer is done. Each admission is a
/// <see cref="RateLease"/> that gives its parallel slot back exactly once, whatever path the call ends on.
/// </summary>
public sealed partial class RateLimiter(TimeProvider time)
{
    // One table per descriptor: no "api_key:" + token string per call.
    private readonly ConcurrentDictionary<string, RateWindow> _keys = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RateWindow> _teams = new(StringComparer.Ordinal);

    /// <summary>Admits a call for the key (and its team), or returns the 429 to answer.</summary>
    public RateLease? TryAdmit(string keyToken, RateLimits keyLimits, string? teamId, RateLimits teamLimits, long estimatedTokens, out LlmError? refusal)
    {
        refusal = null;
        var key = keyLimits.Any ? _keys.GetOrAdd(keyToken, static k => new RateWindow("api_key", k)) : null;
        var team = teamId is not null && teamLimits.Any ? _teams.GetOrAdd(teamId, static t => new RateWindow("team", t)) : null;
        if (key is null && team is null) return RateLease.None;
        var now = time.GetUtcNow();
        // Fixed order (key, then team) so two calls never wait on each other's locks.
        var takenKey = false;
        var takenTeam = false;
        try
        {
            if (key is not null) { Monitor.Enter(key, ref takenKey); key.Roll(now); }
            if (team is not null) { Monitor.Enter(team, ref takenTeam); team.Roll(now); }
            if (key is not null && Refuse(key, keyLimits, now) is { } k) { refusal = k; return null; }
            if (team is not null && Refuse(team, teamLimits, now) is { } t) { refusal = t; return null; }
            var reserve = Math.Max(0, estimatedTokens);
            key?.Admit(keyLimits.Tpm is null ? 0 : reserve);
            team?.Admit(teamLimits.Tpm is null ? 0 : reserve);
            return new LocalRateLease(time, key, keyLimits, key?.Generation ?? 0, keyLimits.Tpm is null ? 0 : reserve, team, teamLimits, team?.Generation ?? 0, teamLimits.Tpm is null ? 0 : reserve);
        }
        finally
        {
            if (takenTeam) Monitor.Exit(team!);
            if (takenKey) Monitor.Exit(key!);
        }
    }

    private static LlmError? Refuse(RateWindow w, RateLimits limits, DateTimeOffset now)
    {
        var left = w.ResetsAt - now;
        if (left < TimeSpan.Zero) left = TimeSpan.Zero;
        if (limits.MaxParallel is { } p && w.InFlight + 1 > p)
            return GovernanceErrors.RateLimited(w.Descriptor, w.Value, "max_parallel_requests", p, 0, now + TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        if (limits.Rpm is { } rpm && w.Requests + 1 > rpm)
            return GovernanceErrors.RateLimited(w.Descriptor, w.Value, "requests", rpm, 0, w.ResetsAt, left);
        if (limits.Tpm is { } tpm && w.Tokens >= tpm)
            return GovernanceErrors.RateLimited(w.Descriptor, w.Value, "tokens", tpm, 0, w.ResetsAt, left);
        return null;
    }

    /// <summary>Headers for the answer: limits and what remains, per descriptor (LiteLLM v3's names).</summary>
    internal static void WriteHeaders(RateWindow? w, RateLimits limits, List<KeyValuePair<string, string>> headers)
    {
        if (w is null) return;
        long requests, tokens, inFlight;
        lock (w) { requests = w.Requests; tokens = w.Tokens; inFlight = w.InFlight; }
        WriteHeaders(w.Descriptor, limits, requests, tokens, inFlight, headers);
    }

    /// <summary>The <c>x-ratelimit-*</c> headers of one descriptor from its counters (local or shared).</summary>
    internal static void WriteHeaders(string d, RateLimits limits, long requests, long tokens, long inFlight, List<KeyValuePair<string, string>> headers)
    {
        // Two descriptors only: their header names are made once, not per answer.
        var names = d == "api_key" ? KeyHeaders : d == "team" ? TeamHeaders : HeaderNames.For(d);
        if (limits.Rpm is { } rpm)
        {
            headers.Add(new(names.LimitRequests, Limit(rpm)));
            headers.Add(new(names.RemainingRequests, Number(Math.Max(0, rpm - requests))));
        }
        if (limits.Tpm is { } tpm)
        {
            headers.Add(new(names.LimitTokens, Limit(tpm)));
            headers.Add(new(names.RemainingTokens, Number(Math.Max(0, tpm - tokens))));
        }
        if (limits.MaxParallel is { } p)
        {
            headers.Add(new(names.LimitParallel, Limit(p)));
            headers.Add(new(names.RemainingParallel, Number(Math.Max(0, p - inFlight))));
        }
    }

    private static readonly HeaderNames KeyHeaders = HeaderNames.For("api_key");
    private static readonly HeaderNames TeamHeaders = HeaderNames.For("team");

    // Small numbers (remaining parallel slots, most limits) come from a table; larger ones are formatted.
    private static readonly string[] SmallNumbers = [.. Enumerable.Range(0, 1024).Select(static i => i.ToString(CultureInfo.InvariantCulture))];

    // Limits are the same on every answer of a key: their strings are made once (bounded, so odd values cannot grow it).
    private static readonly ConcurrentDictionary<long, string> LimitStrings = new();

    private static string Limit(long n)
    {
        if ((ulong)n < (ulong)SmallNumbers.Length) return SmallNumbers[n];
        if (LimitStrings.TryGetValue(n, out var s)) return s;
        s = n.ToString(CultureInfo.InvariantCulture);
        if (LimitStrings.Count < 4096) LimitStrings.TryAdd(n, s);
        return s;
    }

    private static string Number(long n) => (ulong)n < (ulong)SmallNumbers.Length ? SmallNumbers[n] : n.ToString(CultureInfo.InvariantCulture);

    private sealed record HeaderNames(string LimitRequests, string RemainingRequests, string LimitTokens, string RemainingTokens, string LimitParallel, string RemainingParallel)
    {
        public static HeaderNames For(string d) => new(
            $"x-ratelimit-{d}-limit-requests", $"x-ratelimit-{d}-remaining-requests",
            $"x-ratelimit-{d}-limit-tokens", $"x-ratelimit-{d}-remaining-tokens",
            $"x-ratelimit-{d}-limit-max_parallel_requests", $"x-ratelimit-{d}-remaining-max_parallel_requests");
    }

    /// <summary>Calls in flight for a key (tests, diagnostics).</summary>
    public long InFlight(string keyToken) => _keys.TryGetValue(keyToken, out var w) ? w.InFlight : 0;
}

/// <summary>One admitted call's local hold on its descriptors' parallel slots; <see cref="Release"/> is idempotent.</summary>
internal sealed class LocalRateLease : RateLease
{
    private readonly TimeProvider _time;
    private int _released;

    internal LocalRateLease(TimeProvider time, RateWindow? key, RateLimits keyLimits, long keyGeneration, long keyReserved, RateWindow? team, RateLimits teamLimits, long teamGeneration, long teamReserved)
    {
        _time = time;
        Key = key;
        KeyLimits = keyLimits;
        KeyGeneration = keyGeneration;
        KeyReserved = keyReserved;
        Team = team;
        TeamLimits = teamLimits;
        TeamGeneration = teamGeneration;
        TeamReserved = teamReserved;
    }

    internal long KeyGeneration { get; }
    internal long KeyReserved { get; }
    internal long TeamGeneration { get; }
    internal long TeamReserved { get; }

    internal RateWindow? Key { get; }
    internal RateLimits KeyLimits { get; }
    internal RateWindow? Team { get; }
    internal RateLimits TeamLimits { get; }

    public override void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0) return;
        if (Key is not null) lock (Key) Key.Release();
        if (Team is not null) lock (Team) Team.Release();
    }

    public override void Settle(long tokens)
    {
        var now = _time.GetUtcNow();
        // Tokens count where a tpm limit holds for the call, as in Redis (a dynamic limit left off counts nothing).
        if (Key is { } k && KeyLimits.Tpm is not null) lock (k) k.Settle(KeyGeneration, KeyReserved, tokens, now);
        if (Team is { } t && TeamLimits.Tpm is not null) lock (t) t.Settle(TeamGeneration, TeamReserved, tokens, now);
    }

    public override void WriteHeaders(List<KeyValuePair<string, string>> headers)
    {
        RateLimiter.WriteHeaders(Key, KeyLimits, headers);
        RateLimiter.WriteHeaders(Team, TeamLimits, headers);
    }
}
