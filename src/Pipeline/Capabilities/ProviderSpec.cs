using System.Collections.Frozen;

namespace LLMux.Pipeline.Capabilities;

/// <summary>
/// What a provider is and what it can do, as data: the capability matrix in docs/ is generated from these.
/// </summary>
public sealed record ProviderSpec
{
    /// <summary>Config prefix, LiteLLM's provider id (<c>openai</c>, <c>vertex_ai</c>, <c>together_ai</c>...).</summary>
    public required string Name { get; init; }
    public IReadOnlyList<string> Aliases { get; init; } = [];
    public string DisplayName { get; init; } = "";
    /// <summary>Default base URL when the config gives no <c>api_base</c>.</summary>
    public string? DefaultApiBase { get; init; }
    /// <summary>Environment variable holding the key when the config gives none.</summary>
    public string? ApiKeyEnv { get; init; }
    public string? ApiBaseEnv { get; init; }
    public AuthScheme Auth { get; init; } = AuthScheme.Bearer;
    public StreamFormat StreamFormat { get; init; } = StreamFormat.Sse;
    public IReadOnlySet<LlmMode> Modes { get; init; } = FrozenSet<LlmMode>.Empty;
    /// <summary>Chat parameter table. A parameter absent from the table is treated as <see cref="ParamSupportKind.Dropped"/>.</summary>
    public FrozenDictionary<string, ParamRule> ChatParams { get; init; } = FrozenDictionary<string, ParamRule>.Empty;
    public FrozenDictionary<string, ParamRule> EmbeddingParams { get; init; } = FrozenDictionary<string, ParamRule>.Empty;
    /// <summary>Parameter tables of the other modes (completion, rerank, moderation, images, audio), by mode.</summary>
    public FrozenDictionary<LlmMode, FrozenDictionary<string, ParamRule>> ModeParams { get; init; } = FrozenDictionary<LlmMode, FrozenDictionary<string, ParamRule>>.Empty;
    /// <summary>Responses API table: <see cref="ResponsesParams.Native"/> where the provider speaks it, else the chat bridge's (<see cref="ResponsesParams.Bridged"/>).</summary>
    public FrozenDictionary<string, ParamRule> ResponsesParamTable => NativeResponses ? ResponsesParams.Native : ResponsesParams.Bridged;
    /// <summary>True when the provider speaks the Responses API itself (OpenAI, Azure OpenAI, xAI): <c>/v1/responses</c> is forwarded, not bridged.</summary>
    public bool NativeResponses { get; init; }
    /// <summary>True when unknown request fields are forwarded as they are (OpenAI-compatible upstreams).</summary>
    public bool ForwardsUnknownFields { get; init; }
    /// <summary>Wire quirks worth knowing (shown in docs/capabilities.md).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>Every chat provider serves the Responses API and legacy completions (natively or through the chat bridge).</summary>
    public bool Supports(LlmMode mode) => Modes.Contains(mode) || ((mode == LlmMode.Responses || mode == LlmMode.Completion) && Modes.Contains(LlmMode.Chat));

    public ParamRule RuleFor(LlmMode mode, string param)
    {
        return TableFor(mode).TryGetValue(param, out var rule) ? rule : ParamRule.Dropped(param);
    }

    /// <summary>The parameter table of <paramref name="mode"/>.</summary>
    public FrozenDictionary<string, ParamRule> TableFor(LlmMode mode) => mode switch
    {
        LlmMode.Chat => ChatParams,
        LlmMode.Embeddings => EmbeddingParams,
        LlmMode.Responses => ResponsesParamTable,
        _ when ModeParams.TryGetValue(mode, out var t) => t,
        LlmMode.Completion when Modes.Contains(LlmMode.Chat) => CompletionParams.Bridged,
        _ => FrozenDictionary<string, ParamRule>.Empty,
    };

    public static FrozenDictionary<string, ParamRule> Table(params ParamRule[] rules) =>
        rules.ToFrozenDictionary(static r => r.Param, StringComparer.Ordinal);
}
