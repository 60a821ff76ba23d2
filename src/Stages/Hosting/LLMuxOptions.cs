using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;

namespace LLMux.Stages.Hosting;

/// <summary>Everything <c>AddLLMux</c> collects: deployments, settings, extra stages and providers. Validated at start.</summary>
public sealed class LLMuxOptions
{
    /// <summary>Deployments written in code or read from configuration; resolved against the provider catalog at start.</summary>
    public List<DeploymentDefinition> Deployments { get; } = [];
    /// <summary>Deployments already resolved elsewhere (e.g. by the host's YAML loader).</summary>
    public List<Deployment> ResolvedDeployments { get; } = [];
    /// <summary><c>litellm_settings</c> and <c>router_settings</c>.</summary>
    public GatewaySettings Settings { get; set; } = new();
    /// <summary>Stages that run after validation, before routing (every call, once).</summary>
    public List<ILlmStage> StagesBeforeRouting { get; } = [];
    /// <summary>Stages that run for every upstream attempt, after the capability check and before the request is written.</summary>
    public List<ILlmStage> StagesBeforeSend { get; } = [];
    /// <summary>Providers added to the catalog (a custom provider, or a replacement for a built-in prefix).</summary>
    public List<LlmProvider> Providers { get; } = [];
    /// <summary>The model <c>IChatClient</c> uses when <c>ChatOptions.ModelId</c> is not set; the first deployment's name when null.</summary>
    public string? DefaultChatModel { get; set; }
    /// <summary>The model the embedding generator uses when <c>EmbeddingGenerationOptions.ModelId</c> is not set.</summary>
    public string? DefaultEmbeddingModel { get; set; }
    /// <summary>Reads <c>os.environ/NAME</c> values; the process environment when null (tests replace it).</summary>
    public Func<string, string?>? Environment { get; set; }
    /// <summary>Problems found while reading a configuration section, reported by validation with their paths.</summary>
    internal List<string> ConfigurationErrors { get; } = [];
    /// <summary><c>environment_variables</c> of a configuration section: consulted before <see cref="Environment"/>.</summary>
    internal Dictionary<string, string> ConfigurationEnvironment { get; } = new(StringComparer.Ordinal);

    /// <summary>How <c>os.environ/NAME</c> resolves: the config's environment_variables, then <see cref="Environment"/> (or the process).</summary>
    internal Func<string, string?> EffectiveEnvironment()
    {
        var env = Environment ?? System.Environment.GetEnvironmentVariable;
        if (ConfigurationEnvironment.Count == 0) return env;
        var own = ConfigurationEnvironment;
        return name => own.TryGetValue(name, out var v) ? v : env(name);
    }
}
