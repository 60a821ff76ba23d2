using System.Net;
using System.Text.Json;

namespace LLMux.Tests.Governance;

/// <summary>Per-model budgets (<c>model_max_budget</c>) and the model lists a virtual key sees.</summary>
public sealed class ModelBudgetAndModelListTests : IAsyncLifetime
{
    private GovernanceGateway _g = null!;

    public async Task InitializeAsync() => _g = await GovernanceGateway.StartAsync();
    public async Task DisposeAsync() => await _g.DisposeAsync();

    // Each gpt-test call costs 0.000018: a 0.00003 budget is spent after two.
    private const string TwoCalls = """{"model_max_budget":{"gpt-test":{"budget_limit":0.00003,"time_period":"1h"}}}""";

    [Fact]
    public async Task A_model_budget_refuses_that_model_only_before_any_upstream_call_and_reopens_with_its_window()
    {
        var raw = await _g.NewKeyAsync(TwoCalls);
        using (var one = await _g.ChatAsync(raw)) Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        using (var two = await _g.ChatAsync(raw)) Assert.Equal(HttpStatusCode.OK, two.StatusCode);
        var calls = _g.Upstream.Requests.Count;
        using (var over = await _g.ChatAsync(raw))
        {
            Assert.Equal(HttpStatusCode.BadRequest, over.StatusCode);
            var text = await over.Content.ReadAsStringAsync();
            Assert.Contains("budget_exceeded", text);
            Assert.Contains("model=gpt-test", text);
            Assert.Contains("Current cost: 0.000036, Max budget: 0.00003", text);
        }
        Assert.Equal(calls, _g.Upstream.Requests.Count);
        // Another model has no per-model budget on this key.
        using (var other = await _g.ChatAsync(raw, "gpt-other")) Assert.Equal(HttpStatusCode.OK, other.StatusCode);

        _g.Time.Advance(TimeSpan.FromHours(1));
        using var reopened = await _g.ChatAsync(raw);
        Assert.Equal(HttpStatusCode.OK, reopened.StatusCode);
    }

