using System.Collections.Concurrent;

namespace LLMux.Governance.Keys;

/// <summary>
/// The SHA-256 of raw keys already seen to exist, so a warm call does not hash its key again (the hash was the
/// largest single cost of authentication in the governance profile). Raw keys are compared in constant time (for a
/// given length); only existing keys are remembered, and the table is bounded.
/// </summary>
internal sealed class KeyHashes
{
    private const int MaxEntries = 50_000;
    private readonly ConcurrentDictionary<string, string> _byRaw = new(ConstantTimeComparer.Instance);

    public string HashOf(string raw) => _byRaw.TryGetValue(raw, out var hash) ? hash : VirtualKeys.Hash(raw);

    public void Remember(string raw, string hash)
    {
        if (_byRaw.Count >= MaxEntries) _byRaw.Clear();
        _byRaw.TryAdd(raw, hash);
    }

    private sealed class ConstantTimeComparer : IEqualityComparer<string>
    {
        public static readonly ConstantTimeComparer Instance = new();

        public bool Equals(string? x, string? y) => x is not null && y is not null && VirtualKeys.SameHash(x, y);

        // Randomized per process: bucket placement tells an observer nothing about the key.
        public int GetHashCode(string obj) => obj.GetHashCode(StringComparison.Ordinal);
    }
}
