namespace LLMux.Governance.Entities;

/// <summary>
/// A regenerated key's old hash during its grace period (LiteLLM's <c>LiteLLM_DeprecatedVerificationToken</c>): the
/// old key authenticates as <see cref="ActiveToken"/> (its limits, budgets and spend) until <see cref="RevokeAt"/>.
/// Hashes only: the raw old key is never stored.
/// </summary>
public sealed record DeprecatedKey(string Token, string ActiveToken, DateTimeOffset RevokeAt);
