using System.Collections.Frozen;

namespace LLMux.Pipeline.Context;

/// <summary>One configured upstream model: a <c>model_list</c> entry, resolved and validated.</summary>
public sealed record Deployment
{
    /// <summary>Public name clients ask for (<c>model_name</c>).</summary>
    public required string ModelName { get; init; }
    /// <summary>The <c>litellm_params.model</c> value, e.g. <c>openai/gpt-4o-mini</c>.</summary>
    public required string Model { get; init; }
    /// <summary>Provider id (the first path segment of <see cref="Model"/>).</summary>
    public required string ProviderName { get; init; }
    /// <summary>The id sent upstream: <see cref="Model"/> with only the first <c>provider/</c> prefix stripped.</summary>
    public required string UpstreamModel { get; init; }
    public required LlmProvider Provider { get; init; }
    public required string Id { get; init; }
    public string? ApiBase { get; init; }
    public Secret? ApiKey { get; init; }
    public string? ApiVersion { get; init; }
    public TimeSpan? Timeout { get; init; }
    public TimeSpan? StreamTimeout { get; init; }
    public int? MaxRetries { get; init; }
    public bool? DropParams { get; init; }
    public IReadOnlyList<string> AdditionalDropParams { get; init; } = [];
    public IReadOnlyList<string> AllowedOpenAIParams { get; init; } = [];
    public decimal? InputCostPerToken { get; init; }
    public decimal? OutputCostPerToken { get; init; }
    public int? Rpm { get; init; }
    public int? Tpm { get; init; }
    public double? Weight { get; init; }
    public int? Order { get; init; }
    /// <summary>Every other <c>litellm_params</c> value as text (aws_*, vertex_*, mock_*...). Secrets resolved.</summary>
    public FrozenDictionary<string, string> Settings { get; init; } = FrozenDictionary<string, string>.Empty;

    public string? Setting(string key) => Settings.TryGetValue(key, out var v) ? v : null;
}
