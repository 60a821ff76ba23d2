using LLMux.Pipeline.Context;

namespace LLMux.Tests.Pipeline;

/// <summary>
/// The pooled context keeps its upstream cancellation source for the next request only when nothing can cancel it any
/// more: it follows the client's token while in use, and a source that fired is never handed on.
/// </summary>
public sealed class UpstreamCancellationTests
{
    private static (LlmContextPool Pool, LlmContext Context) Rent()
    {
        var pool = new LlmContextPool();
        return (pool, pool.Rent());
    }

    [Fact]
    public void The_source_follows_the_client_token_while_in_use()
    {
        var (_, context) = Rent();
        using var client = new CancellationTokenSource();
        context.RequestAborted = client.Token;
        var upstream = context.StartUpstreamCancellation();
        Assert.False(upstream.IsCancellationRequested);
        client.Cancel();
        Assert.True(upstream.IsCancellationRequested);
    }

    [Fact]
    public void An_unfired_source_is_reused_and_the_old_client_token_no_longer_reaches_it()
    {
        var (pool, context) = Rent();
        using var first = new CancellationTokenSource();
        context.RequestAborted = first.Token;
        var used = context.StartUpstreamCancellation();
        used.CancelAfter(TimeSpan.FromHours(1));
        pool.Return(context);

        var again = pool.Rent();
        Assert.Same(context, again);
        using var second = new CancellationTokenSource();
        again.RequestAborted = second.Token;
        var reused = again.StartUpstreamCancellation();
        Assert.Same(used, reused);
        // The first request's client going away late must not cancel the second request's upstream call.
        first.Cancel();
        Assert.False(reused.IsCancellationRequested);
        second.Cancel();
        Assert.True(reused.IsCancellationRequested);
    }

    [Fact]
    public void A_source_that_fired_is_not_reused()
    {
        var (pool, context) = Rent();
        using var client = new CancellationTokenSource();
        context.RequestAborted = client.Token;
        var fired = context.StartUpstreamCancellation();
        client.Cancel();
        pool.Return(context);

        var again = pool.Rent();
        again.RequestAborted = CancellationToken.None;
        var fresh = again.StartUpstreamCancellation();
        Assert.NotSame(fired, fresh);
        Assert.False(fresh.IsCancellationRequested);
    }

    [Fact]
    public void A_source_marked_not_reusable_is_not_handed_on()
    {
        var (_, context) = Rent();
        var first = context.StartUpstreamCancellation(reusable: false);
        context.ResetAttempt();
        var second = context.StartUpstreamCancellation();
        Assert.NotSame(first, second);
    }
}
