using System.Text.Json;

namespace LLMux.Tests.Governance;

/// <summary>
/// LiteLLM's <c>rpm_limit_type</c> / <c>tpm_limit_type</c>: a <c>guaranteed_throughput</c> key must fit in its team's
/// limits beside the team's other keys, or it is refused with LiteLLM's 400.
/// </summary>
public sealed class ThroughputAllocationTests : IAsyncLifetime
{
    private GovernanceGateway _g = null!;

    public async Task InitializeAsync() => _g = await GovernanceGateway.StartAsync();
    public async Task DisposeAsync() => await _g.DisposeAsync();

    private async Task<(int Status, JsonElement Body)> KeyAsync(string json) => await _g.PostAsync("/key/generate", json);

    private static string Message(JsonElement body) => body.GetProperty("error").GetProperty("message").GetString()!;

    [Fact]
    public async Task A_guaranteed_key_must_fit_beside_the_teams_other_keys()
    {
        Assert.Equal(200, (await _g.PostAsync("/team/new", """{"team_id":"t","rpm_limit":100,"tpm_limit":1000}""")).Status);
        // Other keys count whatever their own type.
        Assert.Equal(200, (await KeyAsync("""{"team_id":"t","rpm_limit":60,"rpm_limit_type":"best_effort_throughput"}""")).Status);
        var (status, body) = await KeyAsync("""{"team_id":"t","rpm_limit":50,"rpm_limit_type":"guaranteed_throughput"}""");
        Assert.Equal(400, status);
        Assert.Equal("Allocated RPM limit=60 + Key RPM limit=50 is greater than team RPM limit=100", Message(body));
        Assert.Equal("rpm_limit", body.GetProperty("error").GetProperty("param").GetString());

        (status, body) = await KeyAsync("""{"team_id":"t","rpm_limit":40,"rpm_limit_type":"guaranteed_throughput"}""");
        Assert.True(status == 200, body.ToString());
        var key = body.GetProperty("key").GetString()!;
        var (_, info) = await _g.GetAsync("/key/info?key=" + key);
        Assert.Equal("guaranteed_throughput", info.GetProperty("info").GetProperty("metadata").GetProperty("rpm_limit_type").GetString());

        // An update keeps the stored type, and the key is not counted beside itself: 40 again fits, 41 does not.
        Assert.Equal(200, (await _g.PostAsync("/key/update", $$"""{"key":"{{key}}","rpm_limit":40}""")).Status);
        (status, body) = await _g.PostAsync("/key/update", $$"""{"key":"{{key}}","rpm_limit":41}""");
        Assert.Equal(400, status);
        Assert.Equal("Allocated RPM limit=60 + Key RPM limit=41 is greater than team RPM limit=100", Message(body));
        // Nothing was written.
        Assert.Equal(40, (await _g.GetAsync("/key/info?key=" + key)).Body.GetProperty("info").GetProperty("rpm_limit").GetInt64());
        // Cleared to best effort, it may oversubscribe.
        Assert.Equal(200, (await _g.PostAsync("/key/update", $$"""{"key":"{{key}}","rpm_limit":80,"rpm_limit_type":null}""")).Status);

        // Only the guaranteed unit is checked: a guaranteed tpm says nothing of rpm.
        Assert.Equal(200, (await KeyAsync("""{"team_id":"t","rpm_limit":500,"tpm_limit":1000,"tpm_limit_type":"guaranteed_throughput"}""")).Status);
        (status, body) = await KeyAsync("""{"team_id":"t","tpm_limit":1,"metadata":{"tpm_limit_type":"guaranteed_throughput"}}""");
        Assert.Equal(400, status);
        Assert.Equal("Allocated TPM limit=1000 + Key TPM limit=1 is greater than team TPM limit=1000", Message(body));
        Assert.Equal("tpm_limit", body.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task Per_model_limits_must_fit_in_the_teams_per_model_limit()
    {
        Assert.Equal(200, (await _g.PostAsync("/team/new", """{"team_id":"m","model_rpm_limit":{"gpt-test":10}}""")).Status);
        Assert.Equal(200, (await KeyAsync("""{"team_id":"m","model_rpm_limit":{"gpt-test":6}}""")).Status);
        var (status, body) = await KeyAsync("""{"team_id":"m","model_rpm_limit":{"gpt-test":5},"rpm_limit_type":"guaranteed_throughput"}""");
        Assert.Equal(400, status);
        Assert.Equal("Allocated RPM limit=6 + Key RPM limit=5 is greater than team RPM limit=10", Message(body));
        Assert.Equal(200, (await KeyAsync("""{"team_id":"m","model_rpm_limit":{"gpt-test":4},"rpm_limit_type":"guaranteed_throughput"}""")).Status);
        // A team with both limits: a per-model limit must fit under each.
        Assert.Equal(200, (await _g.PostAsync("/team/new", """{"team_id":"both","rpm_limit":1000,"model_rpm_limit":{"gpt-test":100}}""")).Status);
        (status, body) = await KeyAsync("""{"team_id":"both","model_rpm_limit":{"gpt-test":500},"rpm_limit_type":"guaranteed_throughput"}""");
        Assert.Equal(400, status);
        Assert.Equal("Allocated RPM limit=0 + Key RPM limit=500 is greater than team RPM limit=100", Message(body));
        Assert.Equal(200, (await KeyAsync("""{"team_id":"both","model_rpm_limit":{"gpt-test":100},"rpm_limit_type":"guaranteed_throughput"}""")).Status);
        // Without a team there is nothing to allocate from.
        Assert.Equal(200, (await KeyAsync("""{"rpm_limit":1000000,"rpm_limit_type":"guaranteed_throughput"}""")).Status);
    }

    [Fact]
    public async Task Guaranteed_keys_written_at_once_cannot_overallocate_the_team()
    {
        Assert.Equal(200, (await _g.PostAsync("/team/new", """{"team_id":"race","rpm_limit":100}""")).Status);
        // Ten admins at the same moment, each asking for 30 of the team's 100: three fit, whatever the interleaving.
        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ =>
            KeyAsync("""{"team_id":"race","rpm_limit":30,"rpm_limit_type":"guaranteed_throughput"}""")));
        Assert.Equal(3, answers.Count(a => a.Status == 200));
        Assert.All(answers.Where(a => a.Status != 200), a => Assert.Equal("Allocated RPM limit=90 + Key RPM limit=30 is greater than team RPM limit=100", Message(a.Body)));
        Assert.Equal(3, (await _g.GetAsync("/key/list?team_id=race")).Body.GetProperty("total_count").GetInt32());
    }

