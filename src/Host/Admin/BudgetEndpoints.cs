using System.Globalization;
using System.Text.Json;
using LLMux.Governance.Budgets;
using LLMux.Governance.Entities;
using LLMux.Governance.Storage;

namespace LLMux.Host.Admin;

/// <summary>
/// LiteLLM's budget table (<c>/budget/*</c>): named limits that end users and keys link to by <c>budget_id</c>. A
/// change evicts every cached end user and key grant, so the new limits hold on the next call on every replica.
/// </summary>
internal sealed partial class AdminEndpoints
{
    private void MapBudgets(WebApplication app)
    {
        Post(app, "/budget/new", NewBudgetAsync);
        Post(app, "/budget/update", UpdateBudgetAsync);
        Post(app, "/budget/info", BudgetInfoAsync);
        Get(app, "/budget/list", ListBudgetsAsync);
        Post(app, "/budget/delete", DeleteBudgetAsync);
        Get(app, "/budget/settings", BudgetSettingsAsync);
    }

    private async Task NewBudgetAsync(HttpContext http, AdminBody b)
    {
        var id = b.String("budget_id");
        if (id is { Length: 0 }) b.Problems.Add("`budget_id` must not be empty");
        var c = BudgetFields(b);
        b.RejectUnknown();
        if (await InvalidAsync(http, b)) return;
        var now = Now;
        var by = ChangedBy(http) ?? "default_user_id";
        var budget = c.Apply(new BudgetRow { BudgetId = id ?? Guid.NewGuid().ToString(), CreatedAt = now, UpdatedAt = now, CreatedBy = by, UpdatedBy = by }, now);
        if (!await Store.InsertBudgetAsync(budget)) { await BadRequestAsync(http, $"budget `{budget.BudgetId}` already exists", "budget_id"); return; }
        await JsonAsync(http, w => AdminJson.Budget(w, budget));
    }

    private async Task UpdateBudgetAsync(HttpContext http, AdminBody b)
    {
        var id = b.String("budget_id", required: true);
        var c = BudgetFields(b);
        b.RejectUnknown();
        if (await InvalidAsync(http, b)) return;
        if (await FindBudgetOr404Async(http, id!) is not { } old) return;
        var now = Now;
        var budget = c.Apply(old, now) with { UpdatedAt = now, UpdatedBy = ChangedBy(http) ?? "default_user_id" };
        if (!await Store.ReplaceBudgetAsync(budget)) { await NotFoundAsync(http, $"Budget id={id} does not exist in db"); return; }
        governance.EvictBudget(budget.BudgetId);
        await JsonAsync(http, w => AdminJson.Budget(w, budget));
    }

    private async Task BudgetInfoAsync(HttpContext http, AdminBody b)
    {
        var ids = b.Strings("budgets");
        if (ids is null) b.Problems.Add("`budgets` is required (a list of budget ids)");
        else if (ids.Count == 0) b.Problems.Add("`budgets` must name at least one budget id");
        b.RejectUnknown();
        if (await InvalidAsync(http, b)) return;
        var found = new List<BudgetRow>(ids!.Count);
        var missing = new List<string>();
        foreach (var id in ids.Distinct(StringComparer.Ordinal))
        {
            if (await Store.FindBudgetAsync(id) is { } row) found.Add(row);
            else missing.Add(id);
        }
        if (missing.Count > 0) { await NotFoundAsync(http, $"Budget id(s) not found in db: {string.Join(", ", missing)}"); return; }
        await JsonAsync(http, w =>
        {
            w.WriteStartArray();
            foreach (var row in found) AdminJson.Budget(w, row);
            w.WriteEndArray();
        });
    }

    private async Task ListBudgetsAsync(HttpContext http, AdminBody _)
    {
        var all = await Store.ListBudgetsAsync();
        await JsonAsync(http, w =>
        {
            w.WriteStartArray();
            foreach (var row in all) AdminJson.Budget(w, row);
            w.WriteEndArray();
        });
    }

    private async Task DeleteBudgetAsync(HttpContext http, AdminBody b)
    {
        var id = b.String("id", required: true);
        b.RejectUnknown();
        if (await InvalidAsync(http, b)) return;
        var old = await Store.FindBudgetAsync(id!);
        switch (await Store.DeleteBudgetAsync(id!))
        {
            case BudgetDeletion.NotFound:
                await NotFoundAsync(http, $"Budget id={id} does not exist in db");
                return;
            case BudgetDeletion.InUse:
                // LiteLLM's foreign key refuses it too (as a 500); unlinking silently would lift end users' limits.
                await BadRequestAsync(http, $"budget `{id}` is still linked to end users or keys; move them to another budget (or set their budget_id to null) first. Nothing was deleted", "id");
                return;
        }
        governance.EvictBudget(id!);
        await JsonAsync(http, w => AdminJson.Budget(w, old!));
    }

