using System.Net;
using LLMux.Governance.Keys;
using Microsoft.Data.Sqlite;

namespace LLMux.Tests.Governance;

/// <summary>
/// <c>grace_period</c> on <c>/key/regenerate</c> (LiteLLM's <c>LiteLLM_DeprecatedVerificationToken</c>), with the SQLite
/// store and a FakeTimeProvider: the old key authenticates as the new one until the grace ends.
/// </summary>
public sealed class GracePeriodTests : IAsyncLifetime
{
    private GovernanceGateway _g = null!;

    public async Task InitializeAsync() => _g = await GovernanceGateway.StartAsync();
    public async Task DisposeAsync() => await _g.DisposeAsync();

    private async Task<string> RegenerateAsync(string key, string grace)
    {
        var (status, body) = await _g.PostAsync("/key/regenerate", $$"""{"key":"{{key}}","grace_period":"{{grace}}"}""");
        Assert.True(status == 200, body.ToString());
        return body.GetProperty("key").GetString()!;
    }

    private async Task<HttpStatusCode> StatusAsync(string key)
    {
        using var r = await _g.ChatAsync(key);
        return r.StatusCode;
    }

    [Fact]
    public async Task The_old_key_works_as_the_new_key_with_its_limits_and_spend_until_the_grace_ends()
    {
        var old = await _g.NewKeyAsync("""{"key_alias":"rot","rpm_limit":2}""");
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(old));
        var fresh = await RegenerateAsync(old, "30m");

        // One rpm window for both: the old key's call counts against the new key's limit.
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(old));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(fresh));
        Assert.Equal((HttpStatusCode)429, await StatusAsync(old));

        // Spend lands on the new key: every row (the one before the regeneration too) is under its hash.
        var (_, logs) = await _g.GetAsync("/spend/logs?api_key=" + fresh);
        Assert.Equal(3, logs.GetArrayLength());
        Assert.Equal(0, (await _g.GetAsync("/spend/logs?api_key=" + VirtualKeys.Hash(old))).Body.GetArrayLength());
        var (_, info) = await _g.GetAsync("/key/info?key=" + fresh);
        Assert.Equal(3 * 0.000018m, info.GetProperty("info").GetProperty("spend").GetDecimal());

        // Past the key cache's TTL (the store answers), still in the grace.
        _g.Time.Advance(TimeSpan.FromMinutes(29));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(old));
        _g.Time.Advance(TimeSpan.FromSeconds(61));
        using (var refused = await _g.ChatAsync(old))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Contains("token_not_found_in_db", await refused.Content.ReadAsStringAsync());
        }
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(fresh));

        // Only hashes are stored, and the raw old key is in no log line.
        using var c = new SqliteConnection($"Data Source={_g.DatabasePath};Mode=ReadOnly");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT token, active_token_id FROM \"LiteLLM_DeprecatedVerificationToken\"";
        using var r = cmd.ExecuteReader();
        Assert.True(r.Read());
        Assert.Equal(VirtualKeys.Hash(old), r.GetString(0));
        Assert.Equal(VirtualKeys.Hash(fresh), r.GetString(1));
        Assert.DoesNotContain(_g.Logs, line => line.Contains(old, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_grace_shorter_than_the_key_cache_ends_on_time_while_the_old_key_is_cached()
    {
        var old = await _g.NewKeyAsync();
        var fresh = await RegenerateAsync(old, "5s");
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(old));
        _g.Time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(old));
        // 6 s in: inside the cache's 10 s TTL, past the grace.
        _g.Time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(old));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(fresh));
    }

    [Fact]
    public async Task Deleting_the_new_key_ends_the_grace_at_once()
    {
        var old = await _g.NewKeyAsync();
        var fresh = await RegenerateAsync(old, "1h");
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(old));
        Assert.Equal(200, (await _g.PostAsync("/key/delete", $$"""{"keys":["{{fresh}}"]}""")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(old));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(fresh));
    }

    [Fact]
    public async Task Blocking_the_new_key_ends_the_grace_for_good()
    {
        var old = await _g.NewKeyAsync();
        var fresh = await RegenerateAsync(old, "1h");
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(old));
        Assert.Equal(200, (await _g.PostAsync("/key/block", $$"""{"key":"{{fresh}}"}""")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(old));
        Assert.Equal(200, (await _g.PostAsync("/key/unblock", $$"""{"key":"{{fresh}}"}""")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(old));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(fresh));
    }

    [Fact]
    public async Task A_key_regenerated_twice_keeps_the_first_keys_grace_on_the_newest_key()
    {
        var first = await _g.NewKeyAsync();
        var second = await RegenerateAsync(first, "1h");
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(first));
        var (status, body) = await _g.PostAsync("/key/regenerate", $$"""{"key":"{{second}}"}""");
        Assert.Equal(200, status);
        var third = body.GetProperty("key").GetString()!;
        // No grace for the second: refused at once. The first's grace now leads to the third.
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(second));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(first));
        // Both calls of the first key are the third's now (the one made as the second moved with it).
        Assert.Equal(2, (await _g.GetAsync("/spend/logs?api_key=" + third)).Body.GetArrayLength());
        _g.Time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(first));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(third));
    }

    [Theory]
    [InlineData("\"tomorrow\"")]
    [InlineData("\"-5m\"")]
    [InlineData("24")]
    public async Task A_grace_period_that_is_not_a_duration_is_a_400_and_changes_nothing(string grace)
    {
        var old = await _g.NewKeyAsync();
        var (status, body) = await _g.PostAsync("/key/regenerate", $$"""{"key":"{{old}}","grace_period":{{grace}}}""");
        Assert.Equal(400, status);
        Assert.Contains("grace_period", body.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(old));
    }

    [Fact]
    public async Task LITELLM_KEY_ROTATION_GRACE_PERIOD_is_the_grace_of_a_regeneration_that_names_none()
    {
        _g.ExtraYaml = "\nenvironment_variables:\n  LITELLM_KEY_ROTATION_GRACE_PERIOD: 10m\n";
        await _g.RestartAsync();
        var old = await _g.NewKeyAsync();
        var (status, body) = await _g.PostAsync("/key/regenerate", $$"""{"key":"{{old}}"}""");
        Assert.Equal(200, status);
        var fresh = body.GetProperty("key").GetString()!;
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(old));
        _g.Time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(old));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(fresh));

        // "" still means at once.
        var other = await _g.NewKeyAsync();
        await RegenerateAsync(other, "");
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(other));
    }

    [Fact]
    public async Task A_LITELLM_KEY_ROTATION_GRACE_PERIOD_that_is_not_a_duration_stops_the_start()
    {
        var yaml = _g.Yaml + "\nenvironment_variables:\n  LITELLM_KEY_ROTATION_GRACE_PERIOD: soon\n";
        var error = Assert.Throws<LLMux.Host.Config.ConfigException>(() => LLMux.Tests.Infrastructure.TestApp.Build(new LLMux.Host.LlmuxHostOptions { ConfigYaml = yaml, Port = 0 }));
        Assert.Contains("LITELLM_KEY_ROTATION_GRACE_PERIOD", error.Message);
    }

    [Fact]
    public async Task An_empty_grace_period_refuses_the_old_key_at_once()
    {
        var old = await _g.NewKeyAsync();
        var fresh = await RegenerateAsync(old, "");
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(old));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(fresh));
    }
}
