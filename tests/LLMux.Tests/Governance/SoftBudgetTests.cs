using System.Net;

namespace LLMux.Tests.Governance;

/// <summary><c>soft_budget</c>: never refuses a call; the answer that crosses it raises one alert (a log warning and a metric).</summary>
public sealed class SoftBudgetTests : IAsyncLifetime
{
    private GovernanceGateway _g = null!;

    public async Task InitializeAsync() => _g = await GovernanceGateway.StartAsync();
    public async Task DisposeAsync() => await _g.DisposeAsync();

    [Fact]
    public async Task The_call_that_crosses_a_soft_budget_raises_one_alert_and_later_calls_still_pass()
    {
        // Each call costs 0.000018: the second crosses 0.00003.
        var raw = await _g.NewKeyAsync("""{"key_alias":"search-prod","soft_budget":0.00003}""");
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        var counted = 0L;
        listener.InstrumentPublished = (i, l) => { if (i.Name == "llmux.governance.soft_budget_alerts") l.EnableMeasurementEvents(i); };
        listener.SetMeasurementEventCallback<long>((_, v, _, _) => Interlocked.Add(ref counted, v));
        listener.Start();
        using (var first = await _g.ChatAsync(raw)) Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.DoesNotContain(_g.Logs, l => l.Contains("soft budget reached", StringComparison.Ordinal));
        for (var i = 0; i < 3; i++)
            using (var r = await _g.ChatAsync(raw)) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        // With Redis (CI) the alert comes from the shared counter's answer, just after the call.
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (!_g.Logs.Any(l => l.Contains("soft budget reached", StringComparison.Ordinal)) && deadline.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(20);
        var alert = Assert.Single(_g.Logs, l => l.Contains("soft budget reached", StringComparison.Ordinal));
        Assert.Contains("key search-prod", alert);
        Assert.DoesNotContain(raw, alert);
        Assert.True(Interlocked.Read(ref counted) >= 1);
    }
}
