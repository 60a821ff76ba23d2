using LLMux.Governance.Entities;

namespace LLMux.Governance.Auth;

/// <summary>A key with its team and user as last read from the store: what an authenticated call may do.</summary>
public sealed record KeyGrant(VirtualKey Key, Team? Team, InternalUser? User, long LoadedAt);
