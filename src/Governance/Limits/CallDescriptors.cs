using LLMux.Governance.Budgets;
using LLMux.Governance.Entities;

namespace LLMux.Governance.Limits;

/// <summary>The descriptors of one call beyond its key and team: its end user's (from the end user's budget) and its key's limits on the called model.</summary>
public static class CallDescriptors
{
    /// <summary>Null when neither applies (the common case: no array).</summary>
    public static RateDescriptor[]? Of(VirtualKey key, string? alias, string? model, string? endUser, BudgetRow? endUserBudget)
    {
        var endUserLimits = endUser is null ? default : LinkedBudgets.LimitsOf(endUserBudget);
        var perModel = key.ModelRpmLimit.Count == 0 && key.ModelTpmLimit.Count == 0 ? null : ModelLimits.NameFor(key.ModelRpmLimit, key.ModelTpmLimit, alias, model);
        if (!endUserLimits.Any && perModel is null) return null;
        var list = new RateDescriptor[(endUserLimits.Any ? 1 : 0) + (perModel is null ? 0 : 1)];
        var i = 0;
        if (endUserLimits.Any) list[i++] = new(RateDescriptor.EndUser, endUser!, endUserLimits);
        if (perModel is not null)
        {
            var rpm = key.ModelRpmLimit.TryGetValue(perModel, out var r) ? r : (long?)null;
            var tpm = key.ModelTpmLimit.TryGetValue(perModel, out var t) ? t : (long?)null;
            list[i] = new(RateDescriptor.ModelPerKey, key.Token + ":" + perModel, new RateLimits(rpm, tpm, null));
        }
        return list;
    }
}
