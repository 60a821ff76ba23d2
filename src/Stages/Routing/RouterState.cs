using System.Collections.Concurrent;
using LLMux.Pipeline.Context;

namespace LLMux.Stages.Routing;

/// <summary>The router's per-process state: one <see cref="DeploymentState"/> per deployment id.</summary>
public sealed class RouterState(TimeProvider timeProvider)
{
    private readonly ConcurrentDictionary<string, DeploymentState> _states = new(StringComparer.Ordinal);
    // Cooldowns other replicas started for deployments this one has not routed to yet.
    private readonly ConcurrentDictionary<string, DateTimeOffset> _pending = new(StringComparer.Ordinal);

    public TimeProvider Time { get; } = timeProvider;

    public DeploymentState For(Deployment deployment) => _states.TryGetValue(deployment.Id, out var s) ? s : Create(deployment);

    private DeploymentState Create(Deployment deployment)
    {
        var s = _states.GetOrAdd(deployment.Id, static (_, arg) => new DeploymentState(arg.deployment, arg.Time), (deployment, Time));
        if (!_pending.IsEmpty && _pending.TryRemove(deployment.Id, out var until)) s.CoolDownUntil(until);
        return s;
    }

    /// <summary>Told of every cooldown the router starts here (deployment id, how long), so a host can share it with other replicas.</summary>
    public Action<string, TimeSpan>? CooledDown { get; set; }

    /// <summary>Cools a deployment down on this replica and tells <see cref="CooledDown"/>.</summary>
    public void CoolDown(DeploymentState state, DateTimeOffset now, TimeSpan duration)
    {
        state.CoolDown(now, duration);
        CooledDown?.Invoke(state.Deployment.Id, duration);
    }

    /// <summary>A cooldown another replica started: applied here only (never shortens one already running).</summary>
    public void CoolDownFromElsewhere(string deploymentId, TimeSpan left)
    {
        if (left <= TimeSpan.Zero) return;
        var until = Time.GetUtcNow() + left;
        if (_states.TryGetValue(deploymentId, out var s)) s.CoolDownUntil(until);
        else _pending[deploymentId] = until;
    }

    /// <summary>Whether any of <paramref name="deployments"/> failed more than <paramref name="allowed"/> times this minute on this replica.</summary>
    public bool AnyFailing(IReadOnlyList<Deployment> deployments, int allowed)
    {
        var now = Time.GetUtcNow();
        foreach (var d in deployments)
            if (_states.TryGetValue(d.Id, out var s) && s.ThisMinute(now).Failures > allowed) return true;
        return false;
    }
}
