using LLMux.Governance.Auth;
using LLMux.Governance.Budgets;
using LLMux.Governance.Entities;
using LLMux.Governance.Limits;
using LLMux.Governance.Storage;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;

namespace LLMux.Governance;

/// <summary>
/// Runs once per call, after validation and before routing: the key's and team's <c>models</c>, budgets (spend ≥
/// max_budget refuses, LiteLLM's rule) and rate limits, all before any upstream call. After the answer (or at the end
/// of the stream) it prices the call into the live ledger, queues the spend row and gives the parallel slot back;
/// a failed or cancelled call gives its slot back at once.
/// </summary>
public sealed class GovernanceStage(GovernanceService governance) : ILlmStage
{
    private static readonly Action<LlmContext, object?> SettleStream = static (ctx, s) => _ = ((Settlement)s!).Settle(ctx);

    public ValueTask InvokeAsync(LlmContext context, StageDelegate next)
    {
        var caller = context.Caller;
        if (caller is null || caller.KeyHash.Length == 0) return next(context);
        // The checks before the admission complete synchronously in the common case (key cached): no state machine is
        // boxed for them. The admission itself (a Redis round trip when the replicas share limits) is awaited by the one
        // frame that also waits for the upstream, which keeps only what settling needs.
        var prepared = AdmitAsync(context, caller);
        if (!prepared.IsCompletedSuccessfully) return PreparedThenRunAsync(prepared, context, next);
        var (settlement, admission) = prepared.Result;
        if (!admission.IsCompletedSuccessfully) return AdmittedThenRunAsync(settlement, admission, context, next);
        try
        {
            settlement.Admitted(admission.Result);
        }
        catch (LlmException refused)
        {
            return ValueTask.FromException(refused);
        }
        return RunAsync(context, next, settlement);
    }

    private static async ValueTask PreparedThenRunAsync(ValueTask<(Settlement, ValueTask<(RateLease?, LlmError?)>)> prepared, LlmContext context, StageDelegate next)
    {
        var (settlement, admission) = await prepared.ConfigureAwait(false);
        await AdmittedThenRunAsync(settlement, admission, context, next).ConfigureAwait(false);
    }

    private static async ValueTask AdmittedThenRunAsync(Settlement settlement, ValueTask<(RateLease?, LlmError?)> admission, LlmContext context, StageDelegate next)
    {
        settlement.Admitted(await admission.ConfigureAwait(false));
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch
        {
            settlement.Lease.Finish(0);
            throw;
        }
        if (Finish(context, settlement) is { } shared) await shared.ConfigureAwait(false);
    }

    private static async ValueTask RunAsync(LlmContext context, StageDelegate next, Settlement settlement)
    {
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch
        {
            // A failed call used no tokens: its reservation goes back with its slot.
            settlement.Lease.Finish(0);
            throw;
        }
        if (Finish(context, settlement) is { } shared) await shared.ConfigureAwait(false);
    }

