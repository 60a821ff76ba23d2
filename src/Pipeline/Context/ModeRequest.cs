namespace LLMux.Pipeline.Context;

/// <summary>
/// A request of a mode beyond chat and embeddings (completion, rerank, moderation, images, audio), validated by its
/// endpoint before the pipeline runs: the parameters the client set, for the capability check, and the per-request
/// drop lists LiteLLM takes in the body.
/// </summary>
public sealed class ModeRequest
{
    /// <summary>The optional parameters the client set (required fields such as <c>prompt</c> or <c>query</c> are not listed).</summary>
    public IReadOnlyList<string> Params { get; init; } = [];
    public bool? DropParams { get; init; }
    public IReadOnlyList<string> AdditionalDropParams { get; init; } = [];
    public IReadOnlyList<string> AllowedOpenAIParams { get; init; } = [];
    /// <summary>The mode's parsed request, for the provider's request writer (a type of the mode's own).</summary>
    public object? Parsed { get; init; }
}
