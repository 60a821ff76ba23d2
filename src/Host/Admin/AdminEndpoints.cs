using System.Buffers;
using System.Text.Json;
using LLMux.Governance;
using LLMux.Governance.Auth;
using LLMux.Governance.Budgets;
using LLMux.Governance.Entities;
using LLMux.Governance.Keys;
using LLMux.Governance.Spend;
using LLMux.Governance.Storage;
using LLMux.Pipeline.Errors;

namespace LLMux.Host.Admin;

/// <summary>
/// LiteLLM's management API (paths, fields, answers) behind the master key: virtual keys, teams, users, spend logs.
/// A body is checked whole before anything is written (all problems in one 400); each change is one store
/// transaction and evicts what it touched from this replica's key cache at once. Keys in query strings
/// (<c>/key/info?key=</c>) are never logged: LLMux logs no request lines, and answers name keys by hash.
/// </summary>
internal sealed partial class AdminEndpoints(GovernanceService governance, RequestAuthenticator auth, ILogger logger)
{
    private IGovernanceStore Store => governance.Store;
    private DateTimeOffset Now => governance.Time.GetUtcNow();

    [LoggerMessage(Level = LogLevel.Warning, Message = "admin: {Route} failed in the store")]
    private static partial void LogStoreFailure(ILogger logger, string route, Exception ex);

    public void Map(WebApplication app)
    {
        Post(app, "/key/generate", GenerateKeyAsync);
        Post(app, "/key/update", UpdateKeyAsync);
        Post(app, "/key/delete", DeleteKeysAsync);
        Get(app, "/key/info", KeyInfoAsync);
        Get(app, "/key/list", ListKeysAsync);
        Post(app, "/key/block", (h, b) => BlockKeyAsync(h, b, true));
        Post(app, "/key/unblock", (h, b) => BlockKeyAsync(h, b, false));
        Post(app, "/key/regenerate", (h, b) => RegenerateKeyAsync(h, b, null));
        Post(app, "/key/{key}/regenerate", (h, b) => RegenerateKeyAsync(h, b, h.Request.RouteValues["key"] as string));
        Post(app, "/team/new", NewTeamAsync);
        Post(app, "/team/update", UpdateTeamAsync);
        Post(app, "/team/delete", DeleteTeamsAsync);
        Get(app, "/team/info", TeamInfoAsync);
        Get(app, "/team/list", ListTeamsAsync);
        Post(app, "/team/member_add", AddTeamMemberAsync);
        Post(app, "/team/block", (h, b) => BlockTeamAsync(h, b, true));
        Post(app, "/team/unblock", (h, b) => BlockTeamAsync(h, b, false));
        Post(app, "/user/new", NewUserAsync);
        Post(app, "/user/update", UpdateUserAsync);
        Post(app, "/user/delete", DeleteUsersAsync);
        Get(app, "/user/info", UserInfoAsync);
        foreach (var prefix in new[] { "/customer", "/end_user" })
        {
            Post(app, prefix + "/new", NewCustomerAsync);
            Post(app, prefix + "/update", UpdateCustomerAsync);
            Post(app, prefix + "/delete", DeleteCustomersAsync);
            Post(app, prefix + "/block", (h, b) => BlockCustomersAsync(h, b, true));
            Post(app, prefix + "/unblock", (h, b) => BlockCustomersAsync(h, b, false));
            Get(app, prefix + "/info", CustomerInfoAsync);
            Get(app, prefix + "/list", ListCustomersAsync);
        }
        MapBudgets(app);
        Get(app, "/spend/logs", SpendLogsAsync);
        Get(app, "/global/spend/report", SpendReportAsync);
    }

    private void Post(WebApplication app, string path, Func<HttpContext, AdminBody, Task> handler) =>
        app.Map(path, http => RunAsync(http, path, "POST", handler));

    private void Get(WebApplication app, string path, Func<HttpContext, AdminBody, Task> handler) =>
        app.Map(path, http => RunAsync(http, path, "GET", handler));

    private async Task RunAsync(HttpContext http, string path, string method, Func<HttpContext, AdminBody, Task> handler)
    {
        if (!string.Equals(http.Request.Method, method, StringComparison.OrdinalIgnoreCase))
        {
            http.Response.Headers.Allow = method;
            await ErrorAsync(http, new LlmError { Kind = ErrorKind.MethodNotAllowed, Message = $"{http.Request.Method} is not allowed on {path}; use {method}", Code = "method_not_allowed" });
            return;
        }
        if (!auth.Authorize(http.Request)) { await ErrorAsync(http, RequestAuthenticator.FailureOf(http)); return; }
        if (RequestAuthenticator.CallerOf(http) is not { IsAdmin: true }) { await ErrorAsync(http, GovernanceErrors.NotAdmin(path)); return; }
        using var body = method == "POST" ? await AdminBody.ReadAsync(http.Request, http.RequestAborted) : AdminBody.Empty();
        try
        {
            await handler(http, body);
        }
        catch (LLMux.Governance.Storage.MissingBudgetException ex) when (!http.Response.HasStarted)
        {
            // The budget was deleted between the route's check and its write: the store refused the write.
            await ErrorAsync(http, new LlmError { Kind = ErrorKind.InvalidRequest, Message = ex.Message, Param = "budget_id" });
        }
        catch (Microsoft.Data.Sqlite.SqliteException ex)
        {
            LogStoreFailure(logger, path, ex);
            await ErrorAsync(http, new LlmError { Kind = ErrorKind.Unavailable, Message = $"the governance database could not complete {path}; nothing was changed. Retry, or check general_settings.database_path", Code = "db_unavailable" });
        }
    }

    // ---- keys ----

    private async Task GenerateKeyAsync(HttpContext http, AdminBody b)
    {
        var custom = b.String("key");
        if (custom is not null && !custom.StartsWith(VirtualKeys.Prefix, StringComparison.Ordinal)) b.Problems.Add("`key` must start with `sk-`");
        var duration = b.Duration("duration");
        var fields = KeyFields(b, forUpdate: false);
        b.RejectUnknown();
        if (await InvalidAsync(http, b)) return;
        if (fields.TeamId is { } tid && await Store.FindTeamAsync(tid) is null) { await BadRequestAsync(http, $"team_id `{tid}` does not exist; create it with /team/new first", "team_id"); return; }
        if (await UnknownBudgetAsync(http, fields.BudgetId)) return;

        var raw = custom ?? VirtualKeys.Generate();
        var now = Now;
        var key = fields.Apply(new VirtualKey { Token = VirtualKeys.Hash(raw), KeyName = VirtualKeys.NameOf(raw), CreatedAt = now, UpdatedAt = now, CreatedBy = ChangedBy(http) }, now);
        if (duration is not null && BudgetDuration.TryParse(duration, out var d)) key = key with { Expires = d.After(now) };
        await using var allocation = await AllocationLockAsync(key, http.RequestAborted);
        if (await OverallocationAsync(key) is { } over) { await BadRequestAsync(http, over, over.Contains("TPM", StringComparison.Ordinal) ? "tpm_limit" : "rpm_limit"); return; }
        if (!await Store.InsertKeyAsync(key))
        {
            await ErrorAsync(http, new LlmError { Kind = ErrorKind.InvalidRequest, Message = key.KeyAlias is not null && await Store.FindKeyByAliasAsync(key.KeyAlias) is not null ? $"key_alias `{key.KeyAlias}` is already used by another key" : "this key already exists", Param = "key_alias", StatusOverride = 400 });
            return;
        }
        // A replica that was sent this key before it existed (a custom key, a client racing its provisioning) forgets that.
        governance.Cache.EvictKey(key.Token);
        await WriteKeyAsync(http, key, raw);
    }

