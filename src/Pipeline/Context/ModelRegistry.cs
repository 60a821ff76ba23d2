using System.Collections.Frozen;

namespace LLMux.Pipeline.Context;

/// <summary>The configured deployments, by public model name. Immutable once built.</summary>
public sealed class ModelRegistry
{
    private readonly FrozenDictionary<string, Deployment[]> _groups;

    public ModelRegistry(IEnumerable<Deployment> deployments)
    {
        var all = deployments.ToArray();
        All = all;
        _groups = all.GroupBy(static d => d.ModelName, StringComparer.Ordinal)
            .ToFrozenDictionary(static g => g.Key, static g => g.ToArray(), StringComparer.Ordinal);
        Names = all.Select(static d => d.ModelName).Distinct(StringComparer.Ordinal).ToArray();
    }

    public IReadOnlyList<Deployment> All { get; }

    /// <summary>Public model names, in config order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The deployments serving <paramref name="modelName"/> (a model group), or null.</summary>
    public IReadOnlyList<Deployment>? Group(string modelName)
    {
        if (_groups.TryGetValue(modelName, out var group)) return group;
        // Wildcard groups (`openai/*`, `*`) as LiteLLM routes them.
        foreach (var (name, g) in _groups)
        {
            if (name == "*") return g;
            if (name.EndsWith("/*", StringComparison.Ordinal) && modelName.StartsWith(name.AsSpan(0, name.Length - 1), StringComparison.Ordinal)) return g;
        }
        return null;
    }
}
