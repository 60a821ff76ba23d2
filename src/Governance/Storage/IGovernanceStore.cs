using LLMux.Governance.Entities;

namespace LLMux.Governance.Storage;

/// <summary>
/// Where keys, teams, users and spend live. The default is an embedded SQLite file (<see cref="Sqlite.SqliteGovernanceStore"/>);
/// a host may bring its own. Every write is one transaction: a call either happens whole or not at all.
/// </summary>
public interface IGovernanceStore
{
    /// <summary>Applies pending schema migrations (versioned, idempotent, safe with several processes starting at once).</summary>
    ValueTask MigrateAsync(CancellationToken cancellationToken = default);

    ValueTask<VirtualKey?> FindKeyAsync(string token, CancellationToken cancellationToken = default);
    ValueTask<VirtualKey?> FindKeyByAliasAsync(string alias, CancellationToken cancellationToken = default);
    /// <summary>False when the token or the alias is taken.</summary>
    ValueTask<bool> InsertKeyAsync(VirtualKey key, CancellationToken cancellationToken = default);
    /// <summary>Replaces the row whose token is <paramref name="token"/> (a regenerated key has a new token); false when it is gone.</summary>
    ValueTask<bool> ReplaceKeyAsync(string token, VirtualKey key, CancellationToken cancellationToken = default);
    /// <summary>
    /// <c>/key/regenerate</c> in one transaction: replaces the row as <see cref="ReplaceKeyAsync"/> does; with
    /// <paramref name="graceUntil"/> the old hash keeps authenticating as the new key until then (a
    /// <see cref="DeprecatedKey"/>), else it is refused at once. Earlier keys still in their grace that pointed at the
    /// old one now point at the new one (their end unchanged); grace rows that ended before <paramref name="now"/> are
    /// dropped. False when the old row is gone or the new token or alias is taken.
    /// </summary>
    ValueTask<bool> RegenerateKeyAsync(string token, VirtualKey key, DateTimeOffset? graceUntil, DateTimeOffset now, CancellationToken cancellationToken = default);
    /// <summary>The grace row of an old key hash, if its grace has not ended at <paramref name="now"/>.</summary>
    ValueTask<DeprecatedKey?> FindDeprecatedKeyAsync(string token, DateTimeOffset now, CancellationToken cancellationToken = default);
    /// <summary>Ends the grace of every old key that authenticates as <paramref name="activeToken"/> (the key was blocked).</summary>
    ValueTask EndGraceAsync(string activeToken, CancellationToken cancellationToken = default);
    /// <summary>Deletes the rows, all or none: returns null (and deletes nothing) when any token is unknown. Old keys in their grace that authenticate as a deleted key are refused from then on.</summary>
    ValueTask<IReadOnlyList<string>?> DeleteKeysAsync(IReadOnlyList<string> tokens, CancellationToken cancellationToken = default);
    ValueTask<(IReadOnlyList<VirtualKey> Keys, int Total)> ListKeysAsync(KeyQuery query, CancellationToken cancellationToken = default);

    ValueTask<Team?> FindTeamAsync(string teamId, CancellationToken cancellationToken = default);
    ValueTask<bool> InsertTeamAsync(Team team, CancellationToken cancellationToken = default);
    ValueTask<bool> ReplaceTeamAsync(Team team, CancellationToken cancellationToken = default);
    /// <summary>All or none, as <see cref="DeleteKeysAsync"/>; the teams' keys stay but lose their team.</summary>
    ValueTask<IReadOnlyList<string>?> DeleteTeamsAsync(IReadOnlyList<string> teamIds, CancellationToken cancellationToken = default);
    ValueTask<IReadOnlyList<Team>> ListTeamsAsync(string? userId, CancellationToken cancellationToken = default);

    ValueTask<InternalUser?> FindUserAsync(string userId, CancellationToken cancellationToken = default);
    ValueTask<bool> InsertUserAsync(InternalUser user, CancellationToken cancellationToken = default);
    ValueTask<bool> ReplaceUserAsync(InternalUser user, CancellationToken cancellationToken = default);
    ValueTask<IReadOnlyList<string>?> DeleteUsersAsync(IReadOnlyList<string> userIds, CancellationToken cancellationToken = default);
    ValueTask<IReadOnlyList<InternalUser>> ListUsersAsync(CancellationToken cancellationToken = default);

    ValueTask<Customer?> FindCustomerAsync(string userId, CancellationToken cancellationToken = default);
    ValueTask<bool> InsertCustomerAsync(Customer customer, CancellationToken cancellationToken = default);
    ValueTask<bool> ReplaceCustomerAsync(Customer customer, CancellationToken cancellationToken = default);
    ValueTask<IReadOnlyList<string>?> DeleteCustomersAsync(IReadOnlyList<string> userIds, CancellationToken cancellationToken = default);
    ValueTask<IReadOnlyList<Customer>> ListCustomersAsync(CancellationToken cancellationToken = default);

