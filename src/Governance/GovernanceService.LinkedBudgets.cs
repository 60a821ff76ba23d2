using System.Collections.Concurrent;
using LLMux.Governance.Budgets;
using LLMux.Governance.Entities;

namespace LLMux.Governance;

/// <summary>Budget table rows (<c>budget_id</c>) as calls see them: cached like keys, evicted on every replica when the admin changes one.</summary>
public sealed partial class GovernanceService
{
    private readonly ConcurrentDictionary<string, (BudgetRow? Row, long LoadedAt)> _budgetRows = new(StringComparer.Ordinal);

    /// <summary>The budget row, from the cache or the store; null when it does not exist (a dangling link limits nothing).</summary>
    public ValueTask<BudgetRow?> BudgetRowAsync(string budgetId, CancellationToken cancellationToken = default)
    {
        if (_budgetRows.TryGetValue(budgetId, out var c) && Time.GetElapsedTime(c.LoadedAt) < Options.KeyCacheTtl) return new(c.Row);
        return LoadBudgetRowAsync(budgetId, cancellationToken);
    }

    private async ValueTask<BudgetRow?> LoadBudgetRowAsync(string budgetId, CancellationToken cancellationToken)
    {
        BudgetRow? row;
        try
        {
            row = await Store.FindBudgetAsync(budgetId, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStoreOutage(ex) && _budgetRows.TryGetValue(budgetId, out var stale))
        {
            StoreOutages++;
            return stale.Row;
        }
        if (_budgetRows.Count > 10_000) _budgetRows.Clear();
        _budgetRows[budgetId] = (row, Time.GetTimestamp());
        return row;
    }

    /// <summary>The admin changed or deleted a budget: its row, and the keys that link to it, are read again on every replica.</summary>
    public void EvictBudget(string budgetId)
    {
        _budgetRows.TryRemove(budgetId, out _);
        Cache.EvictBudget(budgetId);
    }

    /// <summary>
    /// The request's end user with its budget applied (<see cref="LinkedBudgets.Apply"/>), and that budget: its own
    /// <c>budget_id</c>, else <c>litellm_settings.max_end_user_budget_id</c>. An end user the admin never created is
    /// limited by the default budget alone.
    /// </summary>
    public async ValueTask<(Customer? Customer, BudgetRow? Budget)> EndUserAsync(string userId, Customer? customer, CancellationToken cancellationToken = default)
    {
        var budgetId = customer?.BudgetId ?? Options.MaxEndUserBudgetId;
        if (budgetId is null) return (customer, null);
        var budget = await BudgetRowAsync(budgetId, cancellationToken).ConfigureAwait(false);
        if (budget is null) return (customer, null);
        var now = Time.GetUtcNow();
        return (LinkedBudgets.Apply(customer ?? new Customer { UserId = userId, CreatedAt = now, UpdatedAt = now }, budget), budget);
    }
}