    private async Task UpdateKeyAsync(HttpContext http, AdminBody b)
    {
        var id = b.String("key", required: true);
        var duration = b.Duration("duration");
        var fields = KeyFields(b, forUpdate: true);
        b.RejectUnknown();
        if (await InvalidAsync(http, b)) return;
        if (await FindKeyOr404Async(http, id!) is not { } old) return;
        if (fields.TeamId is { } tid && await Store.FindTeamAsync(tid) is null) { await BadRequestAsync(http, $"team_id `{tid}` does not exist", "team_id"); return; }
        if (await UnknownBudgetAsync(http, fields.BudgetId)) return;
        var now = Now;
        var key = fields.Apply(old, now) with { UpdatedAt = now, UpdatedBy = ChangedBy(http) };
        if (duration is not null && BudgetDuration.TryParse(duration, out var d)) key = key with { Expires = d.After(now) };
        else if (b.IsNull("duration")) key = key with { Expires = null };
        await using var allocation = await AllocationLockAsync(key, http.RequestAborted);
        if (await OverallocationAsync(key) is { } over) { await BadRequestAsync(http, over, over.Contains("TPM", StringComparison.Ordinal) ? "tpm_limit" : "rpm_limit"); return; }
        if (!await Store.ReplaceKeyAsync(old.Token, key)) { await BadRequestAsync(http, $"key_alias `{key.KeyAlias}` is already used by another key", "key_alias"); return; }
        AfterKeyChange(old, key);
        await WriteKeyAsync(http, key, null);
    }

    private async Task DeleteKeysAsync(HttpContext http, AdminBody b)
    {
        var keys = b.Strings("keys");
        var aliases = b.Strings("key_aliases");
        b.RejectUnknown();
        if (keys is null && aliases is null) b.Problems.Add("give `keys` (keys or their hashes) or `key_aliases`");
        if (await InvalidAsync(http, b)) return;
        var tokens = new List<string>();
        foreach (var k in keys ?? []) tokens.Add(VirtualKeys.TokenOf(k));
        foreach (var a in aliases ?? [])
        {
            if (await Store.FindKeyByAliasAsync(a) is not { } byAlias) { await NotFoundAsync(http, $"no key has key_alias `{a}`; nothing was deleted"); return; }
            tokens.Add(byAlias.Token);
        }
        if (await Store.DeleteKeysAsync(tokens) is null) { await NotFoundAsync(http, "one of the keys is not in the database; nothing was deleted"); return; }
        foreach (var t in tokens) { governance.Cache.EvictKey(t); governance.Ledger.Forget(BudgetScope.Key, t); }
        await DeletedAsync(http, "deleted_keys", tokens);
    }

    private async Task KeyInfoAsync(HttpContext http, AdminBody _)
    {
        var id = http.Request.Query["key"].ToString();
        if (id.Length == 0) { await BadRequestAsync(http, "give the key (or its hash) as ?key=", "key"); return; }
        if (await FindKeyOr404Async(http, id) is not { } key) return;
        key = key with { Spend = await LiveSpendAsync(BudgetScope.Key, key.Token, key.Spend, key.BudgetDuration, key.BudgetResetAt) };
        await JsonAsync(http, w =>
        {
            w.WriteStartObject();
            w.WriteString("key", key.Token);
            w.WriteStartObject("info");
            AdminJson.KeyFields(w, key);
            w.WriteEndObject();
            w.WriteEndObject();
        });
    }

    private async Task ListKeysAsync(HttpContext http, AdminBody b)
    {
        var q = http.Request.Query;
        var page = QueryInt(q, "page", 1, 1, int.MaxValue, b);
        var size = QueryInt(q, "size", 10, 1, 100, b);
        var full = q["return_full_object"].ToString() is "true" or "True";
        if (await InvalidAsync(http, b)) return;
        var keyHash = q["key_hash"].ToString() is { Length: > 0 } h ? VirtualKeys.TokenOf(h) : null;
        var (keys, total) = await Store.ListKeysAsync(new KeyQuery(page, size, Opt(q, "user_id"), Opt(q, "team_id"), Opt(q, "key_alias"), keyHash));
        await JsonAsync(http, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("keys");
            foreach (var k in keys)
            {
                if (!full) { w.WriteStringValue(k.Token); continue; }
                w.WriteStartObject();
                AdminJson.KeyFields(w, k);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteNumber("total_count", total);
            w.WriteNumber("current_page", page);
            w.WriteNumber("total_pages", (total + size - 1) / size);
            w.WriteEndObject();
        });
    }

    private async Task BlockKeyAsync(HttpContext http, AdminBody b, bool blocked)
    {
        var id = b.String("key", required: true);
        b.RejectUnknown();
        if (await InvalidAsync(http, b)) return;
        if (await FindKeyOr404Async(http, id!) is not { } old) return;
        var key = old with { Blocked = blocked, UpdatedAt = Now, UpdatedBy = ChangedBy(http) };
        await Store.ReplaceKeyAsync(old.Token, key);
        // A blocked key's old keys in their grace are done for good (unblocking does not bring them back).
        if (blocked) await Store.EndGraceAsync(key.Token);
        governance.Cache.EvictKey(key.Token);
        await WriteKeyAsync(http, key, null);
    }