    [Theory]
    [InlineData("""{"tpm_limit_type":"fast"}""", "`tpm_limit_type` must be one of guaranteed_throughput, best_effort_throughput, dynamic, not `fast`")]
    [InlineData("""{"metadata":{"rpm_limit_type":7}}""", "`metadata.rpm_limit_type` must be one of guaranteed_throughput, best_effort_throughput, dynamic, not `7`")]
    public async Task Unknown_limit_types_are_refused(string json, string expected)
    {
        var (status, body) = await KeyAsync(json);
        Assert.Equal(400, status);
        Assert.Contains(expected, Message(body), StringComparison.Ordinal);
        Assert.Equal(0, (await _g.GetAsync("/key/list")).Body.GetProperty("total_count").GetInt32());
    }

    private static readonly LLMux.Emulators.OpenAIScript Failure = new() { ErrorStatus = 500, ErrorBody = """{"error":{"message":"boom","type":"server_error"}}""" };

    private async Task<int> ChatStatusAsync(string key)
    {
        using var response = await _g.ChatAsync(key);
        return (int)response.StatusCode;
    }

    [Fact]
    public async Task A_dynamic_rpm_limit_holds_only_while_the_model_is_failing()
    {
        var key = await _g.NewKeyAsync("""{"rpm_limit":2,"rpm_limit_type":"dynamic"}""");
        var (_, info) = await _g.GetAsync("/key/info?key=" + key);
        Assert.Equal("dynamic", info.GetProperty("info").GetProperty("metadata").GetProperty("rpm_limit_type").GetString());
        // A healthy model: the key goes past its limit.
        for (var i = 0; i < 5; i++) Assert.Equal(200, await ChatStatusAsync(key));
        // One failure this minute is within LiteLLM's threshold (DYNAMIC_RATE_LIMIT_ERROR_THRESHOLD_PER_MINUTE = 1) ...
        _g.Upstream.Enqueue(Failure);
        Assert.Equal(500, await ChatStatusAsync(key));
        Assert.Equal(200, await ChatStatusAsync(key));
        Assert.Equal(200, await ChatStatusAsync(key));
        // ... a second one is not: from now on the limit holds (calls not held to it were not counted against it).
        _g.Upstream.Enqueue(Failure);
        Assert.Equal(500, await ChatStatusAsync(key));
        Assert.Equal(200, await ChatStatusAsync(key));
        Assert.Equal(200, await ChatStatusAsync(key));
        var upstreamCalls = _g.Upstream.Requests.Count;
        using (var refused = await _g.ChatAsync(key))
        {
            Assert.Equal(429, (int)refused.StatusCode);
            Assert.Contains("Rate limit exceeded for api_key", await refused.Content.ReadAsStringAsync());
        }
        Assert.Equal(upstreamCalls, _g.Upstream.Requests.Count);
        // A key calling the failing model by an alias of its own is held too: the model behind the alias decides.
        var aliased = await _g.NewKeyAsync("""{"rpm_limit":1,"rpm_limit_type":"dynamic","aliases":{"mine":"gpt-test"}}""");
        using (var first = await _g.ChatAsync(aliased, "mine")) Assert.Equal(200, (int)first.StatusCode);
        using (var second = await _g.ChatAsync(aliased, "mine")) Assert.Equal(429, (int)second.StatusCode);
        // The next minute the model has no failures: the limit is off again.
        _g.Time.Advance(TimeSpan.FromMinutes(1));
        for (var i = 0; i < 4; i++) Assert.Equal(200, await ChatStatusAsync(key));
    }

