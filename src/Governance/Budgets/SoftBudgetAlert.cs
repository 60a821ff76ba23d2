using LLMux.Governance.Storage;

namespace LLMux.Governance.Budgets;

/// <summary>An entity's spend reached its <c>soft_budget</c>: <paramref name="Name"/> is its alias or id (a key is named by alias or <c>sk-...abcd</c>, never its hash).</summary>
public sealed record SoftBudgetAlert(BudgetScope Scope, string Name, decimal Spend, decimal SoftBudget, decimal? MaxBudget);
