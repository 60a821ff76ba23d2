using LLMux.Governance.Entities;
using LLMux.Governance.Limits;

namespace LLMux.Governance.Budgets;

/// <summary>
/// What a budget table row gives the entities that link to it (LiteLLM's rules): a key keeps its own values and takes
/// the budget's where it has none; an end user's limits are its budget's (its own columns, written before budgets
/// existed, are the fallback).
/// </summary>
public static class LinkedBudgets
{
    /// <summary>The key with every limit it leaves null taken from <paramref name="budget"/> (a missing row changes nothing).</summary>
    public static VirtualKey Fill(VirtualKey key, BudgetRow? budget) => budget is null ? key : key with
    {
        MaxBudget = key.MaxBudget ?? budget.MaxBudget,
        SoftBudget = key.SoftBudget ?? budget.SoftBudget,
        RpmLimit = key.RpmLimit ?? budget.RpmLimit,
        TpmLimit = key.TpmLimit ?? budget.TpmLimit,
        MaxParallelRequests = key.MaxParallelRequests ?? budget.MaxParallelRequests,
        BudgetDuration = key.BudgetDuration ?? budget.BudgetDuration,
        // A key that counts windows of the budget's duration starts its first one from the budget's reset time.
        BudgetResetAt = key.BudgetDuration is null && key.BudgetResetAt is null ? budget.BudgetResetAt : key.BudgetResetAt,
        ModelMaxBudget = key.ModelMaxBudget.Count == 0 ? budget.ModelMaxBudget : key.ModelMaxBudget,
    };

    /// <summary>
    /// An end user's budget as a call sees it. Each end user counts its own spend and windows; an end user with no
    /// reset time of its own (one never seen, under <c>max_end_user_budget_id</c>) starts from the budget's.
    /// </summary>
    public static Customer Apply(Customer customer, BudgetRow? budget) => budget is null ? customer : customer with
    {
        MaxBudget = budget.MaxBudget ?? customer.MaxBudget,
        BudgetDuration = budget.BudgetDuration ?? customer.BudgetDuration,
        BudgetResetAt = customer.BudgetResetAt ?? budget.BudgetResetAt,
    };

    /// <summary>The end user's rpm/tpm/max_parallel_requests (LiteLLM v3's <c>end_user</c> descriptor): its budget's.</summary>
    public static RateLimits LimitsOf(BudgetRow? budget) => budget is null ? default : new(budget.RpmLimit, budget.TpmLimit, budget.MaxParallelRequests);
}
