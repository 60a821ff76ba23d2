using LLMux.Governance.Entities;

namespace LLMux.Governance.Auth;

/// <summary>A key with its team and user as last read from the store: what an authenticated call may do.</summary>
public sealed record KeyGrant(VirtualKey Key, Team? Team, InternalUser? User, long LoadedAt)
{
    /// <summary>The key's aliases over its team's, merged once per load (null when there are none).</summary>
    public IReadOnlyDictionary<string, string>? ModelAliases { get; } = Auth.ModelAliases.Merge(Key.Aliases, Team?.ModelAliases);
}