    private async Task RegenerateKeyAsync(HttpContext http, AdminBody b, string? fromPath)
    {
        var id = fromPath ?? b.String("key", required: true);
        var newMaster = b.String("new_master_key");
        if (id is not null && governance.IsMasterKey(id))
        {
            await RotateMasterKeyAsync(http, b, newMaster);
            return;
        }
        if (newMaster is not null) b.Problems.Add("`new_master_key` rotates the master key: `key` must then be the master key in force");
        var custom = b.String("new_key");
        if (custom is not null && !custom.StartsWith(VirtualKeys.Prefix, StringComparison.Ordinal)) b.Problems.Add("`new_key` must start with `sk-`");
        // LiteLLM's shape ("24h", "2d", ...). Absent: LITELLM_KEY_ROTATION_GRACE_PERIOD if set; "": refused at once.
        var grace = b.String("grace_period") is { } given ? (given.Length > 0 ? b.Duration("grace_period") : null) : governance.Options.DefaultGracePeriod;
        var fields = KeyFields(b, forUpdate: true);
        b.RejectUnknown();
        if (await InvalidAsync(http, b)) return;
        // This replica's queued rows of the old key first: the new row then starts from its whole spend, and the move
        // of the spend rows takes them too. Bounded: with the store away the writer retries, and the store call below
        // answers for itself.
        try
        {
            await governance.Writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(5), governance.Time, http.RequestAborted);
        }
        catch (TimeoutException)
        {
        }
        if (await FindKeyOr404Async(http, id!) is not { } old) return;
        if (await UnknownBudgetAsync(http, fields.BudgetId)) return;
        var raw = custom ?? VirtualKeys.Generate();
        var now = Now;
        var key = fields.Apply(old, now) with { Token = VirtualKeys.Hash(raw), KeyName = VirtualKeys.NameOf(raw), UpdatedAt = now, UpdatedBy = ChangedBy(http) };
        await using var allocation = await AllocationLockAsync(key, http.RequestAborted);
        if (await OverallocationAsync(key, replacing: old.Token) is { } over) { await BadRequestAsync(http, over, over.Contains("TPM", StringComparison.Ordinal) ? "tpm_limit" : "rpm_limit"); return; }
        DateTimeOffset? graceUntil = grace is not null && BudgetDuration.TryParse(grace, out var g) ? g.After(now) : null;
        if (!await Store.RegenerateKeyAsync(old.Token, key, graceUntil, now)) { await BadRequestAsync(http, "the new key already exists, or its key_alias is taken", "new_key"); return; }
        // Without a grace period the old key stops working now (on the other replicas through the eviction); with one,
        // it authenticates as the new key until the grace ends. Its spend follows the new key either way.
        AfterKeyChange(old, key);
        await WriteKeyAsync(http, key, raw);
    }

    /// <summary>
    /// <c>/key/regenerate</c> of the master key (LiteLLM's shape): <c>new_master_key</c> becomes the master key on every
    /// replica at once and the old one is refused. LLMux keeps no secret encrypted with the master key, so there is
    /// nothing to re-encrypt; the configuration may keep the old key (the rotation, stored in the database, overrides
    /// exactly the keys it replaced) until an operator puts the new one there.
    /// </summary>
    private async Task RotateMasterKeyAsync(HttpContext http, AdminBody b, string? newMaster)
    {
        if (newMaster is null) b.Problems.Add("New master key is required.");
        else if (!newMaster.StartsWith(VirtualKeys.Prefix, StringComparison.Ordinal) || newMaster.Any(char.IsWhiteSpace) || newMaster.Length < VirtualKeys.Prefix.Length + 16)
            // Its SHA-256 is kept in the database: a short key could be found from it by trying them all.
            b.Problems.Add("`new_master_key` must start with `sk-`, hold no spaces and have at least 16 characters after `sk-`");
        if (b.String("grace_period") is not null) b.Problems.Add("`grace_period` does not apply to the master key: the old master key is refused as soon as the new one is in force");
        b.RejectUnknown();
        if (await InvalidAsync(http, b)) return;
        string? refused;
        try
        {
            refused = await governance.RotateMasterKeyAsync(newMaster!, http.RequestAborted);
        }
        catch (NotSupportedException ex)
        {
            refused = "this governance store cannot rotate the master key: " + ex.Message;
        }
        if (refused is not null) { await BadRequestAsync(http, refused, "new_master_key"); return; }
        await JsonAsync(http, w =>
        {
            w.WriteStartObject();
            // The raw key appears once, in the answer that made it.
            w.WriteString("key", newMaster);
            w.WriteString("token_id", governance.MasterKeyHash);
            w.WriteString("key_name", VirtualKeys.NameOf(newMaster!));
            w.WriteNull("expires");
            w.WriteEndObject();
        });
    }

    private void AfterKeyChange(VirtualKey old, VirtualKey key)
    {
        governance.Cache.EvictKey(old.Token);
        governance.Cache.EvictKey(key.Token);
        if (old.Token != key.Token || !SameModelBudgets(old.ModelMaxBudget, key.ModelMaxBudget)) governance.ForgetModelBudgets(old);
        if (old.Token != key.Token) governance.Ledger.Forget(BudgetScope.Key, old.Token);
        else if (old.BudgetDuration != key.BudgetDuration) governance.Ledger.Rewindow(BudgetScope.Key, key.Token, key.BudgetDuration, key.BudgetResetAt);
    }

    private static bool SameModelBudgets(IReadOnlyDictionary<string, ModelBudget> a, IReadOnlyDictionary<string, ModelBudget> b)
    {
        if (a.Count != b.Count) return false;
        foreach (var (m, x) in a) if (!b.TryGetValue(m, out var y) || x != y) return false;
        return true;
    }

    private async Task<VirtualKey?> FindKeyOr404Async(HttpContext http, string id)
    {
        var key = await Store.FindKeyAsync(VirtualKeys.TokenOf(id));
        if (key is null) await NotFoundAsync(http, "Key not found in database");
        return key;
    }

    private Task WriteKeyAsync(HttpContext http, VirtualKey key, string? raw) => JsonAsync(http, w =>
    {
        w.WriteStartObject();
        // The raw key appears once, in the answer that created it.
        if (raw is not null) w.WriteString("key", raw); else w.WriteString("key", key.Token);
        w.WriteString("token_id", key.Token);
        AdminJson.KeyFields(w, key);
        w.WriteEndObject();
    });

    /// <summary>The key fields shared by generate, update and regenerate; unset fields keep their value on update.</summary>
    private static KeyChanges KeyFields(AdminBody b, bool forUpdate)
    {
        b.Unsupported("guardrails", "permissions", "enforced_params", "tags", "organization_id",
            "project_id", "allowed_passthrough_routes", "config", "temp_budget_increase", "temp_budget_expiry",
            "object_permission", "router_settings", "access_group_ids", "auto_rotate", "rotation_interval", "prompts", "policies");
        var c = new KeyChanges(b)
        {
            KeyAlias = b.String("key_alias"),
            Models = b.Strings("models"),
            MaxBudget = b.Money("max_budget"),
            SoftBudget = b.Money("soft_budget"),
            BudgetDuration = b.Duration("budget_duration"),
            RpmLimit = b.Count("rpm_limit"),
            TpmLimit = b.Count("tpm_limit"),
            MaxParallelRequests = b.Count("max_parallel_requests"),
            Metadata = MetadataWithoutLimits(b),
            TeamId = b.String("team_id"),
            UserId = b.String("user_id"),
            AllowedRoutes = b.Strings("allowed_routes"),
            AllowedCacheControls = CacheControlNames(b),
            Blocked = b.Bool("blocked"),
            ModelMaxBudget = ModelBudgets(b, allowRates: true),
            Aliases = Aliases(b, "aliases"),
            BudgetId = b.String("budget_id"),
            ModelRpmLimit = PerModelLimits(b, "model_rpm_limit"),
            ModelTpmLimit = PerModelLimits(b, "model_tpm_limit"),
            RpmLimitType = LimitType(b, "rpm_limit_type"),
            TpmLimitType = LimitType(b, "tpm_limit_type"),
        };
        if (c.BudgetId is { Length: 0 }) b.Problems.Add("`budget_id` must not be empty");
        b.String("key_type"); // LiteLLM's presets of allowed_routes; `llm_api`/`default` are what LLMux serves
        b.Bool("send_invite_email");
        _ = forUpdate;
        return c;
    }

    /// <summary><c>allowed_cache_controls</c>: names of the response cache's controls only (LiteLLM stores any string; a typo there would refuse the control it meant).</summary>
    private static IReadOnlyList<string>? CacheControlNames(AdminBody b)
    {
        var names = b.Strings("allowed_cache_controls");
        if (names is null) return null;
        foreach (var n in names)
            if (!LLMux.Stages.Caching.CacheControls.Names.Contains(n))
                b.Problems.Add($"`allowed_cache_controls`: `{n}` is not a cache control; use {string.Join(", ", LLMux.Stages.Caching.CacheControls.Names)}");
        return names;
    }

    /// <summary>
    /// <c>model_rpm_limit</c> / <c>model_tpm_limit</c>: <c>{"gpt-4o": 10}</c> per minute; <c>{}</c> or null clears them.
    /// Where LiteLLM keeps them, in <c>metadata</c>, they are read too when the field itself is absent (and leave the
    /// stored metadata: <see cref="MetadataWithoutLimits"/>).
    /// </summary>
    private static IReadOnlyDictionary<string, long>? PerModelLimits(AdminBody b, string name)
    {
        if (b.IsNull(name)) return LLMux.Governance.Limits.ModelLimits.None;
        var where = name;
        if (b.Element(name) is not { } e)
        {
            if (b.Element("metadata") is not { ValueKind: JsonValueKind.Object } m || !m.TryGetProperty(name, out e)) return null;
            if (e.ValueKind == JsonValueKind.Null) return LLMux.Governance.Limits.ModelLimits.None;
            where = "metadata." + name;
        }
        var limits = LLMux.Governance.Limits.ModelLimits.Read(e, out var problem);
        if (problem is not null) b.Problems.Add($"`{where}`: {problem}");
        return limits;
    }

    /// <summary>The body's <c>metadata</c> without the per-model limits, which live in their own fields.</summary>
    private static string? MetadataWithoutLimits(AdminBody b)
    {
        var raw = b.Object("metadata");
        if (raw is null || b.Element("metadata") is not { } m || (!m.TryGetProperty("model_rpm_limit", out _) && !m.TryGetProperty("model_tpm_limit", out _))) return raw;
        var node = System.Text.Json.Nodes.JsonNode.Parse(raw)!.AsObject();
        node.Remove("model_rpm_limit");
        node.Remove("model_tpm_limit");
        return node.ToJsonString();
    }

    /// <summary>A <c>budget_id</c> a key names must exist (the budget fills the limits the key leaves null); true after answering the 400.</summary>
    private async Task<bool> UnknownBudgetAsync(HttpContext http, string? budgetId)
    {
        if (budgetId is null || await Store.FindBudgetAsync(budgetId) is not null) return false;
        await BadRequestAsync(http, $"budget_id `{budgetId}` does not exist; create it with /budget/new first", "budget_id");
        return true;
    }

    /// <summary>A key's <c>aliases</c> or a team's <c>model_aliases</c>: <c>{"fast": "gpt-4o-mini"}</c>; <c>{}</c> or null clears them.</summary>
    private static IReadOnlyDictionary<string, string>? Aliases(AdminBody b, string name)
    {
        if (b.IsNull(name)) return ModelAliases.None;
        if (b.Element(name) is not { } e) return null;
        var aliases = ModelAliases.Read(e, out var problem);
        if (problem is not null) b.Problems.Add($"`{name}`: {problem}");
        return aliases;
    }

    /// <summary>
    /// <c>model_max_budget</c>: LiteLLM's <c>{"gpt-4o": {"budget_limit": 10, "time_period": "1d"}}</c>; <c>{}</c> or null
    /// clears it. A key's entries may carry <c>rpm_limit</c> / <c>tpm_limit</c> (<paramref name="allowRates"/>).
    /// </summary>
    private static IReadOnlyDictionary<string, ModelBudget>? ModelBudgets(AdminBody b, bool allowRates = false)
    {
        if (b.IsNull("model_max_budget")) return ModelBudget.None;
        if (b.Element("model_max_budget") is not { } e) return null;
        var budgets = ModelBudget.Read(e, out var problem, allowRates);
        if (problem is not null) b.Problems.Add($"`model_max_budget`: {problem}");
        return budgets;
    }

    private sealed class KeyChanges(AdminBody b)
    {
        public string? KeyAlias, BudgetDuration, Metadata, TeamId, UserId;
        public IReadOnlyList<string>? Models, AllowedRoutes, AllowedCacheControls;
        public decimal? MaxBudget, SoftBudget;
        public long? RpmLimit, TpmLimit, MaxParallelRequests;
        public bool? Blocked;
        public IReadOnlyDictionary<string, ModelBudget>? ModelMaxBudget;
        public IReadOnlyDictionary<string, string>? Aliases;
        public string? BudgetId;
        public IReadOnlyDictionary<string, long>? ModelRpmLimit, ModelTpmLimit;
        public string? RpmLimitType, TpmLimitType;

        public VirtualKey Apply(VirtualKey k, DateTimeOffset now)
        {
            var windowChanged = BudgetDuration is not null && BudgetDuration != k.BudgetDuration;
            k = k with
            {
                KeyAlias = Pick(KeyAlias, "key_alias", k.KeyAlias),
                Models = Models ?? k.Models,
                MaxBudget = Pick(MaxBudget, "max_budget", k.MaxBudget),
                SoftBudget = Pick(SoftBudget, "soft_budget", k.SoftBudget),
                BudgetDuration = Pick(BudgetDuration, "budget_duration", k.BudgetDuration),
                RpmLimit = Pick(RpmLimit, "rpm_limit", k.RpmLimit),
                TpmLimit = Pick(TpmLimit, "tpm_limit", k.TpmLimit),
                MaxParallelRequests = Pick(MaxParallelRequests, "max_parallel_requests", k.MaxParallelRequests),
                Metadata = Metadata ?? k.Metadata,
                TeamId = Pick(TeamId, "team_id", k.TeamId),
                UserId = Pick(UserId, "user_id", k.UserId),
                AllowedRoutes = AllowedRoutes ?? k.AllowedRoutes,
                AllowedCacheControls = AllowedCacheControls ?? k.AllowedCacheControls,
                Blocked = Blocked ?? k.Blocked,
                ModelMaxBudget = ModelMaxBudget ?? k.ModelMaxBudget,
                Aliases = Aliases ?? k.Aliases,
                BudgetId = Pick(BudgetId, "budget_id", k.BudgetId),
                ModelRpmLimit = ModelRpmLimit ?? k.ModelRpmLimit,
                ModelTpmLimit = ModelTpmLimit ?? k.ModelTpmLimit,
            };
            k = k with { Metadata = WithLimitTypes(b, k.Metadata, RpmLimitType, TpmLimitType) };
            if (windowChanged && global::LLMux.Governance.Budgets.BudgetDuration.TryParse(k.BudgetDuration, out var d)) k = k with { BudgetResetAt = d.After(now) };
            else if (k.BudgetDuration is null) k = k with { BudgetResetAt = null };
            return k;
        }

        private T? Pick<T>(T? value, string name, T? old) where T : class => value ?? (b.IsNull(name) ? null : old);
        private T? Pick<T>(T? value, string name, T? old) where T : struct => value ?? (b.IsNull(name) ? null : old);
    }

    // ---- teams ----

    private async Task NewTeamAsync(HttpContext http, AdminBody b)
    {
        var id = b.String("team_id") ?? Guid.NewGuid().ToString();
        var members = Members(b, "members_with_roles");
        var t = TeamChanges(b);
        b.RejectUnknown();
        if (await InvalidAsync(http, b)) return;
        var now = Now;
        var team = t.Apply(new Team { TeamId = id, CreatedAt = now, UpdatedAt = now, Members = members ?? [] }, now);
        if (!await Store.InsertTeamAsync(team)) { await BadRequestAsync(http, $"team_id `{id}` already exists", "team_id"); return; }
        await JsonAsync(http, w => AdminJson.Team(w, team));
    }

    private async Task UpdateTeamAsync(HttpContext http, AdminBody b)
    {
        var id = b.String("team_id", required: true);
        var members = Members(b, "members_with_roles");
        var t = TeamChanges(b);
        b.RejectUnknown();
        if (await InvalidAsync(http, b)) return;
        if (await FindTeamOr404Async(http, id!) is not { } old) return;
        var now = Now;
        var team = t.Apply(old, now) with { UpdatedAt = now, Members = members ?? old.Members };
        await Store.ReplaceTeamAsync(team);
        AfterTeamChange(old, team);
        await JsonAsync(http, w =>
        {
            w.WriteStartObject();
            w.WriteString("team_id", team.TeamId);
            w.WritePropertyName("data");
            AdminJson.Team(w, team);
            w.WriteEndObject();
        });
    }

    private async Task BlockTeamAsync(HttpContext http, AdminBody b, bool blocked)
    {
        var id = b.String("team_id", required: true);
        b.RejectUnknown();
        if (await InvalidAsync(http, b)) return;
        if (await FindTeamOr404Async(http, id!) is not { } old) return;
        var team = old with { Blocked = blocked, UpdatedAt = Now };
        await Store.ReplaceTeamAsync(team);
        governance.Cache.EvictTeam(team.TeamId);
        await JsonAsync(http, w => AdminJson.Team(w, team));
    }

    private async Task DeleteTeamsAsync(HttpContext http, AdminBody b)
    {
        var ids = b.Strings("team_ids");
        if (ids is null) b.Problems.Add("`team_ids` is required");
        b.RejectUnknown();
        if (await InvalidAsync(http, b)) return;
        if (await Store.DeleteTeamsAsync(ids!) is null) { await NotFoundAsync(http, "one of the teams does not exist; nothing was deleted"); return; }
        foreach (var id in ids!) { governance.Cache.EvictTeam(id); governance.Ledger.Forget(BudgetScope.Team, id); }
        await DeletedAsync(http, "deleted_teams", ids!);
    }

    private async Task TeamInfoAsync(HttpContext http, AdminBody _)
    {
        var id = http.Request.Query["team_id"].ToString();
        if (id.Length == 0) { await BadRequestAsync(http, "give ?team_id=", "team_id"); return; }
        if (await FindTeamOr404Async(http, id) is not { } team) return;
        var (keys, _) = await Store.ListKeysAsync(new KeyQuery(1, 100, TeamId: id));
        team = team with { Spend = await LiveSpendAsync(BudgetScope.Team, team.TeamId, team.Spend, team.BudgetDuration, team.BudgetResetAt) };
        await JsonAsync(http, w =>
        {
            w.WriteStartObject();
            w.WriteString("team_id", team.TeamId);
            w.WritePropertyName("team_info");
            AdminJson.Team(w, team);
            w.WriteStartArray("keys");
            foreach (var k in keys) { w.WriteStartObject(); AdminJson.KeyFields(w, k); w.WriteEndObject(); }
            w.WriteEndArray();
            w.WriteStartArray("team_memberships");
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private async Task ListTeamsAsync(HttpContext http, AdminBody _)
    {
        var teams = await Store.ListTeamsAsync(Opt(http.Request.Query, "user_id"));
        await JsonAsync(http, w =>
        {
            w.WriteStartArray();
            foreach (var t in teams) AdminJson.Team(w, t);
            w.WriteEndArray();
        });
    }

    private async Task AddTeamMemberAsync(HttpContext http, AdminBody b)
    {
        var id = b.String("team_id", required: true);
        var added = Members(b, "member");
        if (added is null && !b.Problems.Any(static p => p.Contains("`member`", StringComparison.Ordinal))) b.Problems.Add("`member` is required: {\"role\": \"user\", \"user_id\": \"...\"} or a list of them");
        b.Unsupported("max_budget_in_team");
        b.RejectUnknown();
        if (await InvalidAsync(http, b)) return;
        if (await FindTeamOr404Async(http, id!) is not { } old) return;
        var members = new List<TeamMember>(old.Members);
        foreach (var m in added!)
        {
            if (members.Exists(x => (m.UserId is not null && x.UserId == m.UserId) || (m.UserEmail is not null && x.UserEmail == m.UserEmail)))
            {
                await BadRequestAsync(http, $"`{m.UserId ?? m.UserEmail}` is already a member of team `{old.TeamId}`", "member");
                return;
            }
            members.Add(m);
        }
        var team = old with { Members = members, UpdatedAt = Now };
        await Store.ReplaceTeamAsync(team);
        await JsonAsync(http, w =>
        {
            w.WriteStartObject();
            AdminJson.TeamFields(w, team);
            w.WriteStartArray("updated_users");
            w.WriteEndArray();
            w.WriteStartArray("updated_team_memberships");
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private void AfterTeamChange(Team old, Team team)
    {
        governance.Cache.EvictTeam(team.TeamId);
        if (!SameModelBudgets(old.ModelMaxBudget, team.ModelMaxBudget)) governance.ForgetModelBudgets(BudgetScope.TeamModel, old.TeamId, old.ModelMaxBudget);
        if (old.BudgetDuration != team.BudgetDuration) governance.Ledger.Rewindow(BudgetScope.Team, team.TeamId, team.BudgetDuration, team.BudgetResetAt);
    }

    private async Task<Team?> FindTeamOr404Async(HttpContext http, string id)
    {
        var team = await Store.FindTeamAsync(id);
        if (team is null) await NotFoundAsync(http, $"Team not found, passed team_id={id}");
        return team;
    }

    private static IReadOnlyList<TeamMember>? Members(AdminBody b, string name)
    {
        if (b.Element(name) is not { } e) return null;
        var items = e.ValueKind == JsonValueKind.Array ? e.EnumerateArray().ToArray() : [e];
        var list = new List<TeamMember>();
        foreach (var m in items)
        {
            if (m.ValueKind != JsonValueKind.Object) { b.Problems.Add($"`{name}` must be an object {{role, user_id|user_email}} or a list of them"); return null; }
            var role = m.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : "user";
            if (role is not ("admin" or "user")) { b.Problems.Add($"`{name}`: role `{role}` is not admin or user"); return null; }
            var user = m.TryGetProperty("user_id", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null;
            var email = m.TryGetProperty("user_email", out var em) && em.ValueKind == JsonValueKind.String ? em.GetString() : null;
            if (user is null && email is null) { b.Problems.Add($"`{name}`: each member needs user_id or user_email"); return null; }
            list.Add(new TeamMember(role, user, email));
        }
        return list;
    }

    private static TeamChangeSet TeamChanges(AdminBody b)
    {
        b.Unsupported("organization_id", "tags", "guardrails", "team_member_budget", "team_member_rpm_limit",
            "team_member_tpm_limit", "team_member_key_duration", "team_member_budget_duration", "object_permission", "router_settings", "policies", "prompts");
        return new TeamChangeSet(b)
        {
            TeamAlias = b.String("team_alias"),
            Models = b.Strings("models"),
            MaxBudget = b.Money("max_budget"),
            SoftBudget = b.Money("soft_budget"),
            BudgetDuration = b.Duration("budget_duration"),
            RpmLimit = b.Count("rpm_limit"),
            TpmLimit = b.Count("tpm_limit"),
            MaxParallelRequests = b.Count("max_parallel_requests"),
            Metadata = MetadataWithoutLimits(b),
            Blocked = b.Bool("blocked"),
            ModelAliases = Aliases(b, "model_aliases"),
            ModelMaxBudget = ModelBudgets(b),
            ModelRpmLimit = PerModelLimits(b, "model_rpm_limit"),
            ModelTpmLimit = PerModelLimits(b, "model_tpm_limit"),
        };
    }

    private sealed class TeamChangeSet(AdminBody b)
    {
        public IReadOnlyDictionary<string, string>? ModelAliases;
        public IReadOnlyDictionary<string, ModelBudget>? ModelMaxBudget;
        public IReadOnlyDictionary<string, long>? ModelRpmLimit, ModelTpmLimit;
        public string? TeamAlias, BudgetDuration, Metadata;
        public IReadOnlyList<string>? Models;
        public decimal? MaxBudget, SoftBudget;
        public long? RpmLimit, TpmLimit, MaxParallelRequests;
        public bool? Blocked;

        public Team Apply(Team t, DateTimeOffset now)
        {
            var windowChanged = BudgetDuration is not null && BudgetDuration != t.BudgetDuration;
            t = t with
            {
                TeamAlias = TeamAlias ?? (b.IsNull("team_alias") ? null : t.TeamAlias),
                Models = Models ?? t.Models,
                MaxBudget = MaxBudget ?? (b.IsNull("max_budget") ? null : t.MaxBudget),
                SoftBudget = SoftBudget ?? (b.IsNull("soft_budget") ? null : t.SoftBudget),
                BudgetDuration = BudgetDuration ?? (b.IsNull("budget_duration") ? null : t.BudgetDuration),
                RpmLimit = RpmLimit ?? (b.IsNull("rpm_limit") ? null : t.RpmLimit),
                TpmLimit = TpmLimit ?? (b.IsNull("tpm_limit") ? null : t.TpmLimit),
                MaxParallelRequests = MaxParallelRequests ?? (b.IsNull("max_parallel_requests") ? null : t.MaxParallelRequests),
                Metadata = Metadata ?? t.Metadata,
                Blocked = Blocked ?? t.Blocked,
                ModelAliases = ModelAliases ?? t.ModelAliases,
                ModelMaxBudget = ModelMaxBudget ?? t.ModelMaxBudget,
                ModelRpmLimit = ModelRpmLimit ?? t.ModelRpmLimit,
                ModelTpmLimit = ModelTpmLimit ?? t.ModelTpmLimit,
            };
            if (windowChanged && global::LLMux.Governance.Budgets.BudgetDuration.TryParse(t.BudgetDuration, out var d)) t = t with { BudgetResetAt = d.After(now) };
            else if (t.BudgetDuration is null) t = t with { BudgetResetAt = null };
            return t;
        }
    }

    // ---- users ----

    private async Task NewUserAsync(HttpContext http, AdminBody b)
    {
        var id = b.String("user_id") ?? Guid.NewGuid().ToString();
        var u = UserChanges(b);
        var autoKey = b.Bool("auto_create_key") ?? true;
        b.RejectUnknown();
        if (await InvalidAsync(http, b)) return;
        var now = Now;
        var user = u.Apply(new InternalUser { UserId = id, CreatedAt = now, UpdatedAt = now }, now);
        foreach (var t in user.Teams)
            if (await Store.FindTeamAsync(t) is null) { await BadRequestAsync(http, $"team `{t}` does not exist; nothing was created", "teams"); return; }
        if (!await Store.InsertUserAsync(user)) { await BadRequestAsync(http, $"user_id `{id}` already exists", "user_id"); return; }
        string? raw = null;
        VirtualKey? key = null;
        if (autoKey)
        {
            raw = VirtualKeys.Generate();
            key = new VirtualKey { Token = VirtualKeys.Hash(raw), KeyName = VirtualKeys.NameOf(raw), UserId = id, Models = user.Models, CreatedAt = now, UpdatedAt = now, CreatedBy = ChangedBy(http) };
            if (!await Store.InsertKeyAsync(key))
            {
                await Store.DeleteUsersAsync([id]);
                await BadRequestAsync(http, "could not create the user's key; nothing was created", "auto_create_key");
                return;
            }
            governance.Cache.EvictKey(key.Token);
        }
        await JsonAsync(http, w =>
        {
            w.WriteStartObject();
            if (key is not null)
            {
                w.WriteString("key", raw);
                w.WriteString("key_name", key.KeyName);
                w.WriteString("token_id", key.Token);
            }
            else w.WriteNull("key");
            AdminJson.UserFields(w, user);
            w.WriteEndObject();
        });
    }

    private async Task UpdateUserAsync(HttpContext http, AdminBody b)
    {
        var id = b.String("user_id", required: true);
        var u = UserChanges(b);
        b.RejectUnknown();
        if (await InvalidAsync(http, b)) return;
        if (await FindUserOr404Async(http, id!) is not { } old) return;
        var now = Now;
        var user = u.Apply(old, now) with { UpdatedAt = now };
        await Store.ReplaceUserAsync(user);
        governance.Cache.EvictUser(user.UserId);
        if (!SameModelBudgets(old.ModelMaxBudget, user.ModelMaxBudget)) governance.ForgetModelBudgets(BudgetScope.UserModel, old.UserId, old.ModelMaxBudget);
        if (old.BudgetDuration != user.BudgetDuration) governance.Ledger.Rewindow(BudgetScope.User, user.UserId, user.BudgetDuration, user.BudgetResetAt);
        await JsonAsync(http, w =>
        {
            w.WriteStartObject();
            w.WriteString("user_id", user.UserId);
            w.WriteStartObject("data");
            AdminJson.UserFields(w, user);
            w.WriteEndObject();
            w.WriteEndObject();
        });
    }

    private async Task DeleteUsersAsync(HttpContext http, AdminBody b)
    {
        var ids = b.Strings("user_ids");
        if (ids is null) b.Problems.Add("`user_ids` is required");
        b.RejectUnknown();
        if (await InvalidAsync(http, b)) return;
        if (await Store.DeleteUsersAsync(ids!) is null) { await NotFoundAsync(http, "one of the users does not exist; nothing was deleted"); return; }
        foreach (var id in ids!) { governance.Cache.EvictUser(id); governance.Ledger.Forget(BudgetScope.User, id); }
        await DeletedAsync(http, "deleted_users", ids!);
    }

    private async Task UserInfoAsync(HttpContext http, AdminBody _)
    {
        var id = http.Request.Query["user_id"].ToString();
        if (id.Length == 0) { await BadRequestAsync(http, "give ?user_id=", "user_id"); return; }
        if (await FindUserOr404Async(http, id) is not { } user) return;
        var (keys, _) = await Store.ListKeysAsync(new KeyQuery(1, 100, UserId: id));
        var teams = await Store.ListTeamsAsync(id);
        user = user with { Spend = await LiveSpendAsync(BudgetScope.User, user.UserId, user.Spend, user.BudgetDuration, user.BudgetResetAt) };
        await JsonAsync(http, w =>
        {
            w.WriteStartObject();
            w.WriteString("user_id", user.UserId);
            w.WriteStartObject("user_info");
            AdminJson.UserFields(w, user);
            w.WriteEndObject();
            w.WriteStartArray("keys");
            foreach (var k in keys) { w.WriteStartObject(); AdminJson.KeyFields(w, k); w.WriteEndObject(); }
            w.WriteEndArray();
            w.WriteStartArray("teams");
            foreach (var t in teams) AdminJson.Team(w, t);
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private async Task<InternalUser?> FindUserOr404Async(HttpContext http, string id)
    {
        var user = await Store.FindUserAsync(id);
        if (user is null) await NotFoundAsync(http, $"User not found, passed user_id={id}");
        return user;
    }

    private static UserChangeSet UserChanges(AdminBody b)
    {
        b.Unsupported("organization_id", "tags", "guardrails", "permissions", "object_permission", "prompts");
        var role = b.String("user_role");
        if (role is not null and not ("proxy_admin" or "proxy_admin_viewer" or "internal_user" or "internal_user_viewer"))
            b.Problems.Add($"`user_role`: `{role}` is not one of proxy_admin, proxy_admin_viewer, internal_user, internal_user_viewer");
        b.Bool("send_invite_email");
        return new UserChangeSet(b)
        {
            UserEmail = b.String("user_email"),
            UserAlias = b.String("user_alias"),
            UserRole = role,
            Teams = b.Strings("teams"),
            Models = b.Strings("models"),
            MaxBudget = b.Money("max_budget"),
            BudgetDuration = b.Duration("budget_duration"),
            RpmLimit = b.Count("rpm_limit"),
            TpmLimit = b.Count("tpm_limit"),
            Metadata = b.Object("metadata"),
            ModelMaxBudget = ModelBudgets(b),
        };
    }

    private sealed class UserChangeSet(AdminBody b)
    {
        public IReadOnlyDictionary<string, ModelBudget>? ModelMaxBudget;
        public string? UserEmail, UserAlias, UserRole, BudgetDuration, Metadata;
        public IReadOnlyList<string>? Teams, Models;
        public decimal? MaxBudget;
        public long? RpmLimit, TpmLimit;

        public InternalUser Apply(InternalUser u, DateTimeOffset now)
        {
            var windowChanged = BudgetDuration is not null && BudgetDuration != u.BudgetDuration;
            u = u with
            {
                UserEmail = UserEmail ?? (b.IsNull("user_email") ? null : u.UserEmail),
                UserAlias = UserAlias ?? (b.IsNull("user_alias") ? null : u.UserAlias),
                UserRole = UserRole ?? u.UserRole,
                Teams = Teams ?? u.Teams,
                Models = Models ?? u.Models,
                MaxBudget = MaxBudget ?? (b.IsNull("max_budget") ? null : u.MaxBudget),
                BudgetDuration = BudgetDuration ?? (b.IsNull("budget_duration") ? null : u.BudgetDuration),
                RpmLimit = RpmLimit ?? (b.IsNull("rpm_limit") ? null : u.RpmLimit),
                TpmLimit = TpmLimit ?? (b.IsNull("tpm_limit") ? null : u.TpmLimit),
                Metadata = Metadata ?? u.Metadata,
                ModelMaxBudget = ModelMaxBudget ?? u.ModelMaxBudget,
            };
            if (windowChanged && global::LLMux.Governance.Budgets.BudgetDuration.TryParse(u.BudgetDuration, out var d)) u = u with { BudgetResetAt = d.After(now) };
            else if (u.BudgetDuration is null) u = u with { BudgetResetAt = null };
            return u;
        }
    }

    // ---- customers (end users) ----

    private async Task NewCustomerAsync(HttpContext http, AdminBody b)
    {
        var id = b.String("user_id", required: true);
        var c = CustomerChanges(b);
        b.RejectUnknown();
        if (await InvalidAsync(http, b) || await UnknownDefaultModelAsync(http, c.DefaultModel)) return;
        var now = Now;
        if (await LinkedBudgetAsync(http, c, null, now) is not { } link) return;
        var customer = c.Apply(new Customer { UserId = id!, CreatedAt = now, UpdatedAt = now }, link.Budget, now);
        if (await Store.FindCustomerAsync(id!) is not null) { await BadRequestAsync(http, $"Customer already exists, passed user_id={id}. Please pass a new user_id.", "user_id"); return; }
        if (link.Created && !await Store.InsertBudgetAsync(link.Budget!)) { await BadRequestAsync(http, "the end user's budget could not be created; retry", "budget_id"); return; }
        if (!await Store.InsertCustomerAsync(customer))
        {
            if (link.Created) await Store.DeleteBudgetAsync(link.Budget!.BudgetId);
            await BadRequestAsync(http, $"Customer already exists, passed user_id={id}. Please pass a new user_id.", "user_id");
            return;
        }
        governance.EvictCustomer(customer.UserId);
        await JsonAsync(http, w => AdminJson.Customer(w, customer, link.Budget));
    }

    private async Task UpdateCustomerAsync(HttpContext http, AdminBody b)
    {
        var id = b.String("user_id", required: true);
        var c = CustomerChanges(b);
        b.RejectUnknown();
        if (await InvalidAsync(http, b) || await UnknownDefaultModelAsync(http, c.DefaultModel)) return;
        if (await FindCustomerOr404Async(http, id!) is not { } old) return;
        var now = Now;
        var current = old.BudgetId is { } linked ? await Store.FindBudgetAsync(linked) : null;
        if (await LinkedBudgetAsync(http, c, old, now, current) is not { } link) return;
        var customer = c.Apply(old, link.Budget, now, LinkedBudgets.Apply(old, current).BudgetDuration) with { UpdatedAt = now };
        if (link.Created && !await Store.InsertBudgetAsync(link.Budget!)) { await BadRequestAsync(http, "the end user's budget could not be created; retry", "budget_id"); return; }
        await Store.ReplaceCustomerAsync(customer);
        governance.EvictCustomer(customer.UserId);
        var before = LinkedBudgets.Apply(old, current);
        var after = LinkedBudgets.Apply(customer, link.Budget);
        if (before.BudgetDuration != after.BudgetDuration || before.BudgetResetAt != after.BudgetResetAt)
            governance.Ledger.Rewindow(BudgetScope.Customer, customer.UserId, after.BudgetDuration, after.BudgetResetAt);
        await JsonAsync(http, w => AdminJson.Customer(w, customer, link.Budget));
    }

    /// <summary>LiteLLM's check: an end user's <c>default_model</c> must be a model this gateway serves (422 otherwise); true after answering.</summary>
    private async Task<bool> UnknownDefaultModelAsync(HttpContext http, string? model)
    {
        if (model is null || governance.DeploymentsOf is not { } deployments || deployments(model) is { Count: > 0 }) return false;
        await ErrorAsync(http, new LlmError
        {
            Kind = ErrorKind.Unprocessable,
            Message = $"Default Model not on proxy. Configure via `/model/new` or config.yaml. Default_model={model} (GET /v1/models lists the served models). Nothing was changed.",
            Param = "default_model",
        });
        return true;
    }

    /// <summary>
    /// The budget an end user links to after this change: <c>budget_id</c> (which must exist), a new row from the inline
    /// budget fields (LiteLLM creates one; an update copies the current budget, so that a budget other end users share
    /// never changes under them), or the current one. Null after answering the error.
    /// </summary>
    private async Task<(BudgetRow? Budget, bool Created)?> LinkedBudgetAsync(HttpContext http, CustomerChangeSet c, Customer? old, DateTimeOffset now, BudgetRow? current = null)
    {
        if (c.BudgetId is { } id)
        {
            if (await Store.FindBudgetAsync(id) is { } row) return (row, false);
            await BadRequestAsync(http, $"budget_id `{id}` does not exist; create it with /budget/new first", "budget_id");
            return null;
        }
        if (c.UnlinksBudget) return (null, false);
        if (!c.Budget.Any) return (current, false);
        var by = ChangedBy(http) ?? "default_user_id";
        // An end user written before budgets existed keeps its own max_budget and duration as the base.
        var basis = current ?? new BudgetRow { BudgetId = "", MaxBudget = old?.MaxBudget, BudgetDuration = old?.BudgetDuration, BudgetResetAt = old?.BudgetResetAt, CreatedBy = by, UpdatedBy = by };
        var budget = c.Budget.Apply(basis with { BudgetId = Guid.NewGuid().ToString(), CreatedAt = now, UpdatedAt = now, CreatedBy = by, UpdatedBy = by }, now);
        return (budget, true);
    }

    private async Task DeleteCustomersAsync(HttpContext http, AdminBody b)
    {
        var ids = b.Strings("user_ids");
        if (ids is null) b.Problems.Add("`user_ids` is required");
        b.RejectUnknown();
        if (await InvalidAsync(http, b)) return;
        if (await Store.DeleteCustomersAsync(ids!) is null) { await NotFoundAsync(http, "one of the end users does not exist; nothing was deleted"); return; }
        foreach (var id in ids!) { governance.EvictCustomer(id); governance.Ledger.Forget(BudgetScope.Customer, id); }
        await DeletedAsync(http, "deleted_customers", ids!);
    }

    private async Task BlockCustomersAsync(HttpContext http, AdminBody b, bool blocked)
    {
        var ids = b.Strings("user_ids");
        if (ids is null) b.Problems.Add("`user_ids` is required");
        b.RejectUnknown();
        if (await InvalidAsync(http, b)) return;
        var changed = new List<Customer>();
        foreach (var id in ids!)
        {
            // Blocking an end user LLMux has not seen yet creates it, blocked (LiteLLM does the same).
            var now = Now;
            var customer = (await Store.FindCustomerAsync(id) ?? new Customer { UserId = id, CreatedAt = now, UpdatedAt = now }) with { Blocked = blocked, UpdatedAt = now };
            if (!await Store.ReplaceCustomerAsync(customer)) await Store.InsertCustomerAsync(customer);
            governance.EvictCustomer(id);
            changed.Add(customer);
        }
        await JsonAsync(http, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray(blocked ? "blocked_users" : "unblocked_users");
            foreach (var c in changed) w.WriteStringValue(c.UserId);
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private async Task CustomerInfoAsync(HttpContext http, AdminBody _)
    {
        var id = http.Request.Query["end_user_id"].ToString();
        if (id.Length == 0) { await BadRequestAsync(http, "give ?end_user_id=", "end_user_id"); return; }
        if (await FindCustomerOr404Async(http, id) is not { } c) return;
        var budget = c.BudgetId is { } linked ? await Store.FindBudgetAsync(linked) : null;
        var seen = LinkedBudgets.Apply(c, budget);
        c = c with { Spend = await LiveSpendAsync(BudgetScope.Customer, c.UserId, c.Spend, seen.BudgetDuration, seen.BudgetResetAt) };
        await JsonAsync(http, w => AdminJson.Customer(w, c, budget));
    }

    private async Task ListCustomersAsync(HttpContext http, AdminBody _)
    {
        var all = await Store.ListCustomersAsync();
        var budgets = new Dictionary<string, BudgetRow?>(StringComparer.Ordinal);
        foreach (var c in all)
            if (c.BudgetId is { } id && !budgets.ContainsKey(id)) budgets[id] = await Store.FindBudgetAsync(id);
        await JsonAsync(http, w =>
        {
            w.WriteStartArray();
            foreach (var c in all) AdminJson.Customer(w, c, c.BudgetId is { } id ? budgets[id] : null);
            w.WriteEndArray();
        });
    }

    private async Task<Customer?> FindCustomerOr404Async(HttpContext http, string id)
    {
        var c = await Store.FindCustomerAsync(id);
        if (c is null) await NotFoundAsync(http, $"End User Id={id} does not exist in db");
        return c;
    }

    private static CustomerChangeSet CustomerChanges(AdminBody b)
    {
        b.Unsupported("object_permission");
        var c = new CustomerChangeSet(b)
        {
            DefaultModel = b.String("default_model"),
            Alias = b.String("alias"),
            AllowedModelRegion = b.String("allowed_model_region"),
            Blocked = b.Bool("blocked"),
            BudgetId = b.String("budget_id"),
            Budget = BudgetFields(b),
        };
        if (c.BudgetId is { Length: 0 }) b.Problems.Add("`budget_id` must not be empty");
        if (c.AllowedModelRegion is not (null or "eu" or "us")) b.Problems.Add($"`allowed_model_region` must be \"eu\" or \"us\", not `{c.AllowedModelRegion}`");
        // LiteLLM: an end user links to a budget, or gives the fields of a new one; not both.
        if (b.Has("budget_id") && c.Budget.Any) b.Problems.Add("give `budget_id` or the budget's fields (max_budget, soft_budget, tpm_limit, rpm_limit, max_parallel_requests, budget_duration), not both");
        return c;
    }

    private sealed class CustomerChangeSet(AdminBody b)
    {
        public string? Alias, BudgetId, AllowedModelRegion, DefaultModel;
        public bool? Blocked;
        public required BudgetChanges Budget;

        /// <summary><c>"budget_id": null</c>: the end user links to no budget any more.</summary>
        public bool UnlinksBudget => b.IsNull("budget_id");

        /// <param name="previousDuration">The duration the end user's window had before (its old budget's, or its own column's).</param>
        public Customer Apply(Customer c, BudgetRow? budget, DateTimeOffset now, string? previousDuration = null)
        {
            var relinked = budget?.BudgetId != c.BudgetId;
            c = c with
            {
                Alias = Alias ?? (b.IsNull("alias") ? null : c.Alias),
                Blocked = Blocked ?? c.Blocked,
                AllowedModelRegion = AllowedModelRegion ?? (b.IsNull("allowed_model_region") ? null : c.AllowedModelRegion),
                DefaultModel = DefaultModel ?? (b.IsNull("default_model") ? null : c.DefaultModel),
                BudgetId = budget?.BudgetId,
            };
            if (!relinked) return c;
            // The limits now live in the budget row; each end user counts its own window of the budget's duration
            // (rolling, from now: LiteLLM's rule for budget-table entities).
            c = c with { MaxBudget = null, BudgetDuration = null };
            if (budget?.BudgetDuration is { } same && same == previousDuration) return c;
            return c with { BudgetResetAt = global::LLMux.Governance.Budgets.BudgetDuration.TryParse(budget?.BudgetDuration, out var d) ? d.After(now) : null };
        }
    }

    // ---- spend ----

    private async Task SpendLogsAsync(HttpContext http, AdminBody b)
    {
        var q = http.Request.Query;
        var start = QueryDate(q, "start_date", b);
        var end = QueryDate(q, "end_date", b);
        if (await InvalidAsync(http, b)) return;
        // Rows queued but not yet written are part of the answer: the admin sees every call that was answered.
        await governance.Writer.FlushAsync();
        var key = q["api_key"].ToString() is { Length: > 0 } k ? VirtualKeys.TokenOf(k) : null;
        var rows = await Store.SpendLogsAsync(new SpendQuery(key, Opt(q, "user_id"), Opt(q, "team_id"), Opt(q, "request_id"), start, end?.AddDays(1)));
        await JsonAsync(http, w =>
        {
            w.WriteStartArray();
            foreach (var r in rows) AdminJson.SpendRow(w, r);
            w.WriteEndArray();
        });
    }

    /// <summary>
    /// LiteLLM's <c>/global/spend/report</c>: per day, per team (or end user) with each model and key's spend; or, given
    /// <c>api_key</c> / <c>internal_user_id</c> (or <c>group_by=api_key</c>), per key with each model's cost and tokens.
    /// </summary>
    private async Task SpendReportAsync(HttpContext http, AdminBody b)
    {
        var q = http.Request.Query;
        var start = QueryDate(q, "start_date", b);
        var end = QueryDate(q, "end_date", b);
        var groupBy = q["group_by"].ToString() switch
        {
            "" or "team" => SpendGroup.Team,
            "customer" => SpendGroup.Customer,
            "api_key" => SpendGroup.ApiKey,
            var other => Invalid(b, $"`group_by` must be team, customer or api_key, not `{other}`"),
        };
        if (b.Problems.Count == 0 && (start is null || end is null)) b.Problems.Add("Please provide start_date and end_date");
        if (await InvalidAsync(http, b)) return;
        await governance.Writer.FlushAsync();
        var key = q["api_key"].ToString() is { Length: > 0 } k ? VirtualKeys.TokenOf(k) : null;
        var user = Opt(q, "internal_user_id");
        var perKey = key is not null || user is not null || groupBy == SpendGroup.ApiKey;
        var rows = await Store.SpendReportAsync(new SpendReportQuery(start!.Value, end!.Value.AddDays(1), perKey ? SpendGroup.ApiKey : groupBy, key, user, Opt(q, "team_id"), Opt(q, "customer_id")));
        await JsonAsync(http, w =>
        {
            w.WriteStartArray();
            if (perKey) AdminJson.SpendReportPerKey(w, rows);
            else AdminJson.SpendReportPerDay(w, rows, groupBy == SpendGroup.Team ? "teams" : "customers", groupBy == SpendGroup.Team ? "team_name" : "customer");
            w.WriteEndArray();
        });

        static SpendGroup Invalid(AdminBody b, string problem)
        {
            b.Problems.Add(problem);
            return SpendGroup.Team;
        }
    }

    // ---- helpers ----

    /// <summary>The entity's spend now (every replica's answers when Redis is shared), not the store's batched figure.</summary>
    private async Task<decimal> LiveSpendAsync(BudgetScope scope, string id, decimal stored, string? duration, DateTimeOffset? resetAt) =>
        (await governance.SpendOfAsync([new GovernanceService.Budget(scope, id, stored, null, duration, resetAt, "", null)]))[0];

    private static string? ChangedBy(HttpContext http) => http.Request.Headers["litellm-changed-by"].ToString() is { Length: > 0 } by ? by : null;

    private static string? Opt(IQueryCollection q, string name) => q[name].ToString() is { Length: > 0 } v ? v : null;

    private static int QueryInt(IQueryCollection q, string name, int fallback, int min, int max, AdminBody b)
    {
        var s = q[name].ToString();
        if (s.Length == 0) return fallback;
        if (int.TryParse(s, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var v) && v >= min && v <= max) return v;
        b.Problems.Add($"`{name}` must be an integer from {min} to {max}");
        return fallback;
    }

    private static DateTimeOffset? QueryDate(IQueryCollection q, string name, AdminBody b)
    {
        var s = q[name].ToString();
        if (s.Length == 0) return null;
        if (DateTimeOffset.TryParseExact(s, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var d)) return d;
        b.Problems.Add($"`{name}` must be a date as YYYY-MM-DD");
        return null;
    }

    private static async Task<bool> InvalidAsync(HttpContext http, AdminBody b)
    {
        if (b.Problems.Count == 0) return false;
        await ErrorAsync(http, new LlmError { Kind = ErrorKind.InvalidRequest, Message = "invalid request: " + string.Join("; ", b.Problems) + ". Nothing was changed." });
        return true;
    }

    private static Task BadRequestAsync(HttpContext http, string message, string? param) =>
        ErrorAsync(http, new LlmError { Kind = ErrorKind.InvalidRequest, Message = message, Param = param });

    private static Task NotFoundAsync(HttpContext http, string message) =>
        ErrorAsync(http, new LlmError { Kind = ErrorKind.NotFound, Message = message, Code = "404" });

    private static Task ErrorAsync(HttpContext http, LlmError error) => LLMux.Host.Endpoints.ResponseWriter.WriteErrorAsync(http, null, error);

    /// <summary>LiteLLM's answer to a delete: <c>{"deleted_keys": [...]}</c> and its team, user and customer forms.</summary>
    private static Task DeletedAsync(HttpContext http, string property, IReadOnlyList<string> ids) => JsonAsync(http, w =>
    {
        w.WriteStartObject();
        w.WriteStartArray(property);
        foreach (var id in ids) w.WriteStringValue(id);
        w.WriteEndArray();
        w.WriteEndObject();
    });

    private static async Task JsonAsync(HttpContext http, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer)) write(w);
        http.Response.StatusCode = 200;
        http.Response.ContentType = "application/json";
        http.Response.ContentLength = buffer.WrittenCount;
        await http.Response.Body.WriteAsync(buffer.WrittenMemory, http.RequestAborted);
    }
}
