using LLMux.Governance.Budgets;
using LLMux.Governance.Entities;

namespace LLMux.Governance.Limits;

/// <summary>The descriptors of one call beyond its key and team: its end user's (from the end user's budget) and its key's limits on the called model.</summary>
public static class CallDescriptors
{
    /// <summary>
    /// Null when none applies (the common case: no array). The descriptors are LiteLLM v3's: <c>end_user</c>,
    /// <c>model_per_key</c> (<c>hash:model</c>) and <c>model_per_team</c> (<c>team_id:model</c>: all the team's keys
    /// on that model), each matched by the name the client sent, then by the model group.
    /// </summary>
    public static RateDescriptor[]? Of(VirtualKey key, string? alias, string? model, string? endUser, BudgetRow? endUserBudget, Team? team = null)
    {
        var endUserLimits = endUser is null ? default : LinkedBudgets.LimitsOf(endUserBudget);
        var perModel = key.ModelRpmLimit.Count == 0 && key.ModelTpmLimit.Count == 0 && key.ModelMaxBudget.Count == 0 ? null
            : alias is not null && HasLimit(key, alias) ? alias
            : model is not null && HasLimit(key, model) ? model
            : null;
        var perTeam = team is null || (team.ModelRpmLimit.Count == 0 && team.ModelTpmLimit.Count == 0) ? null
            : ModelLimits.NameFor(team.ModelRpmLimit, team.ModelTpmLimit, alias, model);
        var count = (endUserLimits.Any ? 1 : 0) + (perModel is null ? 0 : 1) + (perTeam is null ? 0 : 1);
        if (count == 0) return null;
        var list = new RateDescriptor[count];
        var i = 0;
        if (endUserLimits.Any) list[i++] = new(RateDescriptor.EndUser, endUser!, endUserLimits);
        if (perModel is not null) list[i++] = new(RateDescriptor.ModelPerKey, key.Token + ":" + perModel, new RateLimits(Rpm(key, perModel), Tpm(key, perModel), null));
        if (perTeam is not null) list[i] = new(RateDescriptor.ModelPerTeam, team!.TeamId + ":" + perTeam, new RateLimits(ModelLimits.Of(team.ModelRpmLimit, perTeam), ModelLimits.Of(team.ModelTpmLimit, perTeam), null));
        return list;
    }

    /// <summary>
    /// The key's requests per minute on <paramref name="model"/>: its <c>model_rpm_limit</c> when that names any model,
    /// else the <c>rpm_limit</c> of its <c>model_max_budget</c> entry (LiteLLM's order; tokens alike).
    /// </summary>
    public static long? Rpm(VirtualKey key, string model) =>
        key.ModelRpmLimit.Count > 0 ? ModelLimits.Of(key.ModelRpmLimit, model)
        : key.ModelMaxBudget.TryGetValue(model, out var b) ? b.RpmLimit : null;

    public static long? Tpm(VirtualKey key, string model) =>
        key.ModelTpmLimit.Count > 0 ? ModelLimits.Of(key.ModelTpmLimit, model)
        : key.ModelMaxBudget.TryGetValue(model, out var b) ? b.TpmLimit : null;

    private static bool HasLimit(VirtualKey key, string model) => Rpm(key, model) is not null || Tpm(key, model) is not null;
}
