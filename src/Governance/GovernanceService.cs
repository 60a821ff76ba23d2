using LLMux.Governance.Auth;
using LLMux.Governance.Budgets;
using LLMux.Governance.Entities;
using LLMux.Governance.Keys;
using LLMux.Governance.Limits;
using LLMux.Governance.Shared;
using LLMux.Governance.Spend;
using LLMux.Governance.Storage;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;

namespace LLMux.Governance;

/// <summary>
/// Virtual keys, teams and users in one place for the host: authentication (master key or virtual key), the key
/// cache and its eviction, live spend, rate limits and the spend writer. One per process. With a
/// <see cref="RedisLink"/> the replicas share rate-limit counters, parallel slots, live spend and cache
/// invalidation; whenever Redis does not answer, each decision is made on this replica's own counters instead
/// (a warning and a metric, never an error).
/// </summary>
public sealed partial class GovernanceService : IAsyncDisposable
{
    // The configured master key's hash, and the one in force (another after a rotation: MasterKeyRotation).
    private readonly string _configuredMasterHash;
    private volatile string _masterHash;
    private readonly KeyHashes _hashes = new();

    public GovernanceService(IGovernanceStore store, GovernanceOptions options, TimeProvider time, RedisLink? shared = null)
    {
        Store = store;
        Options = options;
        Time = time;
        _configuredMasterHash = _masterHash = VirtualKeys.Hash(options.MasterKey.Reveal());
        Cache = new KeyCache(time, options.KeyCacheTtl);
        Limiter = new RateLimiter(time);
        Ledger = new SpendLedger(time);
        Writer = new SpendWriter(store, time, spillDirectory: options.SpillDirectory);
        Shared = shared;
        if (shared is not null)
        {
            SharedLimiter = new RedisRateLimiter(shared, time);
            SharedSpend = new RedisSpendCounters(shared);
            Invalidation = new RedisInvalidation(shared);
            Cache.Evicted = Invalidation.Publish;
        }
    }

    public IGovernanceStore Store { get; }
    public GovernanceOptions Options { get; }
    public TimeProvider Time { get; }
    public KeyCache Cache { get; }
    public RateLimiter Limiter { get; }
    public SpendLedger Ledger { get; }
    public SpendWriter Writer { get; }
    public RedisLink? Shared { get; }
    public RedisRateLimiter? SharedLimiter { get; }
    public RedisSpendCounters? SharedSpend { get; }
    public RedisInvalidation? Invalidation { get; }

    /// <summary>The hash of the master key in force: the configured one, unless a rotation replaced it.</summary>
    public string MasterKeyHash => _masterHash;

    /// <summary>
    /// The deployments a public model name routes to (the host sets it once at start, from its registry): lets a
    /// <c>model_max_budget</c> on an upstream model name (<c>gpt-4o</c>) hold for the groups that serve it. Null
    /// matches budgets by the public names only.
    /// </summary>
    public Func<string, IReadOnlyList<LLMux.Pipeline.Context.Deployment>?>? DeploymentsOf { get; set; }

    /// <summary>
    /// Whether a public model name has a deployment failing now: more than <see cref="DynamicLimitFailures"/> failures
    /// this minute on this replica (the host sets it from its router, as LiteLLM reads its router's counts). Keys whose
    /// limits are <c>dynamic</c> are held to them only then. Null: never failing, so dynamic limits never hold.
    /// </summary>
    public Func<string, bool>? ModelFailing { get; set; }

    /// <summary>LiteLLM's <c>DYNAMIC_RATE_LIMIT_ERROR_THRESHOLD_PER_MINUTE</c> (default 1): failures of one deployment in a minute that a model may have before dynamic limits hold.</summary>
    public int DynamicLimitFailures { get; set; } = 1;

    /// <summary>
    /// Reads the master key's rotation, and subscribes to the other replicas' evictions (once, at start). A rotation made
    /// on another replica arrives through Redis at once, and is read again every key-cache TTL in any case.
    /// </summary>
    public async Task StartAsync()
    {
        // Subscribed first, read then: a rotation made in between is not missed.
        await SubscribeAsync().ConfigureAwait(false);
        await RefreshMasterKeyAsync().ConfigureAwait(false);
        _masterRefresh ??= Time.CreateTimer(static s => _ = ((GovernanceService)s!).RefreshMasterKeyAsync(), this, MasterRefreshPeriod, MasterRefreshPeriod);
    }

