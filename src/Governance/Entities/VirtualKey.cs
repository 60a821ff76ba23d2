namespace LLMux.Governance.Entities;

/// <summary>
/// A virtual key (LiteLLM's <c>LiteLLM_VerificationToken</c> row). <see cref="Token"/> is the SHA-256 hex of the raw
/// <c>sk-</c> key; the raw key is shown once, at generation, and never stored.
/// </summary>
public sealed record VirtualKey
{
    public required string Token { get; init; }
    /// <summary><c>sk-...abcd</c>: the last four characters, enough to recognise a key in lists.</summary>
    public required string KeyName { get; init; }
    public string? KeyAlias { get; init; }
    /// <summary>Model names the key may call; empty means every model.</summary>
    public IReadOnlyList<string> Models { get; init; } = [];
    public decimal Spend { get; init; }
    public decimal? MaxBudget { get; init; }
    public decimal? SoftBudget { get; init; }
    public string? BudgetDuration { get; init; }
    public DateTimeOffset? BudgetResetAt { get; init; }
    public long? RpmLimit { get; init; }
    public long? TpmLimit { get; init; }
    public long? MaxParallelRequests { get; init; }
    public DateTimeOffset? Expires { get; init; }
    public string? TeamId { get; init; }
    public string? UserId { get; init; }
    /// <summary>JSON object.</summary>
    public string Metadata { get; init { field = value; DynamicLimits = Limits.KeyLimitTypes.UnitsOf(value, Limits.KeyLimitTypes.Dynamic); } } = "{}";
    /// <summary>
    /// Which of <see cref="RpmLimit"/> and <see cref="TpmLimit"/> hold only while the called model is failing
    /// (<c>rpm_limit_type</c> / <c>tpm_limit_type</c> <c>dynamic</c> in <see cref="Metadata"/>, LiteLLM's place for them).
    /// </summary>
    public Limits.LimitUnits DynamicLimits { get; private init; }
    /// <summary>Model aliases (<c>aliases</c>): a name the caller sends → the model it stands for.</summary>
    public IReadOnlyDictionary<string, string> Aliases { get; init; } = Auth.ModelAliases.None;
    public IReadOnlyList<string> AllowedRoutes { get; init; } = [];
    /// <summary>The response-cache controls this key may set (LiteLLM's <c>allowed_cache_controls</c>); empty allows every one.</summary>
    public IReadOnlyList<string> AllowedCacheControls { get; init; } = [];
    /// <summary>Per-model budgets (<c>model_max_budget</c>): model name → most the key may spend on it per window.</summary>
    public IReadOnlyDictionary<string, Budgets.ModelBudget> ModelMaxBudget { get; init; } = Budgets.ModelBudget.None;
    /// <summary>A <see cref="BudgetRow"/> that fills the limits this key leaves null (LiteLLM's rule).</summary>
    public string? BudgetId { get; init; }
    /// <summary>Requests per minute per model for this key (<c>model_rpm_limit</c>): model name → limit.</summary>
    public IReadOnlyDictionary<string, long> ModelRpmLimit { get; init; } = Limits.ModelLimits.None;
    /// <summary>Tokens per minute per model for this key (<c>model_tpm_limit</c>).</summary>
    public IReadOnlyDictionary<string, long> ModelTpmLimit { get; init; } = Limits.ModelLimits.None;
    public bool Blocked { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public string? CreatedBy { get; init; }
    public string? UpdatedBy { get; init; }
}
