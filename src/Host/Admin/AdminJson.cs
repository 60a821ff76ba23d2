using System.Globalization;
using System.Text.Json;
using LLMux.Governance.Entities;
using LLMux.Governance.Storage;

namespace LLMux.Host.Admin;

/// <summary>The admin API's answers, with LiteLLM's field names.</summary>
internal static class AdminJson
{
    public static void KeyFields(Utf8JsonWriter w, VirtualKey k)
    {
        w.WriteString("token", k.Token);
        w.WriteString("key_name", k.KeyName);
        Str(w, "key_alias", k.KeyAlias);
        w.WriteNumber("spend", k.Spend);
        Num(w, "max_budget", k.MaxBudget);
        Num(w, "soft_budget", k.SoftBudget);
        Str(w, "budget_duration", k.BudgetDuration);
        Time(w, "budget_reset_at", k.BudgetResetAt);
        Num(w, "rpm_limit", k.RpmLimit);
        Num(w, "tpm_limit", k.TpmLimit);
        Num(w, "max_parallel_requests", k.MaxParallelRequests);
        Time(w, "expires", k.Expires);
        List(w, "models", k.Models);
        w.WritePropertyName("aliases");
        LLMux.Governance.Auth.ModelAliases.Write(w, k.Aliases);
        Raw(w, "metadata", k.Metadata);
        List(w, "allowed_routes", k.AllowedRoutes);
        List(w, "allowed_cache_controls", k.AllowedCacheControls);
        w.WritePropertyName("model_max_budget");
        LLMux.Governance.Budgets.ModelBudget.Write(w, k.ModelMaxBudget);
        Str(w, "team_id", k.TeamId);
        Str(w, "user_id", k.UserId);
        w.WriteBoolean("blocked", k.Blocked);
        Time(w, "created_at", k.CreatedAt);
        Time(w, "updated_at", k.UpdatedAt);
        Str(w, "created_by", k.CreatedBy);
        Str(w, "updated_by", k.UpdatedBy);
        Str(w, "budget_id", k.BudgetId);
        w.WritePropertyName("model_rpm_limit");
        LLMux.Governance.Limits.ModelLimits.Write(w, k.ModelRpmLimit);
        w.WritePropertyName("model_tpm_limit");
        LLMux.Governance.Limits.ModelLimits.Write(w, k.ModelTpmLimit);
    }

    public static void Team(Utf8JsonWriter w, Team t)
    {
        w.WriteStartObject();
        TeamFields(w, t);
        w.WriteEndObject();
    }

    public static void TeamFields(Utf8JsonWriter w, Team t)
    {
        w.WriteString("team_id", t.TeamId);
        Str(w, "team_alias", t.TeamAlias);
        w.WriteNumber("spend", t.Spend);
        Num(w, "max_budget", t.MaxBudget);
        Num(w, "soft_budget", t.SoftBudget);
        Str(w, "budget_duration", t.BudgetDuration);
        Time(w, "budget_reset_at", t.BudgetResetAt);
        Num(w, "rpm_limit", t.RpmLimit);
        Num(w, "tpm_limit", t.TpmLimit);
        Num(w, "max_parallel_requests", t.MaxParallelRequests);
        List(w, "models", t.Models);
        w.WritePropertyName("model_aliases");
        LLMux.Governance.Auth.ModelAliases.Write(w, t.ModelAliases);
        w.WritePropertyName("model_max_budget");
        LLMux.Governance.Budgets.ModelBudget.Write(w, t.ModelMaxBudget);
        w.WritePropertyName("model_rpm_limit");
        LLMux.Governance.Limits.ModelLimits.Write(w, t.ModelRpmLimit);
        w.WritePropertyName("model_tpm_limit");
        LLMux.Governance.Limits.ModelLimits.Write(w, t.ModelTpmLimit);
        Raw(w, "metadata", t.Metadata);
        w.WritePropertyName("members_with_roles");
        LLMux.Governance.Storage.TeamMembersJson.Write(w, t.Members);
        w.WriteBoolean("blocked", t.Blocked);
        Time(w, "created_at", t.CreatedAt);
        Time(w, "updated_at", t.UpdatedAt);
    }

    public static void UserFields(Utf8JsonWriter w, InternalUser u)
    {
        w.WriteString("user_id", u.UserId);
        Str(w, "user_email", u.UserEmail);
        Str(w, "user_alias", u.UserAlias);
        w.WriteString("user_role", u.UserRole);
        List(w, "teams", u.Teams);
        List(w, "models", u.Models);
        w.WriteNumber("spend", u.Spend);
        Num(w, "max_budget", u.MaxBudget);
        Str(w, "budget_duration", u.BudgetDuration);
        Time(w, "budget_reset_at", u.BudgetResetAt);
        Num(w, "rpm_limit", u.RpmLimit);
        Num(w, "tpm_limit", u.TpmLimit);
        Raw(w, "metadata", u.Metadata);
        w.WritePropertyName("model_max_budget");
        LLMux.Governance.Budgets.ModelBudget.Write(w, u.ModelMaxBudget);
        Time(w, "created_at", u.CreatedAt);
        Time(w, "updated_at", u.UpdatedAt);
    }