    /// <summary>
    /// Every check before the admission (throws the refusal), then the admission under the budgets and limits, started
    /// but not awaited. The settlement settles the call once it is done.
    /// </summary>
    private async ValueTask<(Settlement, ValueTask<(RateLease?, LlmError?)>)> AdmitAsync(LlmContext context, Caller caller)
    {
        var started = governance.Time.GetUtcNow();
        var (endUser, customer, endUserBudget) = await CheckCustomerAsync(context).ConfigureAwait(false);
        if (caller.IsAdmin)
        {
            if (customer?.DefaultModel is { } anyFallback && context.AllowedModelRegion is not null) context.RegionDefaultModel = anyFallback;
            var endUserBudgets = Budgets(null, customer, endUser, endUserSoft: endUserBudget?.SoftBudget);
            if (await governance.CheckBudgetsAsync(endUserBudgets).ConfigureAwait(false) is { } endUserOver) throw endUserOver.ToException();
            return (new Settlement(governance, caller, endUser, endUserBudgets, started), new((RateLease.None, null)));
        }

        var grant = await governance.GrantAsync(caller.KeyHash).ConfigureAwait(false) ?? throw GovernanceErrors.UnknownKey(caller.KeyAlias ?? "sk-...").ToException();
        CheckModel(context, grant);
        // The end user's default_model stands in when the region leaves the model no deployment: only one the key may call.
        if (customer?.DefaultModel is { } fallback && context.AllowedModelRegion is not null && Denies(grant, fallback, null) is null) context.RegionDefaultModel = fallback;
        // Per-model budgets of the key, its team and its user (model_max_budget), in the last slots.
        var keyModel = ModelBudgetOf(context, grant.Key.ModelMaxBudget);
        var teamModel = grant.Team is { } owner ? ModelBudgetOf(context, owner.ModelMaxBudget) : null;
        var userModel = grant.User is { } person ? ModelBudgetOf(context, person.ModelMaxBudget) : null;
        var endUserModel = endUserBudget is { } eb && customer is not null ? ModelBudgetOf(context, eb.ModelMaxBudget) : null;
        var budgets = Budgets(grant, customer, endUser, (keyModel is null ? 0 : 1) + (teamModel is null ? 0 : 1) + (userModel is null ? 0 : 1) + (endUserModel is null ? 0 : 1), endUserBudget?.SoftBudget);
        var slot = budgets.Length;
        // Windows step from the budget's creation: an end user never created has no row (nor creation time) of its own.
        if (endUserModel is { } em) budgets[--slot] = await governance.ModelBudgetAsync(BudgetScope.CustomerModel, customer!.UserId, endUserBudget!.CreatedAt, em.Key, em.Value, SeedName(em.Key, grant)).ConfigureAwait(false);
        if (userModel is { } um) budgets[--slot] = await governance.ModelBudgetAsync(BudgetScope.UserModel, grant.User!.UserId, grant.User.CreatedAt, um.Key, um.Value, SeedName(um.Key, grant)).ConfigureAwait(false);
        if (teamModel is { } tm) budgets[--slot] = await governance.ModelBudgetAsync(BudgetScope.TeamModel, grant.Team!.TeamId, grant.Team.CreatedAt, tm.Key, tm.Value, SeedName(tm.Key, grant)).ConfigureAwait(false);
        if (keyModel is { } km) budgets[--slot] = await governance.ModelBudgetAsync(grant.Key, km.Key, km.Value, SeedName(km.Key, grant)).ConfigureAwait(false);
        var extra = CallDescriptors.Of(grant.Key, context.RequestedAlias, context.RequestedModel, endUser, endUserBudget, grant.Team);
        var admission = governance.AdmitWithinBudgetsAsync(budgets, grant.Key.Token, Limits(grant.Key, context), grant.Team?.TeamId, Limits(grant.Team), EstimateInputTokens(context), extra);
        return (new Settlement(governance, caller, endUser, budgets, started), admission);
    }

    /// <summary>Settles an answer (a stream: when it ends); a task when its spend must reach the shared counters before the answer goes out.</summary>
    private static Task? Finish(LlmContext context, Settlement settlement)
    {
        if (context.IsStream && context.Stream is not null)
        {
            // Headers go out before the stream's usage is known: they count its input estimate.
            settlement.WriteHeaders(context.ResponseHeaders);
            context.OnCompleted(SettleStream, settlement);
            return null;
        }
        var shared = settlement.Settle(context);
        settlement.WriteHeaders(context.ResponseHeaders);
        return shared;
    }

    /// <summary>
    /// A cheap, realistic estimate of the input: about four bytes of JSON per token. Output is not guessed (no
    /// worst case from max_tokens); the real usage replaces the estimate when the answer is done.
    /// </summary>
    internal static long EstimateInputTokens(LlmContext context) => context.Body.Length / 4;

    /// <summary>
    /// The key's own limits for this call. Its <c>dynamic</c> rpm or tpm limit (LiteLLM's <c>rpm_limit_type</c>) holds
    /// only while the model it calls is failing; its max_parallel_requests always holds.
    /// </summary>
    private RateLimits Limits(VirtualKey k, LlmContext context)
    {
        var off = k.DynamicLimits;
        // The model the call goes to (an alias the key maps is resolved by now): its deployments' failures decide.
        if (off != LimitUnits.None && (k.RpmLimit ?? k.TpmLimit) is not null
            && (context.RequestedModel ?? context.RequestedAlias) is { } model && governance.ModelFailing is { } failing && failing(model))
            off = LimitUnits.None;
        return new((off & LimitUnits.Rpm) != 0 ? null : k.RpmLimit, (off & LimitUnits.Tpm) != 0 ? null : k.TpmLimit, k.MaxParallelRequests);
    }
    private static RateLimits Limits(Team? t) => t is null ? default : new(t.RpmLimit, t.TpmLimit, t.MaxParallelRequests);

    /// <summary>
    /// LiteLLM's access rule with aliases: the call passes a <c>models</c> list when it names the model the client sent
    /// or the model its alias stands for; a name that is one of the team's own <c>model_aliases</c> passes both lists
    /// (the team's admin gave it).
    /// </summary>
    private static void CheckModel(LlmContext context, KeyGrant grant)
    {
        if (context.RequestedModel is not { } model) return;
        if (Denies(grant, model, context.RequestedAlias) is { } scope)
            throw GovernanceErrors.ModelDenied(scope, context.RequestedAlias ?? model, scope == "key" ? grant.Key.Models : grant.Team!.Models).ToException();
    }

