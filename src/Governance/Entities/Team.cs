namespace LLMux.Governance.Entities;

/// <summary>A team (LiteLLM's <c>LiteLLM_TeamTable</c>): shared models, budget and limits for its keys.</summary>
public sealed record Team
{
    public required string TeamId { get; init; }
    public string? TeamAlias { get; init; }
    public IReadOnlyList<string> Models { get; init; } = [];
    public decimal Spend { get; init; }
    public decimal? MaxBudget { get; init; }
    public decimal? SoftBudget { get; init; }
    public string? BudgetDuration { get; init; }
    public DateTimeOffset? BudgetResetAt { get; init; }
    public long? RpmLimit { get; init; }
    public long? TpmLimit { get; init; }
    public long? MaxParallelRequests { get; init; }
    public string Metadata { get; init; } = "{}";
    /// <summary>Model aliases for the team's keys (<c>model_aliases</c>); a key's own <c>aliases</c> win a name both define.</summary>
    public IReadOnlyDictionary<string, string> ModelAliases { get; init; } = Auth.ModelAliases.None;
    /// <summary>Per-model budgets of the team (<c>model_max_budget</c>): what all its keys together may spend on a model per window.</summary>
    public IReadOnlyDictionary<string, Budgets.ModelBudget> ModelMaxBudget { get; init; } = Budgets.ModelBudget.None;
    /// <summary>
    /// Requests per minute per model for the whole team (<c>model_rpm_limit</c>, LiteLLM's <c>model_per_team</c>
    /// descriptor): all the team's keys together on that model.
    /// </summary>
    public IReadOnlyDictionary<string, long> ModelRpmLimit { get; init; } = Limits.ModelLimits.None;
    /// <summary>Tokens per minute per model for the whole team (<c>model_tpm_limit</c>).</summary>
    public IReadOnlyDictionary<string, long> ModelTpmLimit { get; init; } = Limits.ModelLimits.None;
    public IReadOnlyList<TeamMember> Members { get; init; } = [];
    public bool Blocked { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>One entry of a team's <c>members_with_roles</c>.</summary>
public sealed record TeamMember(string Role, string? UserId, string? UserEmail);
