namespace LLMux.Governance.Entities;

/// <summary>An internal user (LiteLLM's <c>LiteLLM_UserTable</c>).</summary>
public sealed record InternalUser
{
    public required string UserId { get; init; }
    public string? UserEmail { get; init; }
    public string? UserAlias { get; init; }
    /// <summary><c>proxy_admin</c>, <c>proxy_admin_viewer</c>, <c>internal_user</c> (default) or <c>internal_user_viewer</c>.</summary>
    public string UserRole { get; init; } = "internal_user";
    public IReadOnlyList<string> Teams { get; init; } = [];
    public IReadOnlyList<string> Models { get; init; } = [];
    public decimal Spend { get; init; }
    public decimal? MaxBudget { get; init; }
    public string? BudgetDuration { get; init; }
    public DateTimeOffset? BudgetResetAt { get; init; }
    public long? RpmLimit { get; init; }
    public long? TpmLimit { get; init; }
    public string Metadata { get; init; } = "{}";
    /// <summary>Per-model budgets of the user (<c>model_max_budget</c>): what all the user's keys together may spend on a model per window.</summary>
    public IReadOnlyDictionary<string, Budgets.ModelBudget> ModelMaxBudget { get; init; } = Budgets.ModelBudget.None;
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}
