using LLMux.Pipeline.Context;
using LLMux.Stages.Accounting;

namespace LLMux.Stages.Routing;

/// <summary>Picks one deployment among the healthy ones of a group (LiteLLM's <c>routing_strategy</c>).</summary>
public static class RoutingStrategy
{
    public static DeploymentState Pick(RoutingStrategyKind kind, IReadOnlyList<DeploymentState> healthy, DateTimeOffset now, CostCalculator? costs)
    {
        if (healthy.Count == 1) return healthy[0];
        return kind switch
        {
            RoutingStrategyKind.LeastBusy => LeastBusy(healthy),
            RoutingStrategyKind.LatencyBased => LowestLatency(healthy),
            RoutingStrategyKind.UsageBased => LowestUsage(healthy, now),
            RoutingStrategyKind.CostBased => Cheapest(healthy, costs),
            _ => WeightedShuffle(healthy),
        };
    }

    /// <summary>Random, weighted by the first of weight, rpm, tpm that the first deployment sets; uniform otherwise.</summary>
    private static DeploymentState WeightedShuffle(IReadOnlyList<DeploymentState> healthy)
    {
        var first = healthy[0].Deployment;
        Func<Deployment, double>? weight = first.Weight is not null ? static d => d.Weight ?? 0
            : first.Rpm is not null ? static d => d.Rpm ?? 0
            : first.Tpm is not null ? static d => d.Tpm ?? 0
            : null;
        if (weight is null) return healthy[Random.Shared.Next(healthy.Count)];
        double total = 0;
        for (var i = 0; i < healthy.Count; i++) total += Math.Max(0, weight(healthy[i].Deployment));
        if (total <= 0) return healthy[Random.Shared.Next(healthy.Count)];
        var x = Random.Shared.NextDouble() * total;
        for (var i = 0; i < healthy.Count; i++)
        {
            x -= Math.Max(0, weight(healthy[i].Deployment));
            if (x < 0) return healthy[i];
        }
        return healthy[^1];
    }

    private static DeploymentState LeastBusy(IReadOnlyList<DeploymentState> healthy)
    {
        var best = healthy[0];
        for (var i = 1; i < healthy.Count; i++) if (healthy[i].InFlight < best.InFlight) best = healthy[i];
        return best;
    }

    /// <summary>Lowest recent latency; a deployment never measured goes first so that it gets measured.</summary>
    private static DeploymentState LowestLatency(IReadOnlyList<DeploymentState> healthy)
    {
        var best = healthy[0];
        for (var i = 1; i < healthy.Count; i++)
        {
            var l = healthy[i].LatencyMs;
            var b = best.LatencyMs;
            if (b < 0) break;
            if (l < b) best = healthy[i];
        }
        return best;
    }

    /// <summary>Lowest tokens this minute among deployments still under their rpm/tpm.</summary>
    private static DeploymentState LowestUsage(IReadOnlyList<DeploymentState> healthy, DateTimeOffset now)
    {
        DeploymentState? best = null;
        long bestTokens = long.MaxValue;
        for (var i = 0; i < healthy.Count; i++)
        {
            var s = healthy[i];
            var (requests, _, tokens) = s.ThisMinute(now);
            if (s.Deployment.Rpm is { } rpm && requests >= rpm) continue;
            if (s.Deployment.Tpm is { } tpm && tokens >= tpm) continue;
            if (tokens < bestTokens) { best = s; bestTokens = tokens; }
        }
        return best ?? healthy[0];
    }

    /// <summary>Lowest input+output price per token; a model without a price counts as $1 (as LiteLLM does).</summary>
    private static DeploymentState Cheapest(IReadOnlyList<DeploymentState> healthy, CostCalculator? costs)
    {
        var best = healthy[0];
        var bestPrice = decimal.MaxValue;
        for (var i = 0; i < healthy.Count; i++)
        {
            var p = costs?.PriceFor(healthy[i].Deployment);
            var price = p is null ? 1m : p.InputPerToken + p.OutputPerToken;
            if (price < bestPrice) { best = healthy[i]; bestPrice = price; }
        }
        return best;
    }
}
