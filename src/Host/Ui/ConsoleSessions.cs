using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace LLMux.Host.Ui;

/// <summary>
/// Signed-in admin console sessions, in process. A session id is 32 random bytes (the cookie value, kept here only
/// as its SHA-256), paired with a CSRF token the pages send back on every change. A session ends at log-out, after
/// <see cref="IdleTimeout"/> without a request, or <see cref="MaxLifetime"/> after sign-in, whichever comes first.
/// Sessions do not survive a restart: signing in again is the price of never writing them anywhere. A session signed
/// in with the master key ends when the master key in force changes (<c>/key/regenerate</c> with
/// <c>new_master_key</c>, on any replica): a rotation made because the key leaked must not leave its sessions open.
/// </summary>
internal sealed class ConsoleSessions(TimeProvider time, Func<string>? masterKeyInForce = null)
{
    public const string CookieName = "llmux_console";
    public const string CsrfHeader = "x-llmux-csrf";
    public const string CsrfField = "csrf";

    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(30);
    public TimeSpan MaxLifetime { get; init; } = TimeSpan.FromHours(8);

    /// <summary>A live session: who signed in (the key's masked name, for the header) and its CSRF token.</summary>
    internal sealed class Session(string csrf, string signedInAs, DateTimeOffset started, string? masterKeyHash)
    {
        public string Csrf { get; } = csrf;
        public string SignedInAs { get; } = signedInAs;
        public DateTimeOffset Started { get; } = started;
        /// <summary>The hash of the master key it signed in with; null for an admin user's key.</summary>
        public string? MasterKeyHash { get; } = masterKeyHash;
        public long LastSeenTicks;
    }

    private readonly ConcurrentDictionary<string, Session> _sessions = new(StringComparer.Ordinal);

    /// <summary>Starts a session; returns the cookie value (shown to nobody but the browser) and the session.</summary>
    public (string CookieValue, Session Session) Start(string signedInAs, string? masterKeyHash = null)
    {
        Prune();
        var id = NewToken();
        var now = time.GetUtcNow();
        var session = new Session(NewToken(), signedInAs, now, masterKeyHash) { LastSeenTicks = now.UtcTicks };
        _sessions[Hash(id)] = session;
        return (id, session);
    }

    /// <summary>The live session the cookie names (its idle clock restarted), or null when it is unknown or expired.</summary>
    public Session? Find(string? cookieValue)
    {
        if (string.IsNullOrEmpty(cookieValue) || cookieValue.Length > 128) return null;
        var key = Hash(cookieValue);
        if (!_sessions.TryGetValue(key, out var session)) return null;
        var now = time.GetUtcNow();
        if (Expired(session, now) || (session.MasterKeyHash is { } signedInWith && masterKeyInForce is not null && signedInWith != masterKeyInForce()))
        {
            _sessions.TryRemove(key, out _);
            return null;
        }
        Interlocked.Exchange(ref session.LastSeenTicks, now.UtcTicks);
        return session;
    }

    public void End(string? cookieValue)
    {
        if (!string.IsNullOrEmpty(cookieValue)) _sessions.TryRemove(Hash(cookieValue), out _);
    }

    /// <summary>Whether <paramref name="presented"/> is this session's CSRF token (constant time).</summary>
    public static bool CsrfMatches(Session session, string? presented) =>
        presented is { Length: > 0 } && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(presented), Encoding.ASCII.GetBytes(session.Csrf));

    public int Count => _sessions.Count;

    private bool Expired(Session s, DateTimeOffset now) =>
        now - s.Started >= MaxLifetime || now.UtcTicks - Interlocked.Read(ref s.LastSeenTicks) >= IdleTimeout.Ticks;

    private void Prune()
    {
        var now = time.GetUtcNow();
        foreach (var (key, session) in _sessions)
            if (Expired(session, now)) _sessions.TryRemove(key, out _);
    }

    private static string NewToken() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string Hash(string value) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
}