    private async Task BudgetSettingsAsync(HttpContext http, AdminBody _)
    {
        var id = http.Request.Query["budget_id"].ToString();
        if (id.Length == 0) { await BadRequestAsync(http, "give ?budget_id=", "budget_id"); return; }
        if (await FindBudgetOr404Async(http, id) is not { } row) return;
        await JsonAsync(http, w => AdminJson.BudgetSettings(w, row));
    }

    private async Task<BudgetRow?> FindBudgetOr404Async(HttpContext http, string id)
    {
        var row = await Store.FindBudgetAsync(id);
        if (row is null) await NotFoundAsync(http, $"Budget id={id} does not exist in db");
        return row;
    }

    /// <summary>The fields a budget row takes (LiteLLM's <c>BudgetNewRequest</c>), read and checked; absent fields keep their value, null clears.</summary>
    private static BudgetChanges BudgetFields(AdminBody b) => new(b)
    {
        MaxBudget = b.Money("max_budget"),
        SoftBudget = b.Money("soft_budget"),
        MaxParallelRequests = b.Count("max_parallel_requests"),
        TpmLimit = b.Count("tpm_limit"),
        RpmLimit = b.Count("rpm_limit"),
        BudgetDuration = b.Duration("budget_duration"),
        ModelMaxBudget = ModelBudgets(b),
        BudgetResetAt = Instant(b, "budget_reset_at"),
    };

    /// <summary>An ISO 8601 date-time field (UTC when it names no offset).</summary>
    private static DateTimeOffset? Instant(AdminBody b, string name)
    {
        var s = b.String(name);
        if (s is null) return null;
        if (DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)) return t;
        b.Problems.Add($"`{name}` must be an ISO 8601 date-time like 2026-01-31T00:00:00Z");
        return null;
    }

    /// <summary>The budget fields of one body: used by <c>/budget/*</c> and by the inline budget of <c>/customer/*</c>.</summary>
    private sealed class BudgetChanges(AdminBody b)
    {
        public decimal? MaxBudget, SoftBudget;
        public long? MaxParallelRequests, TpmLimit, RpmLimit;
        public string? BudgetDuration;
        public IReadOnlyDictionary<string, ModelBudget>? ModelMaxBudget;
        public DateTimeOffset? BudgetResetAt;

        public static readonly string[] Names = ["max_budget", "soft_budget", "max_parallel_requests", "tpm_limit", "rpm_limit", "budget_duration", "model_max_budget", "budget_reset_at"];

        /// <summary>Whether the body sets any budget field (null included).</summary>
        public bool Any => Names.Any(b.Has);

        public BudgetRow Apply(BudgetRow r, DateTimeOffset now)
        {
            var durationChanged = b.Has("budget_duration") && BudgetDuration != r.BudgetDuration;
            r = r with
            {
                MaxBudget = b.IsNull("max_budget") ? null : MaxBudget ?? r.MaxBudget,
                SoftBudget = b.IsNull("soft_budget") ? null : SoftBudget ?? r.SoftBudget,
                MaxParallelRequests = b.IsNull("max_parallel_requests") ? null : MaxParallelRequests ?? r.MaxParallelRequests,
                TpmLimit = b.IsNull("tpm_limit") ? null : TpmLimit ?? r.TpmLimit,
                RpmLimit = b.IsNull("rpm_limit") ? null : RpmLimit ?? r.RpmLimit,
                BudgetDuration = b.IsNull("budget_duration") ? null : BudgetDuration ?? r.BudgetDuration,
                ModelMaxBudget = ModelMaxBudget ?? r.ModelMaxBudget,
                BudgetResetAt = b.IsNull("budget_reset_at") ? null : BudgetResetAt ?? r.BudgetResetAt,
            };
            // LiteLLM: with a duration and no reset time given, the first window ends one duration from now.
            if (BudgetResetAt is null && durationChanged && Governance.Budgets.BudgetDuration.TryParse(r.BudgetDuration, out var d)) r = r with { BudgetResetAt = d.After(now) };
            else if (r.BudgetDuration is null && BudgetResetAt is null) r = r with { BudgetResetAt = null };
            return r;
        }
    }
}
