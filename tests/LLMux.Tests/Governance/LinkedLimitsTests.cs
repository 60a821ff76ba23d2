using System.Net;
using System.Text;

namespace LLMux.Tests.Governance;

/// <summary>
/// Limits that come from the budget table (end users, keys with <c>budget_id</c>) and a key's per-model limits, through
/// the real host. Under CI (REDIS_URL set) the same tests run on Redis's shared counters.
/// </summary>
public sealed class LinkedLimitsTests : IAsyncLifetime
{
    private GovernanceGateway _g = null!;

    public async Task InitializeAsync() => _g = await GovernanceGateway.StartAsync();
    public async Task DisposeAsync() => await _g.DisposeAsync();

    private async Task<HttpResponseMessage> ChatAs(string key, string? endUser, string model = "gpt-test")
    {
        var user = endUser is null ? "" : $$""","user":"{{endUser}}" """;
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent($$"""{"model":"{{model}}"{{user}},"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        return await _g.Host.Http.SendAsync(request);
    }

    [Fact]
    public async Task An_end_users_rpm_limit_comes_from_its_budget_and_holds_across_keys()
    {
        await _g.PostAsync("/budget/new", """{"budget_id":"slow","rpm_limit":2}""");
        await _g.PostAsync("/customer/new", """{"user_id":"acme","budget_id":"slow"}""");
        var k1 = await _g.NewKeyAsync();
        var k2 = await _g.NewKeyAsync();
        using (var first = await ChatAs(k1, "acme"))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal("2", first.Headers.GetValues("x-ratelimit-end_user-limit-requests").Single());
            Assert.Equal("1", first.Headers.GetValues("x-ratelimit-end_user-remaining-requests").Single());
        }
        using (var second = await ChatAs(k2, "acme")) Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var calls = _g.Upstream.Requests.Count;
        using (var third = await ChatAs(k1, "acme"))
        {
            Assert.Equal((HttpStatusCode)429, third.StatusCode);
            Assert.Contains("Rate limit exceeded for end_user: acme", await third.Content.ReadAsStringAsync());
            Assert.True(third.Headers.Contains("retry-after"));
        }
        Assert.Equal(calls, _g.Upstream.Requests.Count);
        // Other end users, and calls with no end user, are not limited by it.
        using (var other = await ChatAs(k1, "bob")) Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        using (var none = await ChatAs(k1, null)) Assert.Equal(HttpStatusCode.OK, none.StatusCode);
        _g.Time.Advance(TimeSpan.FromSeconds(60));
        using (var again = await ChatAs(k2, "acme")) Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task Inline_limits_on_an_end_user_are_enforced_through_its_new_budget()
    {
        Assert.Equal(200, (await _g.PostAsync("/customer/new", """{"user_id":"inline","rpm_limit":1}""")).Status);
        var key = await _g.NewKeyAsync();
        using (var ok = await ChatAs(key, "inline")) Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using (var refused = await ChatAs(key, "inline")) Assert.Equal((HttpStatusCode)429, refused.StatusCode);
        // Lifting the limit on the end user (a new budget copied from the old) admits the next call.
        Assert.Equal(200, (await _g.PostAsync("/customer/update", """{"user_id":"inline","rpm_limit":null}""")).Status);
        using (var lifted = await ChatAs(key, "inline")) Assert.Equal(HttpStatusCode.OK, lifted.StatusCode);
    }

    [Fact]
    public async Task An_end_users_tpm_limit_refuses_once_its_tokens_are_used()
    {
        await _g.PostAsync("/budget/new", """{"budget_id":"few-tokens","tpm_limit":20}""");
        await _g.PostAsync("/customer/new", """{"user_id":"t","budget_id":"few-tokens"}""");
        var key = await _g.NewKeyAsync();
        // Each emulator answer uses 18 tokens: the second call still starts under 20, the third does not.
        using (var a = await ChatAs(key, "t")) Assert.Equal(HttpStatusCode.OK, a.StatusCode);
        using (var b = await ChatAs(key, "t")) Assert.Equal(HttpStatusCode.OK, b.StatusCode);
        using var c = await ChatAs(key, "t");
        Assert.Equal((HttpStatusCode)429, c.StatusCode);
        Assert.Contains("Limit type: tokens", await c.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_default_end_user_budget_limits_end_users_without_their_own()
    {
        _g.ExtraYaml = """

            litellm_settings:
              max_end_user_budget_id: default-tier
            """;
        await _g.RestartAsync();
        await _g.PostAsync("/budget/new", """{"budget_id":"default-tier","max_budget":0.00002,"rpm_limit":5}""");
        await _g.PostAsync("/budget/new", """{"budget_id":"gold","max_budget":1}""");
        await _g.PostAsync("/customer/new", """{"user_id":"vip","budget_id":"gold"}""");
        var key = await _g.NewKeyAsync();
        // An end user the admin never created: the default budget's max (two calls of 0.000018 reach 0.00002).
        using (var first = await ChatAs(key, "stranger")) Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        using (var second = await ChatAs(key, "stranger")) Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        using (var over = await ChatAs(key, "stranger"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, over.StatusCode);
            Assert.Contains("End User=stranger over budget", await over.Content.ReadAsStringAsync());
        }
        // An end user with a budget of its own is not held by the default.
        for (var i = 0; i < 3; i++)
            using (var vip = await ChatAs(key, "vip")) Assert.Equal(HttpStatusCode.OK, vip.StatusCode);
    }

    [Fact]
    public async Task A_keys_budget_fills_the_limits_the_key_leaves_null()
    {
        await _g.PostAsync("/budget/new", """{"budget_id":"k-tier","rpm_limit":1,"max_budget":5}""");
        var (status, created) = await _g.PostAsync("/key/generate", """{"budget_id":"k-tier"}""");
        Assert.Equal(200, status);
        Assert.Equal("k-tier", created.GetProperty("budget_id").GetString());
        var linked = created.GetProperty("key").GetString()!;
        using (var ok = await ChatAs(linked, null))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("1", ok.Headers.GetValues("x-ratelimit-api_key-limit-requests").Single());
        }
        using (var refused = await ChatAs(linked, null)) Assert.Equal((HttpStatusCode)429, refused.StatusCode);
        // The key's own value wins over its budget's.
        var own = await _g.NewKeyAsync("""{"budget_id":"k-tier","rpm_limit":3}""");
        for (var i = 0; i < 3; i++)
            using (var r = await ChatAs(own, null)) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using (var fourth = await ChatAs(own, null)) Assert.Equal((HttpStatusCode)429, fourth.StatusCode);
        // A change of the budget holds on the key's next call.
        _g.Time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(200, (await _g.PostAsync("/budget/update", """{"budget_id":"k-tier","rpm_limit":null,"max_budget":0}""")).Status);
        using (var over = await ChatAs(linked, null))
        {
            Assert.Equal(HttpStatusCode.BadRequest, over.StatusCode);
            Assert.Contains("Budget has been exceeded", await over.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task A_key_naming_an_unknown_budget_or_bad_per_model_limits_is_refused()
    {
        var (status, body) = await _g.PostAsync("/key/generate", """{"budget_id":"nope"}""");
        Assert.Equal(400, status);
        Assert.Contains("budget_id `nope` does not exist", body.ToString());
        Assert.Equal(400, (await _g.PostAsync("/key/generate", """{"model_rpm_limit":{"gpt-test":-1}}""")).Status);
        Assert.Equal(400, (await _g.PostAsync("/key/generate", """{"model_tpm_limit":{"gpt-test":"ten"}}""")).Status);
        Assert.Equal(400, (await _g.PostAsync("/key/generate", """{"model_rpm_limit":[1]}""")).Status);
        Assert.Equal(0, (await _g.GetAsync("/key/list")).Body.GetProperty("total_count").GetInt32());
    }

    [Fact]
    public async Task Per_model_rpm_limit_of_a_key_holds_for_that_model_only()
    {
        var (status, created) = await _g.PostAsync("/key/generate", """{"model_rpm_limit":{"gpt-test":1}}""");
        Assert.Equal(200, status);
        Assert.Equal(1, created.GetProperty("model_rpm_limit").GetProperty("gpt-test").GetInt64());
        var key = created.GetProperty("key").GetString()!;
        using (var ok = await ChatAs(key, null))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("1", ok.Headers.GetValues("x-ratelimit-model_per_key-limit-requests").Single());
            Assert.Equal("0", ok.Headers.GetValues("x-ratelimit-model_per_key-remaining-requests").Single());
        }
        var calls = _g.Upstream.Requests.Count;
        using (var refused = await ChatAs(key, null))
        {
            Assert.Equal((HttpStatusCode)429, refused.StatusCode);
            var text = await refused.Content.ReadAsStringAsync();
            Assert.Contains("Rate limit exceeded for model_per_key", text);
            Assert.Contains(":gpt-test", text);
            Assert.True(refused.Headers.Contains("retry-after"));
        }
        Assert.Equal(calls, _g.Upstream.Requests.Count);
        using (var other = await ChatAs(key, null, "gpt-other")) Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        // Raising it (key/update) holds at once.
        Assert.Equal(200, (await _g.PostAsync("/key/update", $$$"""{"key":"{{{key}}}","model_rpm_limit":{"gpt-test":5}}""")).Status);
        using (var raised = await ChatAs(key, null)) Assert.Equal(HttpStatusCode.OK, raised.StatusCode);
    }

    [Fact]
    public async Task Per_model_tpm_limit_of_a_key_refuses_once_the_models_tokens_are_used()
    {
        var key = await _g.NewKeyAsync("""{"model_tpm_limit":{"gpt-test":10}}""");
        using (var first = await ChatAs(key, null))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal("10", first.Headers.GetValues("x-ratelimit-model_per_key-limit-tokens").Single());
        }
        using var second = await ChatAs(key, null);
        Assert.Equal((HttpStatusCode)429, second.StatusCode);
        Assert.Contains("Limit type: tokens", await second.Content.ReadAsStringAsync());
        using (var other = await ChatAs(key, null, "gpt-other")) Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }
    [Fact]
    public async Task Rate_limits_inside_a_keys_model_max_budget_hold_for_that_model_and_yield_to_model_rpm_limit()
    {
        var (status, created) = await _g.PostAsync("/key/generate", """{"model_max_budget":{"gpt-test":{"rpm_limit":2},"gpt-other":{"budget_limit":5,"time_period":"1d","tpm_limit":100000}}}""");
        Assert.Equal(200, status);
        var entry = created.GetProperty("model_max_budget").GetProperty("gpt-test");
        Assert.Equal(2, entry.GetProperty("rpm_limit").GetInt64());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, entry.GetProperty("budget_limit").ValueKind);
        var key = created.GetProperty("key").GetString()!;
        using (var first = await ChatAs(key, null))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal("2", first.Headers.GetValues("x-ratelimit-model_per_key-limit-requests").Single());
        }
        using (var second = await ChatAs(key, null)) Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var calls = _g.Upstream.Requests.Count;
        using (var third = await ChatAs(key, null))
        {
            Assert.Equal((HttpStatusCode)429, third.StatusCode);
            Assert.Contains("Rate limit exceeded for model_per_key", await third.Content.ReadAsStringAsync());
        }
        Assert.Equal(calls, _g.Upstream.Requests.Count);
        // The other entry carries a token limit and a budget, not a request limit.
        using (var other = await ChatAs(key, null, "gpt-other"))
        {
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
            Assert.Equal("100000", other.Headers.GetValues("x-ratelimit-model_per_key-limit-tokens").Single());
            Assert.False(other.Headers.Contains("x-ratelimit-model_per_key-limit-requests"));
        }
        // The key's own model_rpm_limit, once it names a model, wins over the budget entries (LiteLLM's order).
        Assert.Equal(200, (await _g.PostAsync("/key/update", $$$"""{"key":"{{{key}}}","model_rpm_limit":{"gpt-other":9}}""")).Status);
        using (var freed = await ChatAs(key, null)) Assert.Equal(HttpStatusCode.OK, freed.StatusCode);
        // LiteLLM keeps model_rpm_limit in a key's metadata: read from there too, and kept in the field.
        var (fromMeta, meta) = await _g.PostAsync("/key/generate", """{"metadata":{"team":"ml","model_rpm_limit":{"gpt-test":1}}}""");
        Assert.Equal(200, fromMeta);
        Assert.Equal(1, meta.GetProperty("model_rpm_limit").GetProperty("gpt-test").GetInt64());
        Assert.False(meta.GetProperty("metadata").TryGetProperty("model_rpm_limit", out _));
        var metaKey = meta.GetProperty("key").GetString()!;
        using (var one = await ChatAs(metaKey, null)) Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        using (var two = await ChatAs(metaKey, null)) Assert.Equal((HttpStatusCode)429, two.StatusCode);
        // It survives a restart (read back from the store).
        await _g.RestartAsync();
        var info = (await _g.GetAsync($"/key/info?key={key}")).Body.GetProperty("info");
        Assert.Equal(2, info.GetProperty("model_max_budget").GetProperty("gpt-test").GetProperty("rpm_limit").GetInt64());
    }

    [Fact]
    public async Task A_teams_per_model_limits_hold_over_all_its_keys_on_that_model()
    {
        var (status, team) = await _g.PostAsync("/team/new", """{"team_id":"t1","model_rpm_limit":{"gpt-test":2},"metadata":{"owner":"ops","model_tpm_limit":{"gpt-other":100000}}}""");
        Assert.Equal(200, status);
        Assert.Equal(2, team.GetProperty("model_rpm_limit").GetProperty("gpt-test").GetInt64());
        // LiteLLM's place for them, metadata, is read too; they live in the fields, not in the stored metadata.
        Assert.Equal(100000, team.GetProperty("model_tpm_limit").GetProperty("gpt-other").GetInt64());
        Assert.False(team.GetProperty("metadata").TryGetProperty("model_tpm_limit", out _));
        Assert.Equal("ops", team.GetProperty("metadata").GetProperty("owner").GetString());
        var k1 = await _g.NewKeyAsync("""{"team_id":"t1"}""");
        var k2 = await _g.NewKeyAsync("""{"team_id":"t1"}""");
        using (var first = await ChatAs(k1, null))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal("2", first.Headers.GetValues("x-ratelimit-model_per_team-limit-requests").Single());
            Assert.Equal("1", first.Headers.GetValues("x-ratelimit-model_per_team-remaining-requests").Single());
        }
        using (var second = await ChatAs(k2, null)) Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var calls = _g.Upstream.Requests.Count;
        using (var third = await ChatAs(k1, null))
        {
            Assert.Equal((HttpStatusCode)429, third.StatusCode);
            var text = await third.Content.ReadAsStringAsync();
            Assert.Contains("Rate limit exceeded for model_per_team", text);
            Assert.Contains("t1:gpt-test", text);
        }
        Assert.Equal(calls, _g.Upstream.Requests.Count);
        using (var other = await ChatAs(k2, null, "gpt-other"))
        {
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
            Assert.Equal("100000", other.Headers.GetValues("x-ratelimit-model_per_team-limit-tokens").Single());
        }
        // A key outside the team is not limited by it.
        var loner = await _g.NewKeyAsync();
        using (var free = await ChatAs(loner, null)) Assert.Equal(HttpStatusCode.OK, free.StatusCode);
        // Raised on /team/update: holds on the next call; kept across a restart.
        Assert.Equal(200, (await _g.PostAsync("/team/update", """{"team_id":"t1","model_rpm_limit":{"gpt-test":10}}""")).Status);
        using (var raised = await ChatAs(k1, null)) Assert.Equal(HttpStatusCode.OK, raised.StatusCode);
        await _g.RestartAsync();
        var info = (await _g.GetAsync("/team/info?team_id=t1")).Body.GetProperty("team_info");
        Assert.Equal(10, info.GetProperty("model_rpm_limit").GetProperty("gpt-test").GetInt64());
        Assert.Equal(100000, info.GetProperty("model_tpm_limit").GetProperty("gpt-other").GetInt64());
        Assert.Equal(400, (await _g.PostAsync("/team/update", """{"team_id":"t1","metadata":{"model_rpm_limit":{"gpt-test":"x"}}}""")).Status);
    }

    [Fact]
    public async Task Rate_limits_in_a_model_max_budget_are_refused_where_nothing_would_enforce_them()
    {
        var (status, body) = await _g.PostAsync("/team/new", """{"model_max_budget":{"gpt-test":{"budget_limit":1,"rpm_limit":2}}}""");
        Assert.Equal(400, status);
        Assert.Contains("rate limits belong on a key's model_max_budget", body.ToString());
        Assert.Equal(400, (await _g.PostAsync("/budget/new", """{"budget_id":"b","model_max_budget":{"gpt-test":{"tpm_limit":5}}}""")).Status);
        Assert.Equal(400, (await _g.PostAsync("/key/generate", """{"model_max_budget":{"gpt-test":{"rpm_limit":-1}}}""")).Status);
        Assert.Equal(400, (await _g.PostAsync("/key/generate", """{"model_max_budget":{"gpt-test":{"rpm_limit":1.5}}}""")).Status);
        Assert.Equal(400, (await _g.PostAsync("/key/generate", """{"model_max_budget":{"gpt-test":{"time_period":"1d"}}}""")).Status);
        Assert.Equal(0, (await _g.GetAsync("/key/list")).Body.GetProperty("total_count").GetInt32());
    }

    [Fact]
    public async Task An_end_users_per_model_budget_comes_from_its_budget_and_holds_for_that_model_only()
    {
        var (status, _) = await _g.PostAsync("/customer/new", """{"user_id":"acme","model_max_budget":{"gpt-test":{"max_budget":0.00002,"budget_duration":"1d"}}}""");
        Assert.Equal(200, status);
        var key = await _g.NewKeyAsync();
        using (var a = await ChatAs(key, "acme")) Assert.Equal(HttpStatusCode.OK, a.StatusCode);
        using (var b = await ChatAs(key, "acme")) Assert.Equal(HttpStatusCode.OK, b.StatusCode);
        using (var over = await ChatAs(key, "acme"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, over.StatusCode);
            Assert.Contains("Budget has been exceeded for End User=acme, model=gpt-test", await over.Content.ReadAsStringAsync());
        }
        using (var other = await ChatAs(key, "acme", "gpt-other")) Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        // The spend is read back from the spend logs after a restart.
        await _g.RestartAsync();
        using (var still = await ChatAs(key, "acme")) Assert.Equal(HttpStatusCode.BadRequest, still.StatusCode);
        _g.Time.Advance(TimeSpan.FromDays(1));
        using (var next = await ChatAs(key, "acme")) Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }
}