    /// <summary>An end user with its <c>litellm_budget_table</c>: the linked budget row (else the columns of an end user written before budgets).</summary>
    public static void Customer(Utf8JsonWriter w, Customer c, BudgetRow? budget = null)
    {
        w.WriteStartObject();
        w.WriteString("user_id", c.UserId);
        Str(w, "alias", c.Alias);
        w.WriteNumber("spend", c.Spend);
        w.WriteBoolean("blocked", c.Blocked);
        Str(w, "allowed_model_region", c.AllowedModelRegion);
        Str(w, "default_model", c.DefaultModel);
        Str(w, "budget_id", c.BudgetId);
        Time(w, "budget_reset_at", c.BudgetResetAt);
        if (budget is not null)
        {
            w.WritePropertyName("litellm_budget_table");
            Budget(w, budget);
        }
        else if (c.MaxBudget is not null || c.BudgetDuration is not null)
        {
            w.WriteStartObject("litellm_budget_table");
            Num(w, "max_budget", c.MaxBudget);
            Str(w, "budget_duration", c.BudgetDuration);
            Time(w, "budget_reset_at", c.BudgetResetAt);
            w.WriteEndObject();
        }
        else w.WriteNull("litellm_budget_table");
        Time(w, "created_at", c.CreatedAt);
        Time(w, "updated_at", c.UpdatedAt);
        w.WriteEndObject();
    }

    /// <summary>A <c>LiteLLM_BudgetTable</c> row as LiteLLM answers it.</summary>
    public static void Budget(Utf8JsonWriter w, BudgetRow b)
    {
        w.WriteStartObject();
        w.WriteString("budget_id", b.BudgetId);
        BudgetFields(w, b);
        Time(w, "created_at", b.CreatedAt);
        w.WriteString("created_by", b.CreatedBy);
        Time(w, "updated_at", b.UpdatedAt);
        w.WriteString("updated_by", b.UpdatedBy);
        w.WriteEndObject();
    }

    private static void BudgetFields(Utf8JsonWriter w, BudgetRow b)
    {
        Num(w, "max_budget", b.MaxBudget);
        Num(w, "soft_budget", b.SoftBudget);
        Num(w, "max_parallel_requests", b.MaxParallelRequests);
        Num(w, "tpm_limit", b.TpmLimit);
        Num(w, "rpm_limit", b.RpmLimit);
        if (b.ModelMaxBudget.Count == 0) w.WriteNull("model_max_budget");
        else { w.WritePropertyName("model_max_budget"); LLMux.Governance.Budgets.ModelBudget.Write(w, b.ModelMaxBudget); }
        Str(w, "budget_duration", b.BudgetDuration);
        Time(w, "budget_reset_at", b.BudgetResetAt);
    }

    /// <summary><c>/budget/settings</c>: LiteLLM's <c>ConfigList</c> entries, one per field an admin may set.</summary>
    public static void BudgetSettings(Utf8JsonWriter w, BudgetRow b)
    {
        w.WriteStartArray();
        Setting(w, "max_budget", "Float", "Requests are refused once the spend reaches it.", x => Num(x, "field_value", b.MaxBudget));
        Setting(w, "soft_budget", "Float", "An alert when the spend crosses it; never refuses.", x => Num(x, "field_value", b.SoftBudget));
        Setting(w, "max_parallel_requests", "Integer", "Calls in flight at once.", x => Num(x, "field_value", b.MaxParallelRequests));
        Setting(w, "tpm_limit", "Integer", "Tokens per minute.", x => Num(x, "field_value", b.TpmLimit));
        Setting(w, "rpm_limit", "Integer", "Requests per minute.", x => Num(x, "field_value", b.RpmLimit));
        Setting(w, "budget_duration", "String", "How often the spend resets (30s, 1h, 1d, 1mo).", x => Str(x, "field_value", b.BudgetDuration));
        Setting(w, "model_max_budget", "Object", "Per-model budgets: {\"gpt-4o\": {\"max_budget\": 10, \"budget_duration\": \"1d\"}}.", x =>
        {
            if (b.ModelMaxBudget.Count == 0) x.WriteNull("field_value");
            else { x.WritePropertyName("field_value"); LLMux.Governance.Budgets.ModelBudget.Write(x, b.ModelMaxBudget); }
        });
        w.WriteEndArray();

        static void Setting(Utf8JsonWriter w, string name, string type, string description, Action<Utf8JsonWriter> value)
        {
            w.WriteStartObject();
            w.WriteString("field_name", name);
            w.WriteString("field_type", type);
            w.WriteString("field_description", description);
            value(w);
            w.WriteBoolean("stored_in_db", true);
            w.WriteNull("field_default_value");
            w.WriteEndObject();
        }
    }

