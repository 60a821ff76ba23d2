using LLMux.Host.Ui;
using Microsoft.Extensions.Time.Testing;

namespace LLMux.Tests.Ui;

/// <summary>Admin console sessions: their ends (idle, lifetime, and a rotation of the master key they signed in with).</summary>
public sealed class ConsoleSessionTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void A_session_signed_in_with_the_master_key_ends_when_the_master_key_in_force_changes()
    {
        var inForce = "hash-of-old-master";
        var sessions = new ConsoleSessions(_time, () => inForce);
        var (master, _) = sessions.Start("master key", "hash-of-old-master");
        var (adminUser, _) = sessions.Start("ops@example.com (sk-...abcd)");
        Assert.NotNull(sessions.Find(master));

        inForce = "hash-of-new-master";
        Assert.Null(sessions.Find(master));
        // Gone for good, even if the key in force went back.
        inForce = "hash-of-old-master";
        Assert.Null(sessions.Find(master));
        // An admin user's session did not sign in with the master key.
        Assert.NotNull(sessions.Find(adminUser));
    }

    [Fact]
    public void A_session_ends_after_its_idle_timeout_and_its_lifetime()
    {
        var sessions = new ConsoleSessions(_time);
        var (idle, _) = sessions.Start("master key", "h");
        var (busy, _) = sessions.Start("master key", "h");
        _time.Advance(TimeSpan.FromMinutes(20));
        Assert.NotNull(sessions.Find(busy));
        _time.Advance(TimeSpan.FromMinutes(20));
        Assert.Null(sessions.Find(idle));
        // Used every 20 minutes: alive until eight hours after sign-in (40 + 22 × 20 = 480 minutes), however busy.
        for (var i = 0; i < 22; i++)
        {
            Assert.NotNull(sessions.Find(busy));
            _time.Advance(TimeSpan.FromMinutes(20));
        }
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Null(sessions.Find(busy));
    }
}
