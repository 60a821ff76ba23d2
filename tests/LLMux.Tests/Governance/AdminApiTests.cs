using System.ClientModel;
using System.Net;
using LLMux.Governance.Keys;
using Microsoft.Data.Sqlite;
using OpenAI.Chat;

namespace LLMux.Tests.Governance;

/// <summary>LiteLLM's management API behind the master key, and virtual keys used by the OpenAI SDK against the emulator.</summary>
public sealed class AdminApiTests : IAsyncLifetime
{
    private GovernanceGateway _g = null!;

    public async Task InitializeAsync() => _g = await GovernanceGateway.StartAsync();
    public async Task DisposeAsync() => await _g.DisposeAsync();

    [Fact]
    public async Task Generate_shows_the_raw_key_once_and_stores_only_its_sha256()
    {
        var (status, body) = await _g.PostAsync("/key/generate", """{"key_alias":"ci","models":["gpt-test"],"max_budget":5,"metadata":{"env":"ci"}}""");
        Assert.Equal(200, status);
        var raw = body.GetProperty("key").GetString()!;
        Assert.StartsWith("sk-", raw);
        Assert.Equal(25, raw.Length);
        Assert.Equal(VirtualKeys.Hash(raw), body.GetProperty("token_id").GetString());
        Assert.Equal("sk-..." + raw[^4..], body.GetProperty("key_name").GetString());

        var (infoStatus, info) = await _g.GetAsync("/key/info?key=" + raw);
        Assert.Equal(200, infoStatus);
        Assert.DoesNotContain(raw, info.ToString());
        Assert.Equal("ci", info.GetProperty("info").GetProperty("key_alias").GetString());
        Assert.Equal("ci", info.GetProperty("info").GetProperty("metadata").GetProperty("env").GetString());

        // Nothing in the database file holds the raw key.
        using var c = new SqliteConnection($"Data Source={_g.DatabasePath};Mode=ReadOnly");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT token, key_name FROM \"LiteLLM_VerificationToken\"";
        using var r = cmd.ExecuteReader();
        Assert.True(r.Read());
        Assert.Equal(VirtualKeys.Hash(raw), r.GetString(0));
        Assert.DoesNotContain(raw, r.GetString(0) + r.GetString(1));
    }

    [Fact]
    public async Task A_virtual_key_works_with_the_OpenAI_SDK_and_its_spend_is_logged()
    {
        var raw = await _g.NewKeyAsync("""{"key_alias":"app"}""");
        var chat = _g.Host.OpenAI(raw).GetChatClient("gpt-test");
        ChatCompletion answer = await chat.CompleteChatAsync([new UserChatMessage("hi")]);
        Assert.Equal("Hello from the emulator.", answer.Content[0].Text);

        var (status, logs) = await _g.GetAsync("/spend/logs?api_key=" + raw);
        Assert.Equal(200, status);
        var row = Assert.Single(logs.EnumerateArray());
        Assert.Equal(VirtualKeys.Hash(raw), row.GetProperty("api_key").GetString());
        Assert.Equal(18, row.GetProperty("total_tokens").GetInt64());
        Assert.Equal(0.000018m, row.GetProperty("spend").GetDecimal());
        Assert.Equal("app", row.GetProperty("metadata").GetProperty("user_api_key_alias").GetString());

        var (_, info) = await _g.GetAsync("/key/info?key=" + VirtualKeys.Hash(raw));
        Assert.Equal(0.000018m, info.GetProperty("info").GetProperty("spend").GetDecimal());
    }

