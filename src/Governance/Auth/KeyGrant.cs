using LLMux.Pipeline.Context;
using LLMux.Governance.Entities;

namespace LLMux.Governance.Auth;

/// <summary>A key with its team and user as last read from the store: what an authenticated call may do.</summary>
public sealed record KeyGrant(VirtualKey Key, Team? Team, InternalUser? User, long LoadedAt)
{
    /// <summary>The key's aliases over its team's, merged once per load (null when there are none).</summary>
    public IReadOnlyDictionary<string, string>? ModelAliases { get; } = Auth.ModelAliases.Merge(Key.Aliases, Team?.ModelAliases);

    /// <summary>The caller this grant authenticates as (made once per load: every field comes from the grant).</summary>
    internal Caller Caller => field ??= new Caller { KeyHash = Key.Token, KeyAlias = Key.KeyAlias, TeamId = Key.TeamId, UserId = Key.UserId, AllowedCacheControls = Key.AllowedCacheControls, ModelAliases = ModelAliases };

    /// <summary>The key's, team's and user's budgets of a call with no end user and no per-model budget (never mutated; set by the stage).</summary>
    internal GovernanceService.Budget[]? OwnBudgets { get; set; }
}