    private async Task SubscribeAsync()
    {
        if (Invalidation is null) return;
        try
        {
            await Invalidation.SubscribeAsync((kind, id) =>
            {
                if (kind == MasterKeyRotation.Setting) _ = RotatedElsewhereAsync();
                else if (kind == "customer") ForgetCustomer(id);
                else if (kind == "budget") { _budgetRows.TryRemove(id, out _); Cache.EvictLocal(kind, id); }
                else Cache.EvictLocal(kind, id);
            }).ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisLink.IsOutage(ex))
        {
            Shared!.FellBack(ex);
        }
    }

    /// <summary>
    /// Who presents <paramref name="presented"/>: the master key (admin), a valid virtual key, or the error to answer
    /// (LiteLLM's statuses). Synchronous wrapper of <see cref="AuthenticateAsync"/> for hosts without an async path.
    /// </summary>
    public Caller? Authenticate(string? presented, out LlmError? error)
    {
        var pending = AuthenticateAsync(presented);
        var (caller, e) = pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
        error = e;
        return caller;
    }

    /// <summary>
    /// As <see cref="Authenticate"/>. Warm path: one SHA-256 and one dictionary read, completing synchronously; a cache
    /// miss reads the store asynchronously (no thread waits on PostgreSQL). A key regenerated with a
    /// <c>grace_period</c> authenticates as the new key (its limits, budgets and spend) until the grace ends.
    /// </summary>
    private Caller? _masterCaller;

