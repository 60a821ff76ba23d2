using System.Collections.Concurrent;
using LLMux.Pipeline.Context;

namespace LLMux.Stages.Routing;

/// <summary>The router's per-process state: one <see cref="DeploymentState"/> per deployment id.</summary>
public sealed class RouterState(TimeProvider timeProvider)
{
    private readonly ConcurrentDictionary<string, DeploymentState> _states = new(StringComparer.Ordinal);

    public TimeProvider Time { get; } = timeProvider;

    public DeploymentState For(Deployment deployment) => _states.GetOrAdd(deployment.Id, static (_, arg) => new DeploymentState(arg.deployment, arg.Time), (deployment, Time));
}