    /// <summary>Which list refuses the call (<c>key</c> or <c>team</c>), or null when both let it through.</summary>
    internal static string? Denies(KeyGrant grant, string model, string? alias)
    {
        if (alias is not null && grant.Team is { } owner && owner.ModelAliases.TryGetValue(alias, out var teamTarget) && string.Equals(teamTarget, model, StringComparison.Ordinal)) return null;
        if (!Allows(grant.Key.Models, model) && (alias is null || !Allows(grant.Key.Models, alias))) return "key";
        if (grant.Team is { } team && !Allows(team.Models, model) && (alias is null || !Allows(team.Models, alias))) return "team";
        return null;
    }

    /// <summary>
    /// The entry of a key's, team's or user's <c>model_max_budget</c> for this call: by the name the client sent (an alias), by the model it
    /// resolved to (the model group), then by the upstream model of the group's deployments (<c>openai/gpt-4o</c> or
    /// <c>gpt-4o</c>), so that a budget on the upstream name holds whichever public name reaches it.
    /// </summary>
    private KeyValuePair<string, ModelBudget>? ModelBudgetOf(LlmContext context, IReadOnlyDictionary<string, ModelBudget> budgets)
    {
        if (budgets.Count == 0 || context.RequestedModel is not { } model) return null;
        if (context.RequestedAlias is { } alias && ModelBudget.For(budgets, alias) is { } byAlias) return byAlias;
        if (ModelBudget.For(budgets, model) is { } byGroup) return byGroup;
        if (governance.DeploymentsOf?.Invoke(model) is not { } deployments) return null;
        foreach (var d in deployments)
        {
            var served = LLMux.Stages.RouteStage.Resolve(d, model);
            if (ModelBudget.For(budgets, served.Model) is { } byUpstream) return byUpstream;
            if (ModelBudget.For(budgets, served.UpstreamModel) is { } byBare) return byBare;
        }
        return null;
    }

    /// <summary>The model name the spend logs record for a budget's calls: an alias's calls are logged under the model it names.</summary>
    private static string SeedName(string budgetName, KeyGrant grant) =>
        grant.ModelAliases is { } aliases && aliases.TryGetValue(budgetName, out var target) ? target : budgetName;

    /// <summary>Empty or <c>*</c> allows all; <c>provider/*</c> allows that prefix (LiteLLM's wildcard access).</summary>
    internal static bool Allows(IReadOnlyList<string> models, string model)
    {
        if (models.Count == 0) return true;
        foreach (var m in models)
        {
            // all-team-models on a key: whatever its team allows (the team is checked next).
            if (m is "*" or "all-proxy-models" or "all-team-models" || string.Equals(m, model, StringComparison.Ordinal)) return true;
            if (m.EndsWith("/*", StringComparison.Ordinal) && model.StartsWith(m.AsSpan(0, m.Length - 1), StringComparison.Ordinal)) return true;
        }
        return false;
    }

    /// <summary>The request's end user (<c>user</c>): blocked refuses the call whatever key is used (its budget is checked with the others).</summary>
    private async ValueTask<(string? Id, Customer? Customer, BudgetRow? Budget)> CheckCustomerAsync(LlmContext context)
    {
        var id = context.Chat?.User ?? context.Embedding?.User;
        if (string.IsNullOrEmpty(id)) return (null, null, null);
        var c = await governance.CustomerOfAsync(id).ConfigureAwait(false);
        if (c is { Blocked: true }) throw GovernanceErrors.CustomerBlocked(id).ToException();
        if (c?.AllowedModelRegion is { } region) context.AllowedModelRegion = region;
        // Its budget_id (else litellm_settings.max_end_user_budget_id) gives its limits.
        if (c?.BudgetId is null && governance.Options.MaxEndUserBudgetId is null) return (id, c, null);
        var (linked, budget) = await governance.EndUserAsync(id, c).ConfigureAwait(false);
        return (id, linked, budget);
    }