    public ValueTask<(Caller? Caller, LlmError? Error)> AuthenticateAsync(string? presented, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(presented)) return new((null, GovernanceErrors.NoKey()));
        var hash = _hashes.HashOf(presented);
        if (VirtualKeys.SameHash(hash, _masterHash))
        {
            // Rebuilt when the master key in force changed, so calls are never recorded under a replaced key's hash.
            var master = _masterCaller;
            if (master is null || master.KeyHash != hash) _masterCaller = master = new Caller { KeyHash = hash, IsAdmin = true };
            return new((master, null));
        }
        if (!presented.StartsWith(VirtualKeys.Prefix, StringComparison.Ordinal)) return new((null, GovernanceErrors.NotVirtualKey(VirtualKeys.Masked(presented))));
        if (Cache.TryGet(hash, out var cached)) return new(Check(presented, hash, hash, cached));
        // A regenerated key in its grace period: it authenticates as the key that replaced it.
        if (Cache.TryGetSuccessor(hash, Time.GetUtcNow(), out var successor))
        {
            var active = GrantAsync(successor.ActiveToken, cancellationToken);
            if (active.IsCompletedSuccessfully) return new(Check(presented, hash, successor.ActiveToken, active.Result));
        }
        if (Cache.IsUnknown(hash)) return new(Check(presented, hash, hash, null));
        return LoadAndCheckAsync(presented, hash, cancellationToken);
    }

    /// <summary>The key cache missed: the key from the store, else the grace row of a regenerated key and the key it points at.</summary>
    private async ValueTask<(Caller?, LlmError?)> LoadAndCheckAsync(string presented, string hash, CancellationToken cancellationToken)
    {
        var since = Cache.Generation;
        KeyGrant? grant;
        try
        {
            grant = await GrantAsync(hash, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStoreOutage(ex) && Cache.TryGetSuccessor(hash, Time.GetUtcNow(), out var known, stale: true))
        {
            // The database is away and this is an old key this replica knew in its grace: it keeps it (ending on time).
            StoreOutages++;
            return Check(presented, hash, known.ActiveToken, await GrantAsync(known.ActiveToken, cancellationToken).ConfigureAwait(false));
        }
        if (grant is not null) return Check(presented, hash, hash, grant);
        var (successor, answered) = await SuccessorAsync(hash, cancellationToken).ConfigureAwait(false);
        if (successor is null)
        {
            // Only the store's own "no" is remembered, never a lookup the outage answered.
            if (answered) Cache.PutUnknown(hash, since);
            return Check(presented, hash, hash, null);
        }
        return Check(presented, hash, successor.ActiveToken, await GrantAsync(successor.ActiveToken, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>The key an old key hash stands for in its grace period; <c>Answered</c> is false when the store was away.</summary>
    private async ValueTask<(DeprecatedKey? Key, bool Answered)> SuccessorAsync(string hash, CancellationToken cancellationToken)
    {
        var now = Time.GetUtcNow();
        if (Cache.TryGetSuccessor(hash, now, out var cached)) return (cached, true);
        var since = Cache.Generation;
        DeprecatedKey? found;
        try
        {
            found = await Store.FindDeprecatedKeyAsync(hash, now, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStoreOutage(ex))
        {
            // The database is away: an old key this replica knew keeps its grace, which still ends on time.
            StoreOutages++;
            return (Cache.TryGetSuccessor(hash, now, out var stale, stale: true) ? stale : null, false);
        }
        if (found is not null) Cache.PutSuccessor(found, since);
        return (found, true);
    }

    /// <summary>
    /// <paramref name="presentedHash"/> is the hash of what the caller sent; <paramref name="token"/> the key it
    /// authenticates as (the same, or the key that replaced a regenerated one in its grace period).
    /// </summary>
    private (Caller?, LlmError?) Check(string presented, string presentedHash, string token, KeyGrant? grant)
    {
        if (grant is null || !VirtualKeys.SameHash(grant.Key.Token, token)) return (null, GovernanceErrors.UnknownKey(VirtualKeys.NameOf(presented)));
        // Only keys that exist are remembered, so unknown keys sent at random cannot grow the table. An old key is
        // remembered with its own hash, so that its grace is looked up (and ends) every time.
        _hashes.Remember(presented, presentedHash);
        var key = grant.Key;
        if (key.Blocked) return (null, GovernanceErrors.KeyBlocked());
        var now = Time.GetUtcNow();
        if (key.Expires is { } exp && exp <= now) return (null, GovernanceErrors.Expired(exp, now));
        if (grant.Team is { Blocked: true } team) return (null, GovernanceErrors.TeamBlocked(team.TeamId));
        return (grant.Caller, null);
    }

    /// <summary>Whether the caller's key and team may call <paramref name="model"/> (the filter of <c>/v1/models</c> and <c>/model/info</c>).</summary>
    /// <remarks>With <paramref name="alias"/> (the name the caller sends for <paramref name="model"/>), the rule of a call made by that alias.</remarks>
    public bool MayCall(Caller caller, string model, string? alias = null)
    {
        if (caller.IsAdmin) return true;
        if (Grant(caller.KeyHash) is not { } grant) return false;
        return GovernanceStage.Denies(grant, model, alias) is null;
    }

    /// <summary>The key with its team and user, from the cache or the store; null when the key does not exist.</summary>
    public KeyGrant? Grant(string token)
    {
        var pending = GrantAsync(token);
        return pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>As <see cref="Grant"/>, completing synchronously on a cache hit.</summary>
    public ValueTask<KeyGrant?> GrantAsync(string token, CancellationToken cancellationToken = default) =>
        Cache.TryGet(token, out var cached) ? new(cached) : LoadGrantAsync(token, cancellationToken);

    private async ValueTask<KeyGrant?> LoadGrantAsync(string token, CancellationToken cancellationToken)
    {
        var since = Cache.Generation;
        VirtualKey? key;
        Team? team;
        InternalUser? user;
        try
        {
            key = await Store.FindKeyAsync(token, cancellationToken).ConfigureAwait(false);
            if (key is null) return null;
            team = key.TeamId is { } t ? await Store.FindTeamAsync(t, cancellationToken).ConfigureAwait(false) : null;
            user = key.UserId is { } u ? await Store.FindUserAsync(u, cancellationToken).ConfigureAwait(false) : null;
            if (key.BudgetId is { } linked) key = LinkedBudgets.Fill(key, await BudgetRowAsync(linked, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception ex) when (IsStoreOutage(ex) && Cache.TryGetStale(token, out var stale))
        {
            // The database is away: a key this replica knew keeps its last known grant until the store answers.
            StoreOutages++;
            return stale;
        }
        var grant = new KeyGrant(key, team, user, Time.GetTimestamp());
        Cache.Put(token, grant, since);
        return grant;
    }

    /// <summary>Lookups answered from a stale grant because the store did not answer (tests, diagnostics).</summary>
    public long StoreOutages { get; private set; }

    internal static bool IsStoreOutage(Exception ex) =>
        ex is System.Data.Common.DbException or TimeoutException or IOException or System.Net.Sockets.SocketException
        || (ex is InvalidOperationException && ex.InnerException is not null);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (Customer? Customer, long LoadedAt)> _customers = new(StringComparer.Ordinal);

    /// <summary>The end user named by a request's <c>user</c> field, if the admin created one (cached, absent ones too).</summary>
    public ValueTask<Customer?> CustomerOfAsync(string userId, CancellationToken cancellationToken = default)
    {
        if (_customers.TryGetValue(userId, out var c) && Time.GetElapsedTime(c.LoadedAt) < Options.KeyCacheTtl) return new(c.Customer);
        return LoadCustomerAsync(userId, cancellationToken);
    }

    // As KeyCache.Generation, for the end-user cache: an answer read before an eviction is not cached after it.
    private long _customerEvictions;

    private async ValueTask<Customer?> LoadCustomerAsync(string userId, CancellationToken cancellationToken)
    {
        var since = Interlocked.Read(ref _customerEvictions);
        Customer? customer;
        try
        {
            customer = await Store.FindCustomerAsync(userId, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStoreOutage(ex) && _customers.TryGetValue(userId, out var stale))
        {
            return stale.Customer;
        }
        // Bounded: a flood of distinct end-user ids must not grow the cache without end.
        if (_customers.Count > 100_000) _customers.Clear();
        var entry = (customer, Time.GetTimestamp());
        _customers[userId] = entry;
        if (Interlocked.Read(ref _customerEvictions) != since) _customers.TryRemove(KeyValuePair.Create(userId, entry));
        return customer;
    }

    public void EvictCustomer(string userId)
    {
        ForgetCustomer(userId);
        Invalidation?.Publish("customer", userId);
    }

    private void ForgetCustomer(string userId)
    {
        Interlocked.Increment(ref _customerEvictions);
        _customers.TryRemove(userId, out _);
    }

    /// <summary>Admits a call under its key's and team's limits: in Redis when it answers, else on local counters.</summary>
    /// <remarks><paramref name="extra"/>: the end user's and per-model descriptors, counted in the same admission.</remarks>
    public async ValueTask<(RateLease? Lease, LlmError? Refusal)> AdmitAsync(string keyToken, RateLimits keyLimits, string? teamId, RateLimits teamLimits, long estimatedTokens, IReadOnlyList<RateDescriptor>? extra = null)
    {
        if (SharedLimiter is not null && (keyLimits.Any || (teamId is not null && teamLimits.Any) || extra is { Count: > 0 }))
        {
            if (Shared!.Available)
            {
                try
                {
                    return await SharedLimiter.TryAdmitAsync(keyToken, keyLimits, teamId, teamLimits, estimatedTokens, extra).ConfigureAwait(false);
                }
                catch (Exception ex) when (RedisLink.IsOutage(ex))
                {
                    Shared.FellBack(ex);
                }
            }
            else Shared.FellBack(null);
        }
        var lease = Limiter.TryAdmit(keyToken, keyLimits, teamId, teamLimits, extra, estimatedTokens, out var refusal);
        return (lease, refusal);
    }

    /// <summary>
    /// Checks the call's budgets, then admits it under its key's and team's limits. With Redis both happen in one
    /// script (one round trip; a call over budget counts against no limit); without, or when Redis is away, on this
    /// replica's ledger and counters.
    /// </summary>
    public ValueTask<(RateLease? Lease, LlmError? Refusal)> AdmitWithinBudgetsAsync(IReadOnlyList<Budget> budgets, string keyToken, RateLimits keyLimits, string? teamId, RateLimits teamLimits, long estimatedTokens, IReadOnlyList<RateDescriptor>? extra = null)
    {
        var limited = keyLimits.Any || (teamId is not null && teamLimits.Any) || extra is { Count: > 0 };
        var capped = 0;
        for (var i = 0; i < budgets.Count; i++) if (budgets[i].MaxBudget is not null) capped++;
        if (SharedLimiter is null || SharedSpend is null || !limited || capped == 0 || !Shared!.Available)
            return CheckThenAdmitAsync(budgets, keyToken, keyLimits, teamId, teamLimits, estimatedTokens, extra);
        // Only budgets with a limit are read before the call; the others' counters are added to after it.
        var counters = new RedisSpendCounters.Counter[capped];
        var max = new decimal?[capped];
        for (int i = 0, j = 0; i < budgets.Count; i++)
        {
            var b = budgets[i];
            Ledger.Current(b.Scope, b.Id, b.StoredSpend, b.Duration, b.ResetAt, out var reset, out var end, out var seed);
            if (reset is { } r) Writer.EnqueueReset(b.Scope, b.Id, r.Due, r.Next);
            if (b.MaxBudget is null) continue;
            counters[j] = new(b.Scope, b.Id, seed, end);
            max[j++] = b.MaxBudget;
        }
        var pending = SharedLimiter.Prepare(keyToken, keyLimits, teamId, teamLimits, estimatedTokens, SharedSpend.Prepare(counters, max, Time.GetUtcNow()), extra)!;
        Task<StackExchange.Redis.RedisResult> sent;
        try
        {
            sent = SharedLimiter.Send(pending);
        }
        catch (Exception ex) when (RedisLink.IsOutage(ex))
        {
            Shared.FellBack(ex);
            return new(AdmitLocally(budgets, keyToken, keyLimits, teamId, teamLimits, estimatedTokens, extra));
        }
        return AnsweredAsync(sent, pending, budgets, keyToken, keyLimits, teamId, teamLimits, estimatedTokens, extra);
    }

    // The admission's answer (one state machine per call; the budgets' and limits' arrays were made before it).
    private async ValueTask<(RateLease? Lease, LlmError? Refusal)> AnsweredAsync(Task<StackExchange.Redis.RedisResult> sent, RedisLease pending, IReadOnlyList<Budget> budgets, string keyToken, RateLimits keyLimits, string? teamId, RateLimits teamLimits, long estimatedTokens, IReadOnlyList<RateDescriptor>? extra)
    {
        try
        {
            var (lease, refusal, overAt, spend) = SharedLimiter!.Interpret(pending, await sent.ConfigureAwait(false));
            if (overAt < 0) return (lease, refusal);
            for (var i = 0; i < budgets.Count; i++)
            {
                if (budgets[i].MaxBudget is null || overAt-- > 0) continue;
                var b = budgets[i];
                return (null, GovernanceErrors.BudgetExceeded(b.Name, b.ShownId, spend, b.MaxBudget!.Value));
            }
            throw new InvalidOperationException("The admission script named a budget the call does not have.");
        }
        catch (Exception ex) when (RedisLink.IsOutage(ex))
        {
            Shared!.FellBack(ex);
        }
        return AdmitLocally(budgets, keyToken, keyLimits, teamId, teamLimits, estimatedTokens, extra);
    }

    private (RateLease? Lease, LlmError? Refusal) AdmitLocally(IReadOnlyList<Budget> budgets, string keyToken, RateLimits keyLimits, string? teamId, RateLimits teamLimits, long estimatedTokens, IReadOnlyList<RateDescriptor>? extra)
    {
        if (CheckLocal(budgets) is { } localOver) return (null, localOver);
        var local = Limiter.TryAdmit(keyToken, keyLimits, teamId, teamLimits, extra, estimatedTokens, out var localRefusal);
        return (local, localRefusal);
    }

    private async ValueTask<(RateLease? Lease, LlmError? Refusal)> CheckThenAdmitAsync(IReadOnlyList<Budget> budgets, string keyToken, RateLimits keyLimits, string? teamId, RateLimits teamLimits, long estimatedTokens, IReadOnlyList<RateDescriptor>? extra)
    {
        if (await CheckBudgetsAsync(budgets).ConfigureAwait(false) is { } over) return (null, over);
        return await AdmitAsync(keyToken, keyLimits, teamId, teamLimits, estimatedTokens, extra).ConfigureAwait(false);
    }

    /// <summary>One budget that applies to a call: the entity, its stored spend and its limit.</summary>
    public readonly record struct Budget(BudgetScope Scope, string Id, decimal StoredSpend, decimal? MaxBudget, string? Duration, DateTimeOffset? ResetAt, string Name, string? ShownId, decimal? SoftBudget = null);

    /// <summary>
    /// Raised once when an entity's spend crosses its <c>soft_budget</c> (which never refuses a call): on the replica
    /// whose answer crossed it (atomic in Redis, so once across replicas). Also counted in
    /// <c>llmux.governance.soft_budget_alerts</c>.
    /// </summary>
    public event Action<SoftBudgetAlert>? SoftBudgetCrossed;

    private void Crossed(in Budget b, decimal before, decimal after)
    {
        if (b.SoftBudget is not { } soft || before >= soft || after < soft) return;
        SoftBudgetAlerts.Add(1, new KeyValuePair<string, object?>("scope", b.Name));
        SoftBudgetCrossed?.Invoke(new SoftBudgetAlert(b.Scope, b.ShownId ?? b.Id, after, soft, b.MaxBudget));
    }

    private static readonly System.Diagnostics.Metrics.Counter<long> SoftBudgetAlerts = LLMux.Stages.Telemetry.LLMuxTelemetry.Meter.CreateCounter<long>(
        "llmux.governance.soft_budget_alerts", "{alert}", "Soft budgets crossed (a key, team, user or end user whose spend reached its soft_budget).");

    /// <summary>
    /// The first budget already reached (spend ≥ max_budget, LiteLLM's rule), or null. The spend is Redis's shared
    /// counter when it answers (every replica's answers so far), else this replica's ledger. Window ends roll here.
    /// </summary>
    public ValueTask<LlmError?> CheckBudgetsAsync(IReadOnlyList<Budget> budgets)
    {
        if (budgets.Count == 0) return default;
        return SharedSpend is null ? new(CheckLocal(budgets)) : CheckSharedAsync(budgets);
    }

    /// <summary>Without Redis: the ledger only, no arrays, synchronous.</summary>
    private LlmError? CheckLocal(IReadOnlyList<Budget> budgets)
    {
        for (var i = 0; i < budgets.Count; i++)
        {
            var b = budgets[i];
            var spend = Ledger.Current(b.Scope, b.Id, b.StoredSpend, b.Duration, b.ResetAt, out var reset);
            if (reset is { } r) Writer.EnqueueReset(b.Scope, b.Id, r.Due, r.Next);
            if (b.MaxBudget is { } m && spend >= m) return GovernanceErrors.BudgetExceeded(b.Name, b.ShownId, spend, m);
        }
        return null;
    }

    private async ValueTask<LlmError?> CheckSharedAsync(IReadOnlyList<Budget> budgets)
    {
        var spend = await SpendOfAsync(budgets).ConfigureAwait(false);
        for (var i = 0; i < budgets.Count; i++)
        {
            var b = budgets[i];
            if (b.MaxBudget is { } m && spend[i] >= m) return GovernanceErrors.BudgetExceeded(b.Name, b.ShownId, spend[i], m);
        }
        return null;
    }

    /// <summary>Each entity's spend in its current window: Redis's shared counter when it answers, else this replica's ledger.</summary>
    public async ValueTask<decimal[]> SpendOfAsync(IReadOnlyList<Budget> budgets)
    {
        var local = new decimal[budgets.Count];
        var ends = new DateTimeOffset?[budgets.Count];
        var seeds = SharedSpend is null ? null : new decimal[budgets.Count];
        for (var i = 0; i < budgets.Count; i++)
        {
            var b = budgets[i];
            local[i] = Ledger.Current(b.Scope, b.Id, b.StoredSpend, b.Duration, b.ResetAt, out var reset, out ends[i], out var seed);
            if (seeds is not null) seeds[i] = seed;
            if (reset is { } r) Writer.EnqueueReset(b.Scope, b.Id, r.Due, r.Next);
        }
        if (SharedSpend is null || budgets.Count == 0) return local;
        if (!Shared!.Available)
        {
            Shared.FellBack(null);
            return local;
        }
        try
        {
            var counters = new RedisSpendCounters.Counter[budgets.Count];
            for (var i = 0; i < counters.Length; i++) counters[i] = new(budgets[i].Scope, budgets[i].Id, seeds![i], ends[i]);
            return await SharedSpend.ReadAsync(counters, Time.GetUtcNow()).ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisLink.IsOutage(ex))
        {
            Shared.FellBack(ex);
            return local;
        }
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(BudgetScope Scope, string Id, DateTimeOffset? End), decimal> _modelSeeds = new();

    /// <summary>
    /// A key's budget on the called model (<c>model_max_budget</c>), in its current window. Its spend lives in the
    /// spend logs only: the first call of a window on this replica sums them once (the seed), then the ledger and the
    /// shared counters carry it, like every other budget. <paramref name="loggedAs"/> is the model name the spend logs
    /// record for the entry's calls (an alias's target), when it is not the entry's own name.
    /// </summary>
    public ValueTask<Budget> ModelBudgetAsync(VirtualKey key, string model, ModelBudget budget, string? loggedAs = null) =>
        ModelBudgetAsync(BudgetScope.KeyModel, key.Token, key.CreatedAt, model, budget, loggedAs);

    /// <summary>
    /// As the key's, for a team's (<see cref="BudgetScope.TeamModel"/>) or a user's (<see cref="BudgetScope.UserModel"/>)
    /// <c>model_max_budget</c>: the spend of all its keys on the model; windows step from the owner's creation.
    /// </summary>
    public async ValueTask<Budget> ModelBudgetAsync(BudgetScope scope, string ownerId, DateTimeOffset anchor, string model, ModelBudget budget, string? loggedAs = null)
    {
        var window = budget.WindowAt(anchor, Time.GetUtcNow());
        var id = ownerId + ":" + model;
        var end = window?.End;
        if (!_modelSeeds.TryGetValue((scope, id, end), out var seed))
        {
            try
            {
                var owner = scope switch { BudgetScope.TeamModel => BudgetScope.Team, BudgetScope.UserModel => BudgetScope.User, BudgetScope.CustomerModel => BudgetScope.Customer, _ => BudgetScope.Key };
                seed = owner == BudgetScope.Key
                    ? await Store.KeyModelSpendAsync(ownerId, loggedAs ?? model, window?.Start).ConfigureAwait(false)
                    : await Store.ModelSpendAsync(owner, ownerId, loggedAs ?? model, window?.Start).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsStoreOutage(ex))
            {
                // The database is away: this window starts from what this replica (and Redis) counted.
                seed = 0;
            }
            if (_modelSeeds.Count > 100_000) _modelSeeds.Clear();
            _modelSeeds[(scope, id, end)] = seed;
        }
        var name = scope switch { BudgetScope.TeamModel => "team model", BudgetScope.UserModel => "user model", BudgetScope.CustomerModel => "customer model", _ => "model" };
        return new Budget(scope, id, seed, budget.MaxBudget, budget.Duration, end, name, scope == BudgetScope.KeyModel ? model : ownerId + ", model=" + model);
    }

    /// <summary>The admin changed or removed a key's per-model budgets: the next call reseeds them.</summary>
    public void ForgetModelBudgets(VirtualKey key) => ForgetModelBudgets(BudgetScope.KeyModel, key.Token, key.ModelMaxBudget);

    /// <summary>The admin changed or removed a key's, team's or user's per-model budgets: the next call reseeds them.</summary>
    public void ForgetModelBudgets(BudgetScope scope, string ownerId, IReadOnlyDictionary<string, ModelBudget> budgets)
    {
        foreach (var model in budgets.Keys) Ledger.Forget(scope, ownerId + ":" + model);
        foreach (var k in _modelSeeds.Keys) if (k.Scope == scope && k.Id.StartsWith(ownerId + ":", StringComparison.Ordinal)) _modelSeeds.TryRemove(k, out _);
    }

    /// <summary>A priced answer: added to this replica's ledger, and to the shared counters at once (not awaited on the request path).</summary>
    public void AddSpend(IReadOnlyList<Budget> budgets, decimal cost) => _ = Settle(budgets, cost, null, 0);

    /// <summary>
    /// A finished call: its lease finished with its real tokens, its price added to this replica's ledger and to the
    /// shared counters. With Redis the slots, the token correction and the spend go in one round trip, awaited only
    /// when a soft budget could be crossed (its alert needs the counters' new values). Returns a task when the call has
    /// a max budget: its answer should go out only once its spend is in the shared counters, so that the client's next
    /// call, on any replica, sees it (null otherwise, and without Redis).
    /// </summary>
    public Task? Settle(IReadOnlyList<Budget> budgets, decimal cost, RateLease? lease, long tokens)
    {
        if (cost != 0)
            foreach (var b in budgets)
            {
                var after = Ledger.Add(b.Scope, b.Id, cost);
                // Alerts come from the shared counters when there are some (one crossing across replicas).
                if (SharedSpend is null && after is { } a) Crossed(b, a - cost, a);
            }
        if (SharedSpend is null || budgets.Count == 0 || cost == 0)
        {
            lease?.Finish(tokens);
            return null;
        }
        var counters = new RedisSpendCounters.Counter[budgets.Count];
        bool soft = false, capped = false;
        for (var i = 0; i < counters.Length; i++)
        {
            var b = budgets[i];
            Ledger.Current(b.Scope, b.Id, b.StoredSpend, b.Duration, b.ResetAt, out var reset, out var end, out var seed);
            if (reset is { } r) Writer.EnqueueReset(b.Scope, b.Id, r.Due, r.Next);
            counters[i] = new(b.Scope, b.Id, seed, end);
            soft |= b.SoftBudget is not null;
            capped |= b.MaxBudget is not null;
        }
        if (lease is RedisLease shared && Shared!.Available && shared.FinishWith(tokens) is { } finishing)
        {
            var add = SharedSpend.PrepareAdd(counters, cost, Time.GetUtcNow());
            if (!soft && !capped)
            {
                SharedLimiter!.Finish(finishing, add, awaited: false);
                return null;
            }
            var finished = FinishSharedAsync(budgets, finishing, add, cost);
            return capped ? finished : null;
        }
        lease?.Finish(tokens);
        var added = AddSharedAsync(budgets, counters, cost);
        return capped ? added : null;
    }

    private async Task FinishSharedAsync(IReadOnlyList<Budget> budgets, RedisRateLimiter.Finishing finishing, RedisSpendCounters.BudgetedRead add, decimal cost)
    {
        try
        {
            var after = RedisSpendCounters.Values(await SharedLimiter!.Finish(finishing, add, awaited: true).ConfigureAwait(false));
            for (var i = 0; i < after.Length; i++) Crossed(budgets[i], after[i] - cost, after[i]);
        }
        catch (Exception ex) when (RedisLink.IsOutage(ex))
        {
            Shared!.FellBack(ex);
        }
    }

    private async Task AddSharedAsync(IReadOnlyList<Budget> budgets, RedisSpendCounters.Counter[] counters, decimal cost)
    {
        if (!Shared!.Available) { Shared.FellBack(null); return; }
        try
        {
            var after = await SharedSpend!.AddAsync(counters, cost, Time.GetUtcNow()).ConfigureAwait(false);
            for (var i = 0; i < after.Length; i++) Crossed(budgets[i], after[i] - cost, after[i]);
        }
        catch (Exception ex) when (RedisLink.IsOutage(ex))
        {
            Shared.FellBack(ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        SharedLimiter?.Dispose();
        _masterRefresh?.Dispose();
        await Writer.DisposeAsync().ConfigureAwait(false);
    }
}
