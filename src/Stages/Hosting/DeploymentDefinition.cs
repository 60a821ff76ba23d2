namespace LLMux.Stages.Hosting;

/// <summary>
/// One <c>model_list</c> entry as code writes it: the public name, LiteLLM's <c>provider/model</c>, and the
/// <c>litellm_params</c> that matter; anything else goes in <see cref="Params"/> (aws_*, vertex_*, mock_*...).
/// </summary>
public sealed record DeploymentDefinition
{
    /// <summary>The name callers ask for (<c>model_name</c>).</summary>
    public required string ModelName { get; init; }
    /// <summary><c>litellm_params.model</c>, e.g. <c>openai/gpt-4o-mini</c>.</summary>
    public required string Model { get; init; }
    public string? ApiBase { get; init; }
    /// <summary>The key, or <c>os.environ/NAME</c> to read it from the environment.</summary>
    public string? ApiKey { get; init; }
    public string? ApiVersion { get; init; }
    public TimeSpan? Timeout { get; init; }
    public TimeSpan? StreamTimeout { get; init; }
    public int? Rpm { get; init; }
    public int? Tpm { get; init; }
    public bool? DropParams { get; init; }
    public decimal? InputCostPerToken { get; init; }
    public decimal? OutputCostPerToken { get; init; }
    /// <summary><c>additional_drop_params</c>: parameters always removed for this deployment.</summary>
    public IReadOnlyList<string> AdditionalDropParams { get; init; } = [];
    /// <summary><c>allowed_openai_params</c>: parameters sent even where the provider's table does not list them.</summary>
    public IReadOnlyList<string> AllowedOpenAIParams { get; init; } = [];
    /// <summary><c>model_info.id</c>; a stable hash of name, model and api_base when absent.</summary>
    public string? Id { get; init; }
    /// <summary>Every other <c>litellm_params</c> value, as text.</summary>
    public IReadOnlyDictionary<string, string> Params { get; init; } = new Dictionary<string, string>();
}
