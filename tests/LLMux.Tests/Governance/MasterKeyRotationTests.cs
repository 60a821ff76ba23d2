using System.Net;
using System.Text.Json;
using LLMux.Governance.Auth;

namespace LLMux.Tests.Governance;

/// <summary>
/// <c>/key/regenerate</c> with <c>new_master_key</c> (LiteLLM's master key rotation) on the SQLite store: the new key is in
/// force at once and after a restart whose config still names the old one, which is refused from then on.
/// </summary>
public sealed class MasterKeyRotationTests : IAsyncLifetime
{
    private const string NewMaster = "sk-rotated-master-5678";
    private GovernanceGateway _g = null!;

    public async Task InitializeAsync() => _g = await GovernanceGateway.StartAsync();
    public async Task DisposeAsync() => await _g.DisposeAsync();

    private async Task<HttpStatusCode> ChatStatusAsync(string key)
    {
        using var r = await _g.ChatAsync(key);
        return r.StatusCode;
    }

    [Fact]
    public async Task The_new_master_key_is_in_force_at_once_and_after_a_restart_and_the_old_one_is_refused()
    {
        var virtualKey = await _g.NewKeyAsync("""{"key_alias":"survives"}""");
        var (status, body) = await _g.PostAsync("/key/regenerate", $$"""{"key":"{{GovernanceGateway.Master}}","new_master_key":"{{NewMaster}}"}""");
        Assert.True(status == 200, body.ToString());
        Assert.Equal(NewMaster, body.GetProperty("key").GetString());
        Assert.Equal("sk-...5678", body.GetProperty("key_name").GetString());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("expires").ValueKind);

        for (var round = 0; round < 2; round++)
        {
            Assert.Equal(401, (await _g.GetAsync("/key/list")).Status);
            Assert.Equal(HttpStatusCode.Unauthorized, await ChatStatusAsync(GovernanceGateway.Master));
            Assert.Equal(200, (await _g.GetAsync("/key/list", key: NewMaster)).Status);
            Assert.Equal(HttpStatusCode.OK, await ChatStatusAsync(NewMaster));
            // Virtual keys are not touched by the rotation.
            Assert.Equal(HttpStatusCode.OK, await ChatStatusAsync(virtualKey));
            // The config still names the old key: the stored rotation overrides it, with a warning.
            await _g.RestartAsync();
        }
        Assert.Contains(_g.Logs, l => l.Contains("master_key was rotated away", StringComparison.Ordinal));
        // No raw master key reaches the log or the store.
        Assert.DoesNotContain(_g.Logs, l => l.Contains(NewMaster, StringComparison.Ordinal) || l.Contains(GovernanceGateway.Master, StringComparison.Ordinal));
        var stored = string.Concat(Directory.GetFiles(Path.GetDirectoryName(_g.DatabasePath)!, Path.GetFileName(_g.DatabasePath) + "*")
            .Select(f => File.ReadAllText(f, System.Text.Encoding.Latin1)));
        Assert.Contains(LLMux.Governance.Keys.VirtualKeys.Hash(NewMaster), stored);
        Assert.DoesNotContain(NewMaster, stored);

