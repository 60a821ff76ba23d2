using LLMux.Governance.Auth;
using LLMux.Governance.Entities;
using LLMux.Governance.Limits;
using LLMux.Governance.Storage;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;

namespace LLMux.Governance;

/// <summary>
/// Runs once per call, after validation and before routing: the key's and team's <c>models</c>, budgets (spend ≥
/// max_budget refuses, LiteLLM's rule) and rate limits, all before any upstream call. After the answer (or at the end
/// of the stream) it prices the call into the live ledger, queues the spend row and gives the parallel slot back;
/// a failed or cancelled call gives its slot back at once.
/// </summary>
public sealed class GovernanceStage(GovernanceService governance) : ILlmStage
{
    private static readonly Action<LlmContext, object?> SettleStream = static (ctx, s) => ((Settlement)s!).Settle(ctx);

    public async ValueTask InvokeAsync(LlmContext context, StageDelegate next)
    {
        var caller = context.Caller;
        if (caller is null || caller.KeyHash.Length == 0)
        {
            await next(context).ConfigureAwait(false);
            return;
        }
        var started = governance.Time.GetUtcNow();
        var endUser = CheckCustomer(context);
        if (caller.IsAdmin)
        {
            await next(context).ConfigureAwait(false);
            Finish(context, new Settlement(governance, caller, null, endUser, RateLease.None, started));
            return;
        }

        var grant = governance.Grant(caller.KeyHash) ?? throw GovernanceErrors.UnknownKey(caller.KeyAlias ?? "sk-...").ToException();
        CheckModel(context, grant);
        CheckBudgets(grant);
        var lease = governance.Limiter.TryAdmit(grant.Key.Token, Limits(grant.Key), grant.Team?.TeamId, Limits(grant.Team), EstimateInputTokens(context), out var refusal);
        if (lease is null)
        {
            throw refusal!.ToException();
        }
        var settlement = new Settlement(governance, caller, grant, endUser, lease, started);
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch
        {
            // A failed call used no tokens: its reservation goes back with its slot.
            governance.Limiter.Settle(lease, 0);
            lease.Release();
            throw;
        }
        Finish(context, settlement);
    }

    private static void Finish(LlmContext context, Settlement settlement)
    {
        if (context.IsStream && context.Stream is not null)
        {
            // Headers go out before the stream's usage is known: they count its input estimate.
            settlement.WriteHeaders(context.ResponseHeaders);
            context.OnCompleted(SettleStream, settlement);
            return;
        }
        settlement.Settle(context);
        settlement.WriteHeaders(context.ResponseHeaders);
    }

    /// <summary>
    /// A cheap, realistic estimate of the input: about four bytes of JSON per token. Output is not guessed (no
    /// worst case from max_tokens); the real usage replaces the estimate when the answer is done.
    /// </summary>
    internal static long EstimateInputTokens(LlmContext context) => context.Body.Length / 4;

    private static RateLimits Limits(VirtualKey k) => new(k.RpmLimit, k.TpmLimit, k.MaxParallelRequests);
    private static RateLimits Limits(Team? t) => t is null ? default : new(t.RpmLimit, t.TpmLimit, t.MaxParallelRequests);

    private static void CheckModel(LlmContext context, KeyGrant grant)
    {
        var model = context.RequestedModel;
        if (model is null) return;
        if (!Allows(grant.Key.Models, model)) throw GovernanceErrors.ModelDenied("key", model, grant.Key.Models).ToException();
        if (grant.Team is { } team && !Allows(team.Models, model)) throw GovernanceErrors.ModelDenied("team", model, team.Models).ToException();
    }

    /// <summary>Empty or <c>*</c> allows all; <c>provider/*</c> allows that prefix (LiteLLM's wildcard access).</summary>
    internal static bool Allows(IReadOnlyList<string> models, string model)
    {
        if (models.Count == 0) return true;
        foreach (var m in models)
        {
            if (m == "*" || m == "all-proxy-models" || string.Equals(m, model, StringComparison.Ordinal)) return true;
            if (m.EndsWith("/*", StringComparison.Ordinal) && model.StartsWith(m.AsSpan(0, m.Length - 1), StringComparison.Ordinal)) return true;
        }
        return false;
    }

    /// <summary>The request's end user (<c>user</c>): blocked, or over its budget, refuses the call whatever key is used.</summary>
    private string? CheckCustomer(LlmContext context)
    {
        var id = context.Chat?.User ?? context.Embedding?.User;
        if (string.IsNullOrEmpty(id)) return null;
        if (governance.CustomerOf(id) is not { } c) return id;
        if (c.Blocked) throw GovernanceErrors.CustomerBlocked(id).ToException();
        Check(BudgetScope.Customer, c.UserId, c.Spend, c.MaxBudget, c.BudgetDuration, c.BudgetResetAt, "customer", c.UserId);
        return id;
    }

    private void CheckBudgets(KeyGrant grant)
    {
        var k = grant.Key;
        Check(BudgetScope.Key, k.Token, k.Spend, k.MaxBudget, k.BudgetDuration, k.BudgetResetAt, "key", null);
        if (grant.Team is { } t) Check(BudgetScope.Team, t.TeamId, t.Spend, t.MaxBudget, t.BudgetDuration, t.BudgetResetAt, "team", t.TeamId);
        if (grant.User is { } u) Check(BudgetScope.User, u.UserId, u.Spend, u.MaxBudget, u.BudgetDuration, u.BudgetResetAt, "user", u.UserId);
    }

    private void Check(BudgetScope scope, string id, decimal storedSpend, decimal? max, string? duration, DateTimeOffset? resetAt, string name, string? shownId)
    {
        var spend = governance.Ledger.Current(scope, id, storedSpend, duration, resetAt, out var reset);
        if (reset is { } r) governance.Writer.EnqueueReset(scope, id, r.Due, r.Next);
        if (max is { } m && spend >= m) throw GovernanceErrors.BudgetExceeded(name, shownId, spend, m).ToException();
    }

    /// <summary>What one admitted call owes once its usage is known.</summary>
    private sealed class Settlement(GovernanceService governance, Caller caller, KeyGrant? grant, string? endUser, RateLease lease, DateTimeOffset started)
    {
        private int _settled;

        public void WriteHeaders(List<KeyValuePair<string, string>> headers)
        {
            RateLimiter.WriteHeaders(lease.Key, lease.KeyLimits, headers);
            RateLimiter.WriteHeaders(lease.Team, lease.TeamLimits, headers);
        }

        public void Settle(LlmContext context)
        {
            if (Interlocked.Exchange(ref _settled, 1) != 0) return;
            lease.Release();
            var usage = context.Usage;
            var tokens = usage is null ? 0 : usage.PromptTokens + usage.CompletionTokens;
            governance.Limiter.Settle(lease, tokens);
            var cost = context.Cost ?? (usage is not null ? context.PriceOf(usage) : null) ?? 0m;
            if (grant is not null)
            {
                governance.Ledger.Add(BudgetScope.Key, grant.Key.Token, cost);
                governance.Ledger.Add(BudgetScope.Team, grant.Key.TeamId, cost);
                governance.Ledger.Add(BudgetScope.User, grant.Key.UserId, cost);
            }
            governance.Ledger.Add(BudgetScope.Customer, endUser, cost);
            var d = context.Deployment;
            governance.Writer.Enqueue(new SpendRow
            {
                RequestId = "llmux-" + Guid.CreateVersion7().ToString("N"),
                CallType = context.Mode == LlmMode.Embeddings ? "aembedding" : "acompletion",
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
            });
        }
    }
}