    ValueTask<BudgetRow?> FindBudgetAsync(string budgetId, CancellationToken cancellationToken = default);
    /// <summary>False when the id is taken.</summary>
    ValueTask<bool> InsertBudgetAsync(BudgetRow budget, CancellationToken cancellationToken = default);
    ValueTask<bool> ReplaceBudgetAsync(BudgetRow budget, CancellationToken cancellationToken = default);
    ValueTask<IReadOnlyList<BudgetRow>> ListBudgetsAsync(CancellationToken cancellationToken = default);
    /// <summary>Deletes the budget unless an end user or a key still links to it (then nothing changes).</summary>
    ValueTask<BudgetDeletion> DeleteBudgetAsync(string budgetId, CancellationToken cancellationToken = default);

    /// <summary>Writes spend rows and adds their spend to each key, team, user and end user (created at its first spend), in one transaction (idempotent per request id).</summary>
    ValueTask WriteSpendAsync(IReadOnlyList<SpendRow> rows, CancellationToken cancellationToken = default);
    /// <summary>Sets an entity's spend to 0 and its next reset time, if its reset time is still <paramref name="dueAt"/> (so a reset happens once).</summary>
    ValueTask<bool> ResetBudgetAsync(BudgetScope scope, string id, DateTimeOffset dueAt, DateTimeOffset nextReset, CancellationToken cancellationToken = default);
    ValueTask<IReadOnlyList<SpendRow>> SpendLogsAsync(SpendQuery query, CancellationToken cancellationToken = default);
    /// <summary>A key's spend on one model group since <paramref name="since"/> (all time when null): the seed of a per-model budget (<c>model_max_budget</c>).</summary>
    ValueTask<decimal> KeyModelSpendAsync(string token, string model, DateTimeOffset? since, CancellationToken cancellationToken = default);
    /// <summary>As <see cref="KeyModelSpendAsync"/> for the rows of a team (<see cref="BudgetScope.Team"/>) or a user (<see cref="BudgetScope.User"/>).</summary>
    ValueTask<decimal> ModelSpendAsync(BudgetScope owner, string id, string model, DateTimeOffset? since, CancellationToken cancellationToken = default);
    /// <summary>Spend summed per UTC day, group (team, end user or key), model and key, for <c>/global/spend/report</c>.</summary>
    ValueTask<IReadOnlyList<SpendReportRow>> SpendReportAsync(SpendReportQuery query, CancellationToken cancellationToken = default);

    /// <summary>A gateway-wide setting (table <c>llmux_settings</c>), or null when it was never set.</summary>
    ValueTask<string?> FindSettingAsync(string name, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{GetType().Name} keeps no gateway settings");
    /// <summary>
    /// Sets <paramref name="name"/> to <paramref name="value"/> if it still holds <paramref name="expected"/> (null: never
    /// set): a compare-and-swap, so two replicas changing one setting at once cannot both win. False when another
    /// writer came first (read it again and retry).
    /// </summary>
    ValueTask<bool> SwapSettingAsync(string name, string? expected, string value, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{GetType().Name} keeps no gateway settings");
}

/// <summary>What <c>/global/spend/report</c> groups by (<c>group_by</c>).</summary>
public enum SpendGroup { Team, Customer, ApiKey }

/// <summary>Filters of <c>/global/spend/report</c>: <paramref name="Start"/> inclusive, <paramref name="End"/> exclusive.</summary>
public sealed record SpendReportQuery(DateTimeOffset Start, DateTimeOffset End, SpendGroup GroupBy, string? ApiKey = null, string? UserId = null, string? TeamId = null, string? CustomerId = null);

/// <summary>One (day, group, model, key) sum. <see cref="Day"/> is <c>YYYY-MM-DD</c> (UTC); <see cref="Group"/> is the team's alias (else its id), the end user or the key hash.</summary>
public sealed record SpendReportRow(string Day, string? Group, string? Model, string ApiKey, decimal Spend, long PromptTokens, long CompletionTokens);

/// <summary>What <see cref="IGovernanceStore.DeleteBudgetAsync"/> did.</summary>
public enum BudgetDeletion { Deleted, NotFound, InUse }

/// <summary>
/// Whose budget: <see cref="KeyModel"/>, <see cref="TeamModel"/>, <see cref="UserModel"/> and <see cref="CustomerModel"/>
/// are a key's, team's, user's or end user's budget on one model (<c>model_max_budget</c>), kept in the spend logs only.
/// </summary>
public enum BudgetScope { Key, Team, User, Customer, KeyModel, TeamModel, UserModel, CustomerModel }

/// <summary>Filters of <c>GET /key/list</c>.</summary>
public sealed record KeyQuery(int Page = 1, int Size = 10, string? UserId = null, string? TeamId = null, string? KeyAlias = null, string? KeyHash = null);

/// <summary>Filters of <c>GET /spend/logs</c>.</summary>
public sealed record SpendQuery(string? ApiKey = null, string? UserId = null, string? TeamId = null, string? RequestId = null, DateTimeOffset? Start = null, DateTimeOffset? End = null, int Limit = 1000);

/// <summary>
/// A key or end user was written with a <c>budget_id</c> whose budget row does not exist (deleted while the change was
/// made): nothing was written. Stores check the link in the write itself, so a budget can never be deleted from under
/// an entity that links to it, nor an entity link to a deleted one.
/// </summary>
public sealed class MissingBudgetException(string? budgetId)
    : Exception($"budget_id `{budgetId}` does not exist (it may have been deleted while this change was made); nothing was changed")
{
    public string? BudgetId { get; } = budgetId;
}