    /// <summary>Every budget that applies to the call, in LiteLLM's check order: key, team, user, end user.</summary>
    private static GovernanceService.Budget[] Budgets(KeyGrant? grant, Customer? customer, string? endUser, int perModel = 0, decimal? endUserSoft = null)
    {
        // Sized exactly (one array per call, no list); per-model budgets, when there are some, go in the last slots.
        // A key's own budgets (key, team, user) are the same for every call while its grant is cached: made once per load.
        var own = grant is not null && customer is null && endUser is null && perModel == 0;
        if (own && grant!.OwnBudgets is { } made) return made;
        var n = (grant is null ? 0 : 1 + (grant.Team is null ? 0 : 1) + (grant.User is null ? 0 : 1)) + (customer is not null || endUser is not null ? 1 : 0) + perModel;
        if (n == 0) return [];
        var list = new GovernanceService.Budget[n];
        var i = 0;
        if (grant is not null)
        {
            var k = grant.Key;
            list[i++] = new(BudgetScope.Key, k.Token, k.Spend, k.MaxBudget, k.BudgetDuration, k.BudgetResetAt, "key", k.KeyAlias ?? k.KeyName, k.SoftBudget);
            if (grant.Team is { } t) list[i++] = new(BudgetScope.Team, t.TeamId, t.Spend, t.MaxBudget, t.BudgetDuration, t.BudgetResetAt, "team", t.TeamId, t.SoftBudget);
            if (grant.User is { } u) list[i++] = new(BudgetScope.User, u.UserId, u.Spend, u.MaxBudget, u.BudgetDuration, u.BudgetResetAt, "user", u.UserId);
        }
        if (customer is { } c) list[i] = new(BudgetScope.Customer, c.UserId, c.Spend, c.MaxBudget, c.BudgetDuration, c.BudgetResetAt, "customer", c.UserId, endUserSoft);
        else if (endUser is not null) list[i] = new(BudgetScope.Customer, endUser, 0, null, null, null, "customer", endUser);
        if (own) grant!.OwnBudgets = list;
        return list;
    }

    // Request ids: this process's random 32 bits, then a counter (no random bytes drawn per call).
    private static readonly uint ProcessTag = (uint)Random.Shared.Next() ^ ((uint)Environment.ProcessId << 16);
    private static long _sequence;

    /// <summary>
    /// <c>llmux-</c> + 32 hex digits: the time in ms (12), this process's tag (8) and a counter (12). Ordered by time,
    /// so the spend log's primary key grows at its end; unique across replicas by the tag, within one by the counter.
    /// </summary>
    internal static string NewRequestId() => string.Create(38, (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), Interlocked.Increment(ref _sequence)), static (span, id) =>
    {
        "llmux-".CopyTo(span);
        ((ulong)id.Item1 & 0xFFFF_FFFF_FFFF).TryFormat(span.Slice(6, 12), out _, "x12");
        ProcessTag.TryFormat(span.Slice(18, 8), out _, "x8");
        ((ulong)id.Item2 & 0xFFFF_FFFF_FFFF).TryFormat(span.Slice(26, 12), out _, "x12");
    });

    /// <summary>What one admitted call owes once its usage is known.</summary>
    private sealed class Settlement(GovernanceService governance, Caller caller, string? endUser, GovernanceService.Budget[] budgets, DateTimeOffset started)
    {
        private RateLease lease = RateLease.None;
        public RateLease Lease => lease;
        private int _settled;

        /// <summary>The admission's answer: the call's lease, or its refusal thrown.</summary>
        public void Admitted((RateLease? Lease, LlmError? Refusal) answer) => lease = answer.Lease ?? throw answer.Refusal!.ToException();

        public void WriteHeaders(List<KeyValuePair<string, string>> headers) => lease.WriteHeaders(headers);

        public Task? Settle(LlmContext context)
        {
            if (Interlocked.Exchange(ref _settled, 1) != 0) return null;
            var usage = context.Usage;
            var tokens = usage is null ? 0 : usage.PromptTokens + usage.CompletionTokens;
            var cost = context.Cost ?? (usage is not null ? context.PriceOf(usage) : null) ?? 0m;
            // The lease finishes with the spend: with Redis, one round trip after the call.
            var shared = governance.Settle(budgets, cost, lease, tokens);
            var d = context.Deployment;
            var logged = !governance.Options.DisableSpendLogs;
            governance.Writer.Enqueue(new SpendRow
            {
                // A row that is only added up (disable_spend_logs) is never stored or looked up by its id.
                RequestId = logged ? NewRequestId() : "",
                CallType = SpendCallTypes.Of(context),
                ApiKey = caller.KeyHash,
                Spend = cost,
                PromptTokens = usage?.PromptTokens ?? 0,
                CompletionTokens = usage?.CompletionTokens ?? 0,
                StartTime = started,
                EndTime = governance.Time.GetUtcNow(),
                Model = d?.UpstreamModel,
                ModelGroup = context.ModelGroup ?? context.RequestedModel,
                Provider = d?.ProviderName,
                TeamId = caller.TeamId,
                UserId = caller.UserId,
                EndUser = endUser,
                KeyAlias = caller.KeyAlias,
                CacheHit = context.CacheHit,
                Logged = logged,
            });
            return shared;
        }
    }
}