    [Theory]
    [InlineData("Authorization")]
    [InlineData("x-api-key")]
    [InlineData("api-key")]
    [InlineData("x-goog-api-key")]
    public async Task Every_key_header_is_accepted(string header)
    {
        var raw = await _g.NewKeyAsync();
        using var response = await _g.ChatAsync(raw, header: header);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("""{"max_budget":-1}""", "max_budget")]
    [InlineData("""{"rpm_limit":"ten"}""", "rpm_limit")]
    [InlineData("""{"models":"gpt-test"}""", "models")]
    [InlineData("""{"budget_duration":"fortnight"}""", "budget_duration")]
    [InlineData("""{"key":"not-sk"}""", "sk-")]
    [InlineData("""{"key_alias":"x","colour":"blue"}""", "colour")]
    [InlineData("""{"model_max_budget":{"gpt-test":{"budget_limit":"lots"}}}""", "model_max_budget")]
    [InlineData("""{"model_max_budget":{"gpt-test":{"budget_limit":1,"tpm_limit":"5"}}}""", "tpm_limit")]
    [InlineData("""{"aliases":"fast"}""", "aliases")]
    [InlineData("""{"aliases":{"fast":5}}""", "aliases")]
    [InlineData("""{"aliases":{"fast":""}}""", "aliases")]
    [InlineData("""{"aliases":{"fast":"fast"}}""", "alias of itself")]
    [InlineData("""{"team_id":"no-such-team"}""", "no-such-team")]
    [InlineData("""{"key_alias": """, "JSON")]
    [InlineData("""[1]""", "JSON object")]
    public async Task Bad_generate_input_is_a_400_and_writes_nothing(string json, string mentioned)
    {
        var (status, body) = await _g.PostAsync("/key/generate", json);
        Assert.Equal(400, status);
        Assert.Contains(mentioned, body.GetProperty("error").GetProperty("message").GetString());
        var (_, list) = await _g.GetAsync("/key/list");
        Assert.Equal(0, list.GetProperty("total_count").GetInt32());
    }

    [Fact]
    public async Task Admin_routes_need_the_master_key()
    {
        var raw = await _g.NewKeyAsync();
        var (asKey, body) = await _g.PostAsync("/key/generate", "{}", key: raw);
        Assert.Equal(403, asKey);
        Assert.Contains("master key", body.GetProperty("error").GetProperty("message").GetString());
        var (asNobody, _) = await _g.PostAsync("/key/generate", "{}", key: "sk-nope");
        Assert.Equal(401, asNobody);
        var (_, list) = await _g.GetAsync("/key/list");
        Assert.Equal(1, list.GetProperty("total_count").GetInt32());
    }

    [Fact]
    public async Task Unknown_blocked_and_deleted_keys_are_refused_before_any_upstream_call()
    {
        using (var unknown = await _g.ChatAsync("sk-unknownkey1234567890"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
            var text = await unknown.Content.ReadAsStringAsync();
            Assert.Contains("token_not_found_in_db", text);
            Assert.DoesNotContain("sk-unknownkey1234567890", text);
        }
        var raw = await _g.NewKeyAsync();
        using (var ok = await _g.ChatAsync(raw)) Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var calls = _g.Upstream.Requests.Count;

        Assert.Equal(200, (await _g.PostAsync("/key/block", $$"""{"key":"{{raw}}"}""")).Status);
        using (var blocked = await _g.ChatAsync(raw))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, blocked.StatusCode);
            Assert.Contains("Key is blocked", await blocked.Content.ReadAsStringAsync());
        }
        Assert.Equal(200, (await _g.PostAsync("/key/unblock", $$"""{"key":"{{raw}}"}""")).Status);
        using (var again = await _g.ChatAsync(raw)) Assert.Equal(HttpStatusCode.OK, again.StatusCode);

