using System.Net;

namespace LLMux.Tests.Governance;

/// <summary><c>GET /global/spend/report</c> in LiteLLM's shapes, from the calls actually made.</summary>
public sealed class SpendReportTests : IAsyncLifetime
{
    private GovernanceGateway _g = null!;

    public async Task InitializeAsync() => _g = await GovernanceGateway.StartAsync();
    public async Task DisposeAsync() => await _g.DisposeAsync();

    [Fact]
    public async Task Spend_per_day_per_team_with_each_model_and_key_and_per_key_with_each_model()
    {
        Assert.Equal(200, (await _g.PostAsync("/team/new", """{"team_id":"t-search","team_alias":"search"}""")).Status);
        var teamKey = await _g.NewKeyAsync("""{"team_id":"t-search"}""");
        var loneKey = await _g.NewKeyAsync("{}");
        for (var i = 0; i < 2; i++) using (var r = await _g.ChatAsync(teamKey)) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using (var r = await _g.ChatAsync(loneKey)) Assert.Equal(HttpStatusCode.OK, r.StatusCode);

        var (status, body) = await _g.GetAsync("/global/spend/report?start_date=2026-12-01&end_date=2026-12-01");
        Assert.Equal(200, status);
        var day = Assert.Single(body.EnumerateArray());
        Assert.Equal("2026-12-01T00:00:00+00:00", day.GetProperty("group_by_day").GetString());
        var teams = day.GetProperty("teams").EnumerateArray().ToDictionary(t => t.GetProperty("team_name").GetString()!);
        Assert.Equal(0.000036m, teams["search"].GetProperty("total_spend").GetDecimal());
        Assert.Equal(0.000018m, teams["Unassigned Team"].GetProperty("total_spend").GetDecimal());
        var meta = Assert.Single(teams["search"].GetProperty("metadata").EnumerateArray());
        Assert.Equal(36, meta.GetProperty("total_tokens").GetInt64());
        Assert.Equal("gpt-4o-mini", meta.GetProperty("model").GetString());

        var (keyStatus, perKey) = await _g.GetAsync($"/global/spend/report?start_date=2026-12-01&end_date=2026-12-01&api_key={teamKey}");
        Assert.Equal(200, keyStatus);
        var key = Assert.Single(perKey.EnumerateArray());
        Assert.Equal(LLMux.Governance.Keys.VirtualKeys.Hash(teamKey), key.GetProperty("api_key").GetString());
        Assert.Equal(22, key.GetProperty("total_input_tokens").GetInt64());
        Assert.Equal(14, key.GetProperty("total_output_tokens").GetInt64());
        Assert.Single(key.GetProperty("model_details").EnumerateArray());

        // Nothing the day before.
        var (_, empty) = await _g.GetAsync("/global/spend/report?start_date=2026-11-30&end_date=2026-11-30");
        Assert.Empty(empty.EnumerateArray());
    }

    [Theory]
    [InlineData("/global/spend/report", "start_date and end_date")]
    [InlineData("/global/spend/report?start_date=2026-12-01&end_date=tomorrow", "end_date")]
    [InlineData("/global/spend/report?start_date=2026-12-01&end_date=2026-12-01&group_by=model", "group_by")]
    public async Task Bad_queries_are_a_400_naming_the_parameter(string path, string named)
    {
        var (status, body) = await _g.GetAsync(path);
        Assert.Equal(400, status);
        Assert.Contains(named, body.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_virtual_key_may_not_read_the_report()
    {
        var raw = await _g.NewKeyAsync("{}");
        var (status, _) = await _g.GetAsync("/global/spend/report?start_date=2026-12-01&end_date=2026-12-01", raw);
        Assert.Equal(403, status);
    }
}
