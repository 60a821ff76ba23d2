namespace LLMux.Governance.Entities;

/// <summary>
/// A named budget (LiteLLM's <c>LiteLLM_BudgetTable</c> row) that end users and keys link to by <c>budget_id</c>: its
/// limits apply to each linked entity on its own (every customer on a budget has the budget's max, not a share of it).
/// The spend is each entity's, never the budget row's.
/// </summary>
public sealed record BudgetRow
{
    public required string BudgetId { get; init; }
    public decimal? MaxBudget { get; init; }
    public decimal? SoftBudget { get; init; }
    public long? MaxParallelRequests { get; init; }
    public long? TpmLimit { get; init; }
    public long? RpmLimit { get; init; }
    /// <summary>Per-model budgets, the key column's shape (LiteLLM accepts <c>max_budget</c>/<c>budget_duration</c> in the entries too).</summary>
    public IReadOnlyDictionary<string, Budgets.ModelBudget> ModelMaxBudget { get; init; } = Budgets.ModelBudget.None;
    public string? BudgetDuration { get; init; }
    public DateTimeOffset? BudgetResetAt { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public required string CreatedBy { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public required string UpdatedBy { get; init; }
}
