namespace LLMux.Governance.Limits;

/// <summary>
/// A rate-limit descriptor beyond the key and its team (LiteLLM v3's names): <c>end_user</c> (the request's end user,
/// limits from its budget) or <c>model_per_key</c> (<c>hash:model</c>, a key's <c>model_rpm_limit</c> /
/// <c>model_tpm_limit</c>) or <c>model_per_team</c> (<c>team_id:model</c>, a team's). Counted with the key and team in the same admission: all have room, or none counts.
/// </summary>
public readonly record struct RateDescriptor(string Name, string Value, RateLimits Limits)
{
    public const string EndUser = "end_user";
    public const string ModelPerKey = "model_per_key";
    public const string ModelPerTeam = "model_per_team";
}