    [Fact]
    public async Task A_model_budget_holds_across_a_restart_from_the_spend_logs()
    {
        var raw = await _g.NewKeyAsync(TwoCalls);
        for (var i = 0; i < 2; i++) using (var ok = await _g.ChatAsync(raw)) Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        await _g.RestartAsync();
        using var over = await _g.ChatAsync(raw);
        Assert.Equal(HttpStatusCode.BadRequest, over.StatusCode);
        Assert.Contains("model=gpt-test", await over.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Model_max_budget_is_stored_shown_updated_and_checked()
    {
        var raw = await _g.NewKeyAsync(TwoCalls);
        var (_, info) = await _g.GetAsync("/key/info?key=" + raw);
        var mb = info.GetProperty("info").GetProperty("model_max_budget").GetProperty("gpt-test");
        Assert.Equal(0.00003m, mb.GetProperty("budget_limit").GetDecimal());
        Assert.Equal("1h", mb.GetProperty("time_period").GetString());

        // LiteLLM's field names are both accepted; a bad entry names itself and changes nothing.
        var (bad, body) = await _g.PostAsync("/key/update", "{\"key\":\"" + raw + "\",\"model_max_budget\":{\"gpt-test\":{\"budget_limit\":-1}}}");
        Assert.Equal(400, bad);
        Assert.Contains("model_max_budget", body.ToString());
        (bad, body) = await _g.PostAsync("/key/generate", """{"model_max_budget":{"gpt-test":{"budget_limit":1,"time_period":"soon"}}}""");
        Assert.Equal(400, bad);
        Assert.Contains("time_period", body.ToString());

        for (var i = 0; i < 2; i++) using (var ok = await _g.ChatAsync(raw)) Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        // Raising the budget takes effect at once.
        Assert.Equal(200, (await _g.PostAsync("/key/update", "{\"key\":\"" + raw + "\",\"model_max_budget\":{\"gpt-test\":{\"max_budget\":1,\"budget_duration\":\"1d\"}}}")).Status);
        using var more = await _g.ChatAsync(raw);
        Assert.Equal(HttpStatusCode.OK, more.StatusCode);
    }

    [Fact]
    public async Task A_teams_model_budget_holds_across_its_keys_and_is_shown_and_cleared()
    {
        Assert.Equal(200, (await _g.PostAsync("/team/new", "{\"team_id\":\"t-mb\"," + TwoCalls[1..])).Status);
        var a = await _g.NewKeyAsync("""{"team_id":"t-mb"}""");
        var b = await _g.NewKeyAsync("""{"team_id":"t-mb"}""");
        using (var one = await _g.ChatAsync(a)) Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        using (var two = await _g.ChatAsync(b)) Assert.Equal(HttpStatusCode.OK, two.StatusCode);
        var calls = _g.Upstream.Requests.Count;
        using (var over = await _g.ChatAsync(a))
        {
            Assert.Equal(HttpStatusCode.BadRequest, over.StatusCode);
            Assert.Contains("Team=t-mb, model=gpt-test", await over.Content.ReadAsStringAsync());
        }
        Assert.Equal(calls, _g.Upstream.Requests.Count);
        using (var other = await _g.ChatAsync(b, "gpt-other")) Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        var (_, info) = await _g.GetAsync("/team/info?team_id=t-mb");
        Assert.Equal(0.00003m, info.GetProperty("team_info").GetProperty("model_max_budget").GetProperty("gpt-test").GetProperty("budget_limit").GetDecimal());

        // It holds across a restart (seeded from the team's spend rows), then clearing it opens the model again.
        await _g.RestartAsync();
        using (var over = await _g.ChatAsync(b)) Assert.Equal(HttpStatusCode.BadRequest, over.StatusCode);
        Assert.Equal(400, (await _g.PostAsync("/team/update", """{"team_id":"t-mb","model_max_budget":{"gpt-test":{"budget_limit":"x"}}}""")).Status);
        Assert.Equal(200, (await _g.PostAsync("/team/update", """{"team_id":"t-mb","model_max_budget":null}""")).Status);
        using var open = await _g.ChatAsync(b);
        Assert.Equal(HttpStatusCode.OK, open.StatusCode);
    }

    [Fact]
    public async Task A_users_model_budget_holds_across_the_users_keys()
    {
        Assert.Equal(200, (await _g.PostAsync("/user/new", """{"user_id":"u-mb","auto_create_key":false}""")).Status);
        var (status, body) = await _g.PostAsync("/user/update", "{\"user_id\":\"u-mb\"," + TwoCalls[1..]);
        Assert.True(status == 200, body.ToString());
        var a = await _g.NewKeyAsync("""{"user_id":"u-mb"}""");
        var b = await _g.NewKeyAsync("""{"user_id":"u-mb"}""");
        var stranger = await _g.NewKeyAsync();
        using (var one = await _g.ChatAsync(a)) Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        using (var two = await _g.ChatAsync(b)) Assert.Equal(HttpStatusCode.OK, two.StatusCode);
        using (var over = await _g.ChatAsync(b))
        {
            Assert.Equal(HttpStatusCode.BadRequest, over.StatusCode);
            Assert.Contains("User=u-mb, model=gpt-test", await over.Content.ReadAsStringAsync());
        }
        using (var other = await _g.ChatAsync(stranger)) Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        var (_, info) = await _g.GetAsync("/user/info?user_id=u-mb");
        Assert.Equal("1h", info.GetProperty("user_info").GetProperty("model_max_budget").GetProperty("gpt-test").GetProperty("time_period").GetString());
        _g.Time.Advance(TimeSpan.FromHours(1));
        using var reopened = await _g.ChatAsync(a);
        Assert.Equal(HttpStatusCode.OK, reopened.StatusCode);
    }

    [Fact]
    public async Task Model_lists_show_a_key_only_the_models_its_key_and_team_allow()
    {
        Assert.Equal(200, (await _g.PostAsync("/team/new", """{"team_id":"t-list","models":["gpt-test","gpt-other"]}""")).Status);
        var limited = await _g.NewKeyAsync("""{"team_id":"t-list","models":["gpt-test"]}""");
        var teamOnly = await _g.NewKeyAsync("""{"team_id":"t-list"}""");

        Assert.Equal(["gpt-test"], Ids(await _g.GetAsync("/v1/models", limited)));
        Assert.Equal(["gpt-test"], Ids(await _g.GetAsync("/models", limited)));
        Assert.Equal(["gpt-test", "gpt-other"], Ids(await _g.GetAsync("/v1/models", teamOnly)));
        Assert.Equal(["gpt-test", "gpt-other"], Ids(await _g.GetAsync("/v1/models")));
        Assert.Equal(404, (await _g.GetAsync("/v1/models/gpt-other", limited)).Status);
        Assert.Equal(200, (await _g.GetAsync("/v1/models/gpt-test", limited)).Status);

        var (status, info) = await _g.GetAsync("/model/info", limited);
        Assert.Equal(200, status);
        var entry = Assert.Single(info.GetProperty("data").EnumerateArray());
        Assert.Equal("gpt-test", entry.GetProperty("model_name").GetString());
        Assert.Equal("openai/gpt-4o-mini", entry.GetProperty("litellm_params").GetProperty("model").GetString());
        Assert.False(entry.GetProperty("litellm_params").TryGetProperty("api_key", out _));
        Assert.DoesNotContain("sk-upstream", info.ToString());
        Assert.Equal(2, (await _g.GetAsync("/v1/model/info")).Body.GetProperty("data").GetArrayLength());
    }

    private static string[] Ids((int Status, JsonElement Body) answer)
    {
        Assert.Equal(200, answer.Status);
        return [.. answer.Body.GetProperty("data").EnumerateArray().Select(static m => m.GetProperty("id").GetString()!)];
    }
}