        // A second rotation, from the rotated key: every key before it stays refused.
        (status, body) = await _g.PostAsync("/key/regenerate", $$"""{"key":"{{NewMaster}}","new_master_key":"sk-third-master-9999"}""", key: NewMaster);
        Assert.True(status == 200, body.ToString());
        Assert.Equal(401, (await _g.GetAsync("/key/list", key: NewMaster)).Status);
        Assert.Equal(401, (await _g.GetAsync("/key/list")).Status);
        Assert.Equal(200, (await _g.GetAsync("/key/list", key: "sk-third-master-9999")).Status);
    }

    [Fact]
    public async Task Bad_rotations_answer_400_and_change_nothing()
    {
        var virtualKey = await _g.NewKeyAsync();
        async Task RefusedAsync(string json, string expected, string? key = null)
        {
            var (status, body) = await _g.PostAsync("/key/regenerate", json, key ?? GovernanceGateway.Master);
            Assert.True(status == 400, body.ToString());
            Assert.Contains(expected, body.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        }
        var master = GovernanceGateway.Master;
        await RefusedAsync($$"""{"key":"{{master}}"}""", "New master key is required.");
        await RefusedAsync($$"""{"key":"{{master}}","new_master_key":"not-an-sk-key"}""", "must start with `sk-`");
        await RefusedAsync($$"""{"key":"{{master}}","new_master_key":"sk-has space"}""", "must start with `sk-`");
        await RefusedAsync($$"""{"key":"{{master}}","new_master_key":"sk-short-123"}""", "at least 16 characters after `sk-`");
        await RefusedAsync($$"""{"key":"{{master}}","new_master_key":"{{virtualKey}}"}""", "is a virtual key already");
        await RefusedAsync($$"""{"key":"{{master}}","new_master_key":"sk-new-master-key-0001","grace_period":"1h"}""", "`grace_period` does not apply to the master key");
        await RefusedAsync($$"""{"key":"{{virtualKey}}","new_master_key":"sk-new-master-key-0001"}""", "`key` must then be the master key in force");
        // The master key is still the configured one, and the virtual key was not regenerated.
        Assert.Equal(200, (await _g.GetAsync("/key/list")).Status);
        Assert.Equal(HttpStatusCode.OK, await ChatStatusAsync(virtualKey));

        // A virtual key (not an admin) cannot rotate the master key even knowing it: the route is the admin's.
        var (denied, _) = await _g.PostAsync("/key/regenerate", $$"""{"key":"{{master}}","new_master_key":"sk-new-master-key-0001"}""", virtualKey);
        Assert.Equal(403, denied);

        // The key in force again, or back to a key that was the master key before: refused.
        const string first = "sk-new-master-key-0001", second = "sk-new-master-key-0002";
        Assert.Equal(200, (await _g.PostAsync("/key/regenerate", $$"""{"key":"{{master}}","new_master_key":"{{first}}"}""")).Status);
        await RefusedAsync($$"""{"key":"{{first}}","new_master_key":"{{first}}"}""", "in force already", key: first);
        Assert.Equal(200, (await _g.PostAsync("/key/regenerate", $$"""{"key":"{{first}}","new_master_key":"{{second}}"}""", first)).Status);
        await RefusedAsync($$"""{"key":"{{second}}","new_master_key":"{{first}}"}""", "was a master key before", key: second);
    }

    [Fact]
    public async Task A_rotation_written_by_another_process_is_followed_within_the_key_cache_ttl()
    {
        // Another replica on the same database, without Redis to tell this one: the store's setting is read again
        // every key-cache TTL.
        using (var other = new LLMux.Governance.Storage.Sqlite.SqliteGovernanceStore(_g.DatabasePath))
        {
            var rotation = MasterKeyRotation.Next(null, LLMux.Governance.Keys.VirtualKeys.Hash(GovernanceGateway.Master), LLMux.Governance.Keys.VirtualKeys.Hash(GovernanceGateway.Master),
                LLMux.Governance.Keys.VirtualKeys.Hash(NewMaster), _g.Time.GetUtcNow());
            Assert.True(await other.SwapSettingAsync(MasterKeyRotation.Setting, null, rotation.ToJson(), rotation.RotatedAt));
        }
        Assert.Equal(200, (await _g.GetAsync("/key/list")).Status);
        _g.Time.Advance(TimeSpan.FromSeconds(61));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while ((await _g.GetAsync("/key/list")).Status == 200 && clock.Elapsed < TimeSpan.FromSeconds(5)) await Task.Delay(10);
        Assert.Equal(401, (await _g.GetAsync("/key/list")).Status);
        Assert.Equal(200, (await _g.GetAsync("/key/list", key: NewMaster)).Status);
    }

    [Fact]
    public async Task A_stale_read_of_an_older_rotation_never_brings_a_replaced_key_back()
    {
        const string first = "sk-first-rotation-00001", second = "sk-second-rotation-0002";
        Assert.Equal(200, (await _g.PostAsync("/key/regenerate", $$"""{"key":"{{GovernanceGateway.Master}}","new_master_key":"{{first}}"}""")).Status);
        using var other = new LLMux.Governance.Storage.Sqlite.SqliteGovernanceStore(_g.DatabasePath);
        var afterFirst = await other.FindSettingAsync(MasterKeyRotation.Setting);
        Assert.Equal(200, (await _g.PostAsync("/key/regenerate", $$"""{"key":"{{first}}","new_master_key":"{{second}}"}""", first)).Status);
        // A read that began before the second rotation answers after it (here: the store holds the older value again).
        var latest = await other.FindSettingAsync(MasterKeyRotation.Setting);
        Assert.True(await other.SwapSettingAsync(MasterKeyRotation.Setting, latest, afterFirst!, _g.Time.GetUtcNow()));
        _g.Time.Advance(TimeSpan.FromSeconds(61));
        await Task.Delay(200);
        Assert.Equal(401, (await _g.GetAsync("/key/list", key: first)).Status);
        Assert.Equal(200, (await _g.GetAsync("/key/list", key: second)).Status);
    }

    [Fact]
    public void A_rotation_overrides_exactly_the_keys_it_replaced()
    {
        var now = new DateTimeOffset(2026, 12, 4, 0, 0, 0, TimeSpan.Zero);
        var first = MasterKeyRotation.Next(null, inForce: "A", configured: "A", next: "B", now);
        Assert.Equal("B", first.InForce("A"));
        Assert.Equal("B", first.InForce("B"));
        // An operator who configured another key on purpose gets it (the config stays the root of trust).
        Assert.Equal("D", first.InForce("D"));
        Assert.True(first.Overrides("A"));
        Assert.False(first.Overrides("B"));

        // Rotated again on a replica configured with the rotated key: A and B both follow C.
        var second = MasterKeyRotation.Next(first, inForce: "B", configured: "B", next: "C", now.AddHours(1));
        Assert.Equal(["A", "B"], second.Replaced);
        Assert.Equal("C", second.InForce("A"));
        Assert.Equal("C", second.InForce("B"));
        var parsed = MasterKeyRotation.Parse(second.ToJson())!;
        Assert.Equal(second.Active, parsed.Active);
        Assert.Equal(second.Replaced, parsed.Replaced);
        Assert.Equal(second.RotatedAt, parsed.RotatedAt);
        Assert.Null(MasterKeyRotation.Parse("{not json"));
    }
}
