using LLMux.Governance;

namespace LLMux.Tests.Governance;

/// <summary>Spend-log request ids: <c>llmux-</c> and 32 lowercase hex digits, unique, and ordered by time within a process.</summary>
public sealed class RequestIdTests
{
    [Fact]
    public void Ids_are_unique_well_formed_and_grow_in_the_order_they_were_made()
    {
        var ids = new string[20_000];
        for (var i = 0; i < ids.Length; i++) ids[i] = GovernanceStage.NewRequestId();
        Assert.Equal(ids.Length, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.All(ids, id => Assert.Matches("^llmux-[0-9a-f]{32}$", id));
        Assert.Equal(ids, ids.Order(StringComparer.Ordinal));
        // The first 12 digits are the time in ms.
        var ms = Convert.ToInt64(ids[^1][6..18], 16);
        Assert.InRange(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - ms, 0, 60_000);
    }

    [Fact]
    public void Ids_made_on_many_threads_at_once_never_collide()
    {
        var bag = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 8, _ => { for (var i = 0; i < 5_000; i++) bag.Add(GovernanceStage.NewRequestId()); });
        Assert.Equal(40_000, bag.Distinct(StringComparer.Ordinal).Count());
    }
}