    [Fact]
    public async Task A_dynamic_tpm_limit_leaves_the_rpm_limit_and_other_models_alone()
    {
        // Each emulator answer uses 18 tokens: a 10-token limit allows one call; the rpm limit 8 always holds.
        var key = await _g.NewKeyAsync("""{"tpm_limit":10,"rpm_limit":8,"metadata":{"tpm_limit_type":"dynamic"}}""");
        for (var i = 0; i < 3; i++) Assert.Equal(200, await ChatStatusAsync(key));
        _g.Upstream.Enqueue(Failure);
        _g.Upstream.Enqueue(Failure);
        Assert.Equal(500, await ChatStatusAsync(key));
        Assert.Equal(500, await ChatStatusAsync(key));
        // gpt-test is failing now; gpt-other (another deployment) is not, so the tpm limit does not hold there.
        using (var other = await _g.ChatAsync(key, "gpt-other")) Assert.Equal(200, (int)other.StatusCode);
        // On gpt-test it holds, counting from the calls held to it: the first passes, its 18 tokens refuse the next.
        Assert.Equal(200, await ChatStatusAsync(key));
        using (var refused = await _g.ChatAsync(key))
        {
            Assert.Equal(429, (int)refused.StatusCode);
            Assert.Contains("tokens", await refused.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        }
        // Seven requests so far: the (not dynamic) rpm limit lets an eighth through and refuses the ninth, healthy model or not.
        using (var eighth = await _g.ChatAsync(key, "gpt-other")) Assert.Equal(200, (int)eighth.StatusCode);
        using (var ninth = await _g.ChatAsync(key, "gpt-other"))
        {
            Assert.Equal(429, (int)ninth.StatusCode);
            Assert.Contains("requests", await ninth.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        }
    }
}
