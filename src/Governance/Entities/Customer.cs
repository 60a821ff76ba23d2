namespace LLMux.Governance.Entities;

/// <summary>An end user (LiteLLM's <c>LiteLLM_EndUserTable</c>), named by the request's <c>user</c> field.</summary>
public sealed record Customer
{
    public required string UserId { get; init; }
    public string? Alias { get; init; }
    public decimal Spend { get; init; }
    public decimal? MaxBudget { get; init; }
    public string? BudgetDuration { get; init; }
    public DateTimeOffset? BudgetResetAt { get; init; }
    public bool Blocked { get; init; }
    public string? AllowedModelRegion { get; init; }
    public string? DefaultModel { get; init; }
    /// <summary>The <see cref="BudgetRow"/> whose limits apply to this end user (LiteLLM keeps an end user's limits there only).</summary>
    public string? BudgetId { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}