        var (deleted, body) = await _g.PostAsync("/key/delete", $$"""{"keys":["{{raw}}"]}""");
        Assert.Equal(200, deleted);
        Assert.Equal(VirtualKeys.Hash(raw), body.GetProperty("deleted_keys")[0].GetString());
        using (var gone = await _g.ChatAsync(raw)) Assert.Equal(HttpStatusCode.Unauthorized, gone.StatusCode);
        Assert.Equal(calls + 1, _g.Upstream.Requests.Count);
    }

    [Fact]
    public async Task Models_outside_the_key_or_its_team_are_refused_with_no_upstream_call()
    {
        var raw = await _g.NewKeyAsync("""{"models":["gpt-test"]}""");
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => _g.Host.OpenAI(raw).GetChatClient("gpt-other").CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(401, ex.Status);
        Assert.Contains("key_model_access_denied", ex.Message);

        Assert.Equal(200, (await _g.PostAsync("/team/new", """{"team_id":"t1","models":["gpt-other"]}""")).Status);
        var teamKey = await _g.NewKeyAsync("""{"team_id":"t1"}""");
        var teamEx = await Assert.ThrowsAsync<ClientResultException>(() => _g.Host.OpenAI(teamKey).GetChatClient("gpt-test").CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(401, teamEx.Status);
        Assert.Contains("team_model_access_denied", teamEx.Message);
        Assert.Empty(_g.Upstream.Requests);
    }

    [Fact]
    public async Task Updating_a_key_takes_effect_at_once_on_this_replica()
    {
        var raw = await _g.NewKeyAsync();
        using (var ok = await _g.ChatAsync(raw, "gpt-other")) Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var (status, updated) = await _g.PostAsync("/key/update", $$"""{"key":"{{raw}}","models":["gpt-test"],"key_alias":"renamed"}""");
        Assert.Equal(200, status);
        Assert.Equal("renamed", updated.GetProperty("key_alias").GetString());
        using (var denied = await _g.ChatAsync(raw, "gpt-other")) Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
        var (missing, _) = await _g.PostAsync("/key/update", """{"key":"sk-doesnotexist","models":[]}""");
        Assert.Equal(404, missing);
    }

    [Fact]
    public async Task Regenerate_gives_a_new_key_and_the_old_one_stops_at_once()
    {
        var old = await _g.NewKeyAsync("""{"key_alias":"rot"}""");
        using (var ok = await _g.ChatAsync(old)) Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var (status, body) = await _g.PostAsync("/key/regenerate", $$"""{"key":"{{old}}"}""");
        Assert.Equal(200, status);
        var fresh = body.GetProperty("key").GetString()!;
        Assert.NotEqual(old, fresh);
        Assert.Equal("rot", body.GetProperty("key_alias").GetString());
        using (var refused = await _g.ChatAsync(old)) Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        using (var works = await _g.ChatAsync(fresh)) Assert.Equal(HttpStatusCode.OK, works.StatusCode);
    }

    [Fact]
    public async Task Teams_and_users_have_LiteLLMs_routes_and_answers()
    {
        var (s1, team) = await _g.PostAsync("/team/new", """{"team_alias":"search","models":["gpt-test"],"max_budget":10,"rpm_limit":100}""");
        Assert.Equal(200, s1);
        var teamId = team.GetProperty("team_id").GetString()!;
        Assert.Equal("search", team.GetProperty("team_alias").GetString());

        var (s2, user) = await _g.PostAsync("/user/new", $$"""{"user_id":"ann","user_email":"ann@example.com","teams":["{{teamId}}"]}""");
        Assert.Equal(200, s2);
        Assert.StartsWith("sk-", user.GetProperty("key").GetString());

        var (s3, added) = await _g.PostAsync("/team/member_add", $$$"""{"team_id":"{{{teamId}}}","member":{"role":"user","user_id":"ann"}}""");
        Assert.Equal(200, s3);
        Assert.Equal("ann", added.GetProperty("members_with_roles")[0].GetProperty("user_id").GetString());
        Assert.Equal(400, (await _g.PostAsync("/team/member_add", $$$"""{"team_id":"{{{teamId}}}","member":{"role":"user","user_id":"ann"}}""")).Status);

        await _g.NewKeyAsync($$"""{"team_id":"{{teamId}}"}""");
        var (s4, info) = await _g.GetAsync("/team/info?team_id=" + teamId);
        Assert.Equal(200, s4);
        Assert.Equal(1, info.GetProperty("keys").GetArrayLength());
        Assert.Equal(100, info.GetProperty("team_info").GetProperty("rpm_limit").GetInt32());

        var (s5, updated) = await _g.PostAsync("/team/update", $$"""{"team_id":"{{teamId}}","rpm_limit":5}""");
        Assert.Equal(200, s5);
        Assert.Equal(5, updated.GetProperty("data").GetProperty("rpm_limit").GetInt32());
        Assert.Equal(10, updated.GetProperty("data").GetProperty("max_budget").GetInt32());

        var (s6, userInfo) = await _g.GetAsync("/user/info?user_id=ann");
        Assert.Equal(200, s6);
        Assert.Equal("ann@example.com", userInfo.GetProperty("user_info").GetProperty("user_email").GetString());
        Assert.Equal(teamId, userInfo.GetProperty("teams")[0].GetProperty("team_id").GetString());
        Assert.Equal(1, userInfo.GetProperty("keys").GetArrayLength());

        Assert.Equal(200, (await _g.PostAsync("/user/update", """{"user_id":"ann","max_budget":2}""")).Status);
        Assert.Single((await _g.GetAsync("/team/list")).Body.EnumerateArray());
        Assert.Equal(404, (await _g.PostAsync("/team/delete", $$"""{"team_ids":["{{teamId}}","nope"]}""")).Status);
        Assert.Equal(200, (await _g.GetAsync("/team/info?team_id=" + teamId)).Status);
        Assert.Equal(200, (await _g.PostAsync("/team/delete", $$"""{"team_ids":["{{teamId}}"]}""")).Status);
        Assert.Equal(404, (await _g.GetAsync("/team/info?team_id=" + teamId)).Status);
        Assert.Equal(200, (await _g.PostAsync("/user/delete", """{"user_ids":["ann"]}""")).Status);
        Assert.Equal(404, (await _g.GetAsync("/user/info?user_id=ann")).Status);
    }

    [Fact]
    public async Task A_restart_keeps_keys_and_spend()
    {
        var raw = await _g.NewKeyAsync();
        using (var ok = await _g.ChatAsync(raw)) Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        await _g.RestartAsync();
        using (var after = await _g.ChatAsync(raw)) Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        var (_, info) = await _g.GetAsync("/key/info?key=" + raw);
        Assert.Equal(0.000036m, info.GetProperty("info").GetProperty("spend").GetDecimal());
        var (_, logs) = await _g.GetAsync("/spend/logs?api_key=" + raw);
        Assert.Equal(2, logs.GetArrayLength());
    }

    [Fact]
    public async Task Messages_refuses_an_unknown_key_in_Anthropics_error_shape()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages")
        {
            Content = new StringContent("""{"model":"gpt-test","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("x-api-key", "sk-unknown-key-000000000");
        using var response = await _g.Host.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("error", body.GetProperty("type").GetString());
        Assert.Equal("authentication_error", body.GetProperty("error").GetProperty("type").GetString());
        Assert.Empty(_g.Upstream.Requests);
    }

    [Fact]
    public async Task Allowed_routes_limit_what_a_key_may_call()
    {
        var raw = await _g.NewKeyAsync("""{"allowed_routes":["/v1/embeddings"]}""");
        using var response = await _g.ChatAsync(raw);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("not allowed to call this route", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_raw_key_in_a_query_string_or_a_header_is_never_logged()
    {
        var raw = await _g.NewKeyAsync();
        Assert.Equal(200, (await _g.GetAsync("/key/info?key=" + raw)).Status);
        Assert.Equal(200, (await _g.GetAsync("/spend/logs?api_key=" + raw)).Status);
        using (var ok = await _g.ChatAsync(raw)) Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        const string wrong = "sk-wrongkey-abcdefghijklmnop";
        using (var refused = await _g.ChatAsync(wrong)) Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.NotEmpty(_g.Logs); // the capture works: hosting and routing log at Debug/Trace
        Assert.DoesNotContain(_g.Logs, l => l.Contains(raw, StringComparison.Ordinal) || l.Contains(wrong, StringComparison.Ordinal) || l.Contains(GovernanceGateway.Master, StringComparison.Ordinal));
    }
}
