using LLMux.Pipeline.Context;

namespace LLMux.Governance;

/// <summary>Settings of the governance layer (from <c>general_settings</c>).</summary>
public sealed record GovernanceOptions
{
    /// <summary><c>general_settings.master_key</c>: the admin credential. Governance needs one (as LiteLLM's virtual keys do).</summary>
    public required Secret MasterKey { get; init; }
    /// <summary>How long a key lookup is reused without asking the store (<c>general_settings.user_api_key_cache_ttl</c>).</summary>
    public TimeSpan KeyCacheTtl { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Where spend rows go while the store is away and the writer's queue is full (null: the caller writes its own row).</summary>
    public string? SpillDirectory { get; init; }
    /// <summary>
    /// <c>general_settings.disable_spend_logs</c>: no <c>LiteLLM_SpendLogs</c> row per call. Key, team, user and customer
    /// spend (and so their budgets) still add up; <c>/spend/logs</c>, the spend reports and per-model budgets after a
    /// restart (<c>model_max_budget</c>, summed from the log) then have nothing to read.
    /// </summary>
    public bool DisableSpendLogs { get; init; }
    /// <summary>
    /// The <c>grace_period</c> of a <c>/key/regenerate</c> that names none (LiteLLM's
    /// <c>LITELLM_KEY_ROTATION_GRACE_PERIOD</c>, a duration such as <c>24h</c>); null: the old key is refused at once.
    /// </summary>
    public string? DefaultGracePeriod { get; init; }
    /// <summary>
    /// <c>litellm_settings.max_end_user_budget_id</c>: the budget table row whose limits apply to every end user that
    /// links to no budget of its own (LiteLLM's default end-user budget). Null: such end users have no limits.
    /// </summary>
    public string? MaxEndUserBudgetId { get; init; }
}
