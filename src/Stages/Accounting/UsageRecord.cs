namespace LLMux.Stages.Accounting;

/// <summary>One finished call, as the usage sink hands it to stores.</summary>
public sealed record UsageRecord(
    DateTimeOffset At,
    string ModelGroup,
    string DeploymentId,
    string Provider,
    string UpstreamModel,
    long PromptTokens,
    long CompletionTokens,
    long CachedTokens,
    long ReasoningTokens,
    decimal? Cost,
    bool Stream,
    int Attempts,
    string? ErrorKind);