    public static void SpendRow(Utf8JsonWriter w, SpendRow r)
    {
        w.WriteStartObject();
        w.WriteString("request_id", r.RequestId);
        w.WriteString("call_type", r.CallType);
        w.WriteString("api_key", r.ApiKey);
        w.WriteNumber("spend", r.Spend);
        w.WriteNumber("total_tokens", r.TotalTokens);
        w.WriteNumber("prompt_tokens", r.PromptTokens);
        w.WriteNumber("completion_tokens", r.CompletionTokens);
        Time(w, "startTime", r.StartTime);
        Time(w, "endTime", r.EndTime);
        Str(w, "model", r.Model);
        Str(w, "model_group", r.ModelGroup);
        Str(w, "custom_llm_provider", r.Provider);
        Str(w, "user", r.UserId);
        Str(w, "team_id", r.TeamId);
        Str(w, "end_user", r.EndUser);
        w.WriteStartObject("metadata");
        Str(w, "user_api_key", r.ApiKey);
        Str(w, "user_api_key_alias", r.KeyAlias);
        Str(w, "user_api_key_team_id", r.TeamId);
        Str(w, "user_api_key_user_id", r.UserId);
        w.WriteEndObject();
        w.WriteString("status", r.Status);
        // LiteLLM's text form, so dashboards filtering on cache_hit = "True" keep working.
        w.WriteString("cache_hit", r.CacheHit ? "True" : "False");
        w.WriteEndObject();
    }

    private static void Str(Utf8JsonWriter w, string name, string? v) { if (v is null) w.WriteNull(name); else w.WriteString(name, v); }
    private static void Num(Utf8JsonWriter w, string name, decimal? v) { if (v is { } d) w.WriteNumber(name, d); else w.WriteNull(name); }
    private static void Num(Utf8JsonWriter w, string name, long? v) { if (v is { } n) w.WriteNumber(name, n); else w.WriteNull(name); }
    private static void Time(Utf8JsonWriter w, string name, DateTimeOffset? t)
    {
        if (t is { } v) w.WriteString(name, v.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture));
        else w.WriteNull(name);
    }
    private static void List(Utf8JsonWriter w, string name, IReadOnlyList<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }
    private static void Raw(Utf8JsonWriter w, string name, string json)
    {
        w.WritePropertyName(name);
        w.WriteRawValue(json, skipInputValidation: false);
    }

    /// <summary><c>[{group_by_day, teams|customers: [{team_name|customer, total_spend, metadata: [{model, api_key, spend, total_tokens}]}]}]</c>, rows ordered by day and group.</summary>
    public static void SpendReportPerDay(Utf8JsonWriter w, IReadOnlyList<SpendReportRow> rows, string listName, string groupName)
    {
        var i = 0;
        while (i < rows.Count)
        {
            var day = rows[i].Day;
            w.WriteStartObject();
            w.WriteString("group_by_day", day + "T00:00:00+00:00");
            w.WriteStartArray(listName);
            while (i < rows.Count && rows[i].Day == day)
            {
                var group = rows[i].Group;
                var from = i;
                var total = 0m;
                while (i < rows.Count && rows[i].Day == day && rows[i].Group == group) total += rows[i++].Spend;
                w.WriteStartObject();
                w.WriteString(groupName, group);
                w.WriteNumber("total_spend", total);
                w.WriteStartArray("metadata");
                for (var j = from; j < i; j++)
                {
                    w.WriteStartObject();
                    w.WriteString("model", rows[j].Model);
                    w.WriteString("api_key", rows[j].ApiKey);
                    w.WriteNumber("spend", rows[j].Spend);
                    w.WriteNumber("total_tokens", rows[j].PromptTokens + rows[j].CompletionTokens);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
    }

    /// <summary><c>[{api_key, total_cost, total_input_tokens, total_output_tokens, model_details: [{model, total_cost, total_input_tokens, total_output_tokens}]}]</c>, most spent first.</summary>
    public static void SpendReportPerKey(Utf8JsonWriter w, IReadOnlyList<SpendReportRow> rows)
    {
        var perKey = new Dictionary<string, Dictionary<string, (decimal Cost, long In, long Out)>>(StringComparer.Ordinal);
        foreach (var r in rows)
        {
            if (!perKey.TryGetValue(r.ApiKey, out var models)) perKey[r.ApiKey] = models = new(StringComparer.Ordinal);
            var m = r.Model ?? "";
            var (c, i, o) = models.GetValueOrDefault(m);
            models[m] = (c + r.Spend, i + r.PromptTokens, o + r.CompletionTokens);
        }
        foreach (var (key, models) in perKey.OrderByDescending(static p => p.Value.Values.Sum(static v => v.Cost)))
        {
            w.WriteStartObject();
            w.WriteString("api_key", key);
            w.WriteNumber("total_cost", models.Values.Sum(static v => v.Cost));
            w.WriteNumber("total_input_tokens", models.Values.Sum(static v => v.In));
            w.WriteNumber("total_output_tokens", models.Values.Sum(static v => v.Out));
            w.WriteStartArray("model_details");
            foreach (var (model, v) in models)
            {
                w.WriteStartObject();
                w.WriteString("model", model.Length == 0 ? null : model);
                w.WriteNumber("total_cost", v.Cost);
                w.WriteNumber("total_input_tokens", v.In);
                w.WriteNumber("total_output_tokens", v.Out);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
    }
}
