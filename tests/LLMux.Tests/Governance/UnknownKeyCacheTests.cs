using System.Reflection;
using LLMux.Governance;
using LLMux.Governance.Entities;
using LLMux.Governance.Keys;
using LLMux.Governance.Storage;
using LLMux.Governance.Storage.Sqlite;
using LLMux.Pipeline.Context;
using Microsoft.Extensions.Time.Testing;

namespace LLMux.Tests.Governance;

/// <summary>
/// A key the store does not know is looked up once per cache TTL, not once per request (a client stuck on a wrong or
/// revoked key must not become a database load), and a key created since is let in at once on the replica that made it.
/// </summary>
public sealed class UnknownKeyCacheTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private SqliteGovernanceStore _inner = null!;
    private CountingStore _counts = null!;
    private GovernanceService _governance = null!;

    public async Task InitializeAsync()
    {
        _inner = SqliteGovernanceStore.InMemory();
        await _inner.MigrateAsync();
        var store = DispatchProxy.Create<IGovernanceStore, CountingStore>();
        _counts = (CountingStore)(object)store;
        _counts.Inner = _inner;
        _governance = new GovernanceService(store, new GovernanceOptions { MasterKey = new Secret("sk-master"), KeyCacheTtl = TimeSpan.FromSeconds(10) }, _time);
    }

    public async Task DisposeAsync()
    {
        await _governance.DisposeAsync();
        _inner.Dispose();
    }

    [Fact]
    public async Task An_unknown_key_costs_one_pair_of_lookups_per_ttl_and_a_created_key_is_let_in_at_once()
    {
        const string raw = "sk-not-a-key-yet-0123456789";
        for (var i = 0; i < 5; i++)
        {
            var (caller, error) = await _governance.AuthenticateAsync(raw);
            Assert.Null(caller);
            Assert.Equal(401, error!.HttpStatus);
        }
        Assert.Equal(1, _counts.Calls("FindKeyAsync"));
        Assert.Equal(1, _counts.Calls("FindDeprecatedKeyAsync"));

        // After the TTL the store is asked again.
        _time.Advance(TimeSpan.FromSeconds(11));
        Assert.Null((await _governance.AuthenticateAsync(raw)).Caller);
        Assert.Equal(2, _counts.Calls("FindKeyAsync"));

        // The key is created (as /key/generate does: store, then eviction): the next call passes, without waiting out the TTL.
        var now = _time.GetUtcNow();
        Assert.True(await _inner.InsertKeyAsync(new VirtualKey { Token = VirtualKeys.Hash(raw), KeyName = VirtualKeys.NameOf(raw), CreatedAt = now, UpdatedAt = now }));
        _governance.Cache.EvictKey(VirtualKeys.Hash(raw));
        Assert.NotNull((await _governance.AuthenticateAsync(raw)).Caller);
    }

    [Fact]
    public async Task A_lookup_the_store_could_not_answer_is_not_remembered_as_unknown()
    {
        const string raw = "sk-asked-while-the-store-was-away";
        _counts.FailDeprecated = true;
        Assert.Null((await _governance.AuthenticateAsync(raw)).Caller);
        _counts.FailDeprecated = false;
        Assert.Null((await _governance.AuthenticateAsync(raw)).Caller);
        // Both calls asked the store: the first "no" came with an outage, so it was not kept.
        Assert.Equal(2, _counts.Calls("FindKeyAsync"));
        Assert.Equal(2, _counts.Calls("FindDeprecatedKeyAsync"));
        Assert.Null((await _governance.AuthenticateAsync(raw)).Caller);
        Assert.Equal(2, _counts.Calls("FindKeyAsync"));
    }

    [Fact]
    public async Task A_key_blocked_while_its_lookup_is_in_flight_is_not_served_unblocked_from_the_cache()
    {
        const string raw = "sk-blocked-during-the-lookup-01";
        var hash = VirtualKeys.Hash(raw);
        var now = _time.GetUtcNow();
        var key = new VirtualKey { Token = hash, KeyName = VirtualKeys.NameOf(raw), CreatedAt = now, UpdatedAt = now };
        Assert.True(await _inner.InsertKeyAsync(key));

        // The lookup reads the key unblocked, then stalls; meanwhile an admin blocks it and evicts it (here or on another
        // replica, through Redis).
        var gate = _counts.HoldFindKey();
        var pending = _governance.AuthenticateAsync(raw).AsTask();
        await _counts.HeldRead;
        Assert.True(await _inner.ReplaceKeyAsync(hash, key with { Blocked = true }));
        _governance.Cache.EvictKey(hash);
        gate.SetResult();
        // The stalled call was admitted on what it read before the block; the next one is refused, within the TTL.
        Assert.NotNull((await pending).Caller);
        var (caller, error) = await _governance.AuthenticateAsync(raw);
        Assert.Null(caller);
        Assert.Contains("blocked", error!.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_key_created_while_a_lookup_finds_nothing_is_not_remembered_as_unknown()
    {
        const string raw = "sk-created-during-the-lookup-02";
        var hash = VirtualKeys.Hash(raw);
        var gate = _counts.HoldFindKey();
        var pending = _governance.AuthenticateAsync(raw).AsTask();
        await _counts.HeldRead;
        var now = _time.GetUtcNow();
        Assert.True(await _inner.InsertKeyAsync(new VirtualKey { Token = hash, KeyName = VirtualKeys.NameOf(raw), CreatedAt = now, UpdatedAt = now }));
        _governance.Cache.EvictKey(hash);
        gate.SetResult();
        Assert.Null((await pending).Caller);
        Assert.NotNull((await _governance.AuthenticateAsync(raw)).Caller);
    }

    /// <summary>The real store, with its calls counted by method name (and the grace lookup made to fail on demand).</summary>
    public class CountingStore : DispatchProxy
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _calls = new();
        public IGovernanceStore Inner { get; set; } = null!;
        public volatile bool FailDeprecated;

        public int Calls(string method) => _calls.TryGetValue(method, out var n) ? n : 0;

        private TaskCompletionSource? _hold;
        private readonly TaskCompletionSource _heldRead = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The next <c>FindKeyAsync</c> reads the store, then waits for the returned gate before it answers.</summary>
        public TaskCompletionSource HoldFindKey() => _hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when the held lookup has read the store.</summary>
        public Task HeldRead => _heldRead.Task;

        private async Task<VirtualKey?> HeldAsync(ValueTask<VirtualKey?> read, Task gate)
        {
            var key = await read;
            _heldRead.TrySetResult();
            await gate;
            return key;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            _calls.AddOrUpdate(targetMethod!.Name, 1, static (_, n) => n + 1);
            if (targetMethod.Name == "FindKeyAsync" && Interlocked.Exchange(ref _hold, null) is { } hold)
                return new ValueTask<VirtualKey?>(HeldAsync((ValueTask<VirtualKey?>)targetMethod.Invoke(Inner, args)!, hold.Task));
            if (FailDeprecated && targetMethod.Name == "FindDeprecatedKeyAsync")
                return ValueTask.FromException<DeprecatedKey?>(new TimeoutException("the store is away"));
            return targetMethod.Invoke(Inner, args);
        }
    }
}
