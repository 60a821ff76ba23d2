using System.Collections.Frozen;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Json;
using LLMux.Providers.OpenAI;

namespace LLMux.Providers.OpenAICompatible;

/// <summary>How a compatible upstream lays out its URLs.</summary>
public enum CompatibleUrlStyle
{
    /// <summary><c>{api_base}/chat/completions</c>: api_base includes the version path (<c>/v1</c>).</summary>
    OpenAI,
    /// <summary>Azure OpenAI: <c>{api_base}/openai/deployments/{deployment}/chat/completions?api-version=...</c>.</summary>
    AzureDeployment,
    /// <summary>Azure AI Foundry: <c>{api_base}/models/chat/completions</c> on <c>*.services.ai.azure.com</c>, else <c>{api_base}/chat/completions</c>; <c>api-version</c> when configured.</summary>
    AzureFoundry,
    /// <summary>Ollama's OpenAI-compatible API: api_base is the host root, LLMux adds <c>/v1</c>.</summary>
    OllamaV1,
    /// <summary>api_base is a host root and LLMux adds <c>/v1</c> unless it is there (Heroku's INFERENCE_URL).</summary>
    HostRootV1,
    /// <summary>
    /// Cloudflare Workers AI's OpenAI-compatible endpoint <c>.../accounts/{account}/ai/v1</c>; with no api_base it is built
    /// from <c>CLOUDFLARE_ACCOUNT_ID</c>, and a LiteLLM base for the native endpoint (<c>.../ai/run/</c>) is moved to <c>/ai/v1</c>.
    /// </summary>
    CloudflareAccount,
}

/// <summary>
/// One OpenAI-compatible provider as data: where it lives, how it authenticates, and how its parameters differ
/// from OpenAI's as LiteLLM knows them. <see cref="ToSpec"/> turns the row into the provider's spec.
/// </summary>
public sealed record CompatibleProviderRow
{
    /// <summary>Config prefix as LiteLLM spells it.</summary>
    public required string Name { get; init; }
    public required string DisplayName { get; init; }
    public IReadOnlyList<string> Aliases { get; init; } = [];
    public string? DefaultApiBase { get; init; }
    public string? ApiBaseEnv { get; init; }
    public string? ApiKeyEnv { get; init; }
    /// <summary>Key sent when none is configured (LiteLLM sends <c>fake-api-key</c> to self-hosted servers).</summary>
    public string? DefaultApiKey { get; init; }
    public AuthScheme Auth { get; init; } = AuthScheme.Bearer;
    public CompatibleUrlStyle UrlStyle { get; init; } = CompatibleUrlStyle.OpenAI;
    /// <summary>The provider speaks OpenAI's Responses API itself: <c>/v1/responses</c> is forwarded, not bridged.</summary>
    public bool NativeResponses { get; init; }
    /// <summary>The provider's supported chat list; null means OpenAI's list (<see cref="OpenAISpec.ChatParams"/>).</summary>
    public IReadOnlyList<string>? ChatParams { get; init; }
    /// <summary>Added to the list (provider extras such as <c>top_k</c>, or <c>thinking</c>).</summary>
    public IReadOnlyList<string> AddedParams { get; init; } = [];
    /// <summary>Taken off the list.</summary>
    public IReadOnlyList<string> RemovedParams { get; init; } = [];
    /// <summary>OpenAI name → the provider's name (LLMux renames it in the body).</summary>
    public IReadOnlyDictionary<string, string> Renames { get; init; } = FrozenDictionary<string, string>.Empty;
    /// <summary>String values the provider spells differently.</summary>
    public IReadOnlyList<(string Field, string From, string To)> ValueRewrites { get; init; } = [];
    /// <summary>Per-parameter notes shown in the matrix.</summary>
    public IReadOnlyDictionary<string, string> ParamNotes { get; init; } = FrozenDictionary<string, string>.Empty;
    public bool Embeddings { get; init; }
    /// <summary>Send <c>stream: false</c> when the client did not ask for a stream (Ollama).</summary>
    public bool ExplicitStreamFalse { get; init; }
    public IReadOnlyList<string> Notes { get; init; } = [];

    public JsonBodyEdits Edits() => new()
    {
        Renames = Renames,
        ValueRewrites = ValueRewrites,
        AddIfMissing = ExplicitStreamFalse ? [("stream", "false")] : [],
    };

    public ProviderSpec ToSpec()
    {
        var supported = new List<string>(ChatParams ?? OpenAISpec.ChatParams);
        foreach (var p in RemovedParams) supported.Remove(p);
        foreach (var p in AddedParams) if (!supported.Contains(p)) supported.Add(p);

        var rules = new List<ParamRule>();
        foreach (var p in OpenAIParamNames.Chat.Concat(supported).Distinct())
        {
            var note = ParamNotes.TryGetValue(p, out var n) ? n : null;
            if (Renames.TryGetValue(p, out var to) && supported.Contains(p)) rules.Add(ParamRule.Mapped(p, to, note));
            else if (supported.Contains(p)) rules.Add(new ParamRule(p, ParamSupportKind.Native, null, note));
            else rules.Add(ParamRule.Dropped(p, note ?? $"not in LiteLLM's {Name} list"));
        }
        var modes = Embeddings ? new[] { LlmMode.Chat, LlmMode.Embeddings } : new[] { LlmMode.Chat };
        // The modes beyond chat and embeddings (completion, rerank, moderation) come from one table (Modes/ModeSupport).
        return Modes.ModeSupport.Apply(new ProviderSpec
        {
            Name = Name,
            DisplayName = DisplayName,
            Aliases = Aliases,
            DefaultApiBase = DefaultApiBase,
            ApiBaseEnv = ApiBaseEnv,
            ApiKeyEnv = ApiKeyEnv,
            Auth = Auth,
            StreamFormat = StreamFormat.Sse,
            Modes = modes.ToFrozenSet(),
            ChatParams = ProviderSpec.Table(rules.ToArray()),
            EmbeddingParams = Embeddings ? ProviderSpec.Table(OpenAISpec.EmbeddingParams.Select(ParamRule.Native).ToArray()) : FrozenDictionary<string, ParamRule>.Empty,
            ForwardsUnknownFields = true,
            NativeResponses = NativeResponses,
            Notes = Notes,
        });
    }
}
