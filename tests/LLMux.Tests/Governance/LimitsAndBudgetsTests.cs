using System.ClientModel;
using System.Net;
using OpenAI.Chat;

namespace LLMux.Tests.Governance;

/// <summary>rpm/max_parallel limits and budgets, on a FakeTimeProvider (windows move only when the test says so).</summary>
public sealed class LimitsAndBudgetsTests : IAsyncLifetime
{
    private GovernanceGateway _g = null!;

    public async Task InitializeAsync() => _g = await GovernanceGateway.StartAsync();
    public async Task DisposeAsync() => await _g.DisposeAsync();

    [Fact]
    public async Task Rpm_limit_admits_exactly_n_per_window_and_retry_after_is_the_time_left()
    {
        var raw = await _g.NewKeyAsync("""{"rpm_limit":2}""");
        using (var first = await _g.ChatAsync(raw))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal("2", first.Headers.GetValues("x-ratelimit-api_key-limit-requests").Single());
            Assert.Equal("1", first.Headers.GetValues("x-ratelimit-api_key-remaining-requests").Single());
        }
        _g.Time.Advance(TimeSpan.FromSeconds(15));
        using (var second = await _g.ChatAsync(raw)) Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var calls = _g.Upstream.Requests.Count;
        using (var third = await _g.ChatAsync(raw))
        {
            Assert.Equal((HttpStatusCode)429, third.StatusCode);
            Assert.Equal("45", third.Headers.GetValues("retry-after").Single());
            Assert.Contains("Rate limit exceeded for api_key", await third.Content.ReadAsStringAsync());
        }
        Assert.Equal(calls, _g.Upstream.Requests.Count);
        // A refused call used nothing: once the window ends, two calls pass again.
        _g.Time.Advance(TimeSpan.FromSeconds(45));
        using (var a = await _g.ChatAsync(raw)) Assert.Equal(HttpStatusCode.OK, a.StatusCode);
        using (var b = await _g.ChatAsync(raw)) Assert.Equal(HttpStatusCode.OK, b.StatusCode);
    }

    [Fact]
    public async Task Team_rpm_limit_counts_every_key_of_the_team()
    {
        Assert.Equal(200, (await _g.PostAsync("/team/new", """{"team_id":"t","rpm_limit":1}""")).Status);
        var k1 = await _g.NewKeyAsync("""{"team_id":"t"}""");
        var k2 = await _g.NewKeyAsync("""{"team_id":"t"}""");
        using (var ok = await _g.ChatAsync(k1)) Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using var refused = await _g.ChatAsync(k2);
        Assert.Equal((HttpStatusCode)429, refused.StatusCode);
        Assert.Contains("team: t", await refused.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_failed_call_gives_its_parallel_slot_back()
    {
        var raw = await _g.NewKeyAsync("""{"max_parallel_requests":1}""");
        for (var i = 0; i < 3; i++)
        {
            _g.Upstream.Enqueue(new LLMux.Emulators.OpenAIScript { ErrorStatus = 500, ErrorBody = """{"error":{"message":"boom","type":"server_error"}}""" });
            using var failed = await _g.ChatAsync(raw);
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        }
        using var ok = await _g.ChatAsync(raw);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        // A non-stream answer is settled before its headers: the slot is already back for the next call.
        Assert.Equal("1", ok.Headers.GetValues("x-ratelimit-api_key-remaining-max_parallel_requests").Single());
    }

    [Fact]
    public async Task A_stream_holds_its_slot_until_it_ends()
    {
        var raw = await _g.NewKeyAsync("""{"max_parallel_requests":1}""");
        var chat = _g.Host.OpenAI(raw).GetChatClient("gpt-test");
        var text = new System.Text.StringBuilder();
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("hi")]))
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
        Assert.Equal("Hello from the emulator.", text.ToString());
        // The slot is back once the stream is over.
        using var ok = await _g.ChatAsync(raw);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task Over_budget_is_400_budget_exceeded_with_no_upstream_call_and_the_window_resets()
    {
        // Each call costs 0.000018; the budget is spent after two.
        var raw = await _g.NewKeyAsync("""{"max_budget":0.00003,"budget_duration":"1h"}""");
        var chat = _g.Host.OpenAI(raw).GetChatClient("gpt-test");
        await chat.CompleteChatAsync([new UserChatMessage("hi")]);
        await chat.CompleteChatAsync([new UserChatMessage("hi")]);
        var calls = _g.Upstream.Requests.Count;
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(400, ex.Status);
        Assert.Contains("budget_exceeded", ex.Message);
        Assert.Contains("Budget has been exceeded! Current cost: 0.000036, Max budget: 0.00003", ex.Message);
        Assert.Equal(calls, _g.Upstream.Requests.Count);

        _g.Time.Advance(TimeSpan.FromHours(1));
        await chat.CompleteChatAsync([new UserChatMessage("hi")]);
        var (_, info) = await _g.GetAsync("/key/info?key=" + raw);
        Assert.Equal(0.000018m, info.GetProperty("info").GetProperty("spend").GetDecimal());
    }

    [Fact]
    public async Task Team_budget_applies_to_its_keys()
    {
        Assert.Equal(200, (await _g.PostAsync("/team/new", """{"team_id":"b","max_budget":0.00001}""")).Status);
        var raw = await _g.NewKeyAsync("""{"team_id":"b"}""");
        using (var first = await _g.ChatAsync(raw)) Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        using var second = await _g.ChatAsync(raw);
        Assert.Equal(HttpStatusCode.BadRequest, second.StatusCode);
        Assert.Contains("Team=b", await second.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_expired_key_is_400_expired_key()
    {
        var raw = await _g.NewKeyAsync("""{"duration":"30s"}""");
        using (var ok = await _g.ChatAsync(raw)) Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        _g.Time.Advance(TimeSpan.FromSeconds(31));
        using var expired = await _g.ChatAsync(raw);
        Assert.Equal(HttpStatusCode.BadRequest, expired.StatusCode);
        Assert.Contains("expired_key", await expired.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_master_key_keeps_working_without_limits()
    {
        using var ok = await _g.ChatAsync(GovernanceGateway.Master);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }
}

/// <summary>Token limits, streams and disconnects.</summary>
public sealed class TokenLimitAndStreamTests : IAsyncLifetime
{
    private GovernanceGateway _g = null!;

    public async Task InitializeAsync() => _g = await GovernanceGateway.StartAsync();
    public async Task DisposeAsync() => await _g.DisposeAsync();

    [Fact]
    public async Task Tpm_limit_counts_the_real_usage_and_refuses_once_it_is_reached()
    {
        // Each emulator answer uses 18 tokens.
        var raw = await _g.NewKeyAsync("""{"tpm_limit":30}""");
        using (var first = await _g.ChatAsync(raw))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal("12", first.Headers.GetValues("x-ratelimit-api_key-remaining-tokens").Single());
        }
        using (var second = await _g.ChatAsync(raw)) Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        using var third = await _g.ChatAsync(raw);
        Assert.Equal((HttpStatusCode)429, third.StatusCode);
        Assert.Contains("Limit type: tokens", await third.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_stream_is_billed_from_its_usage()
    {
        var raw = await _g.NewKeyAsync();
        var chat = _g.Host.OpenAI(raw).GetChatClient("gpt-test");
        await foreach (var _ in chat.CompleteChatStreamingAsync([new UserChatMessage("hi")])) { }
        // The stream is settled when the server finishes it, which can be just after the client has read its end.
        var (_, logs) = await _g.GetAsync("/spend/logs?api_key=" + raw);
        for (var i = 0; i < 100 && logs.GetArrayLength() == 0; i++)
        {
            await Task.Delay(20);
            (_, logs) = await _g.GetAsync("/spend/logs?api_key=" + raw);
        }
        var row = Assert.Single(logs.EnumerateArray());
        Assert.Equal(18, row.GetProperty("total_tokens").GetInt64());
        Assert.Equal(0.000018m, row.GetProperty("spend").GetDecimal());
    }

    [Fact]
    public async Task A_client_that_disconnects_mid_stream_gives_its_slot_back()
    {
        var raw = await _g.NewKeyAsync("""{"max_parallel_requests":1}""");
        _g.Upstream.Enqueue(new LLMux.Emulators.OpenAIScript { Chunks = 50, ChunkDelay = TimeSpan.FromMilliseconds(20) });
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"gpt-test","stream":true,"messages":[{"role":"user","content":"hi"}]}""", System.Text.Encoding.UTF8, "application/json"),
        })
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + raw);
            using var response = await _g.Host.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await using var body = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[64];
            _ = await body.ReadAsync(buffer);
            using (var busy = await _g.ChatAsync(raw)) Assert.Equal((HttpStatusCode)429, busy.StatusCode);
        }
        // The gateway notices the disconnect and ends the call; the slot comes back without waiting for the window.
        HttpStatusCode status = 0;
        for (var i = 0; i < 100 && status != HttpStatusCode.OK; i++)
        {
            using var again = await _g.ChatAsync(raw);
            status = again.StatusCode;
            if (status != HttpStatusCode.OK) await Task.Delay(50);
        }
        Assert.Equal(HttpStatusCode.OK, status);
    }
}

/// <summary>End users (<c>/customer/*</c>), named by the request's <c>user</c> field.</summary>
public sealed class CustomerTests : IAsyncLifetime
{
    private GovernanceGateway _g = null!;

    public async Task InitializeAsync() => _g = await GovernanceGateway.StartAsync();
    public async Task DisposeAsync() => await _g.DisposeAsync();

    private async Task<HttpResponseMessage> ChatAs(string key, string endUser)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent($$"""{"model":"gpt-test","user":"{{endUser}}","messages":[{"role":"user","content":"hi"}]}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        return await _g.Host.Http.SendAsync(request);
    }

    [Fact]
    public async Task An_end_users_budget_holds_across_keys_and_its_spend_is_kept()
    {
        var (status, created) = await _g.PostAsync("/customer/new", """{"user_id":"acme-42","max_budget":0.00002,"alias":"Acme"}""");
        Assert.Equal(200, status);
        Assert.Equal(0.00002m, created.GetProperty("litellm_budget_table").GetProperty("max_budget").GetDecimal());
        var k1 = await _g.NewKeyAsync();
        var k2 = await _g.NewKeyAsync();
        using (var first = await ChatAs(k1, "acme-42")) Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        using (var second = await ChatAs(k2, "acme-42")) Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var calls = _g.Upstream.Requests.Count;
        using (var over = await ChatAs(k1, "acme-42"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, over.StatusCode);
            Assert.Contains("End User=acme-42 over budget", await over.Content.ReadAsStringAsync());
        }
        Assert.Equal(calls, _g.Upstream.Requests.Count);
        using (var other = await ChatAs(k1, "someone-else")) Assert.Equal(HttpStatusCode.OK, other.StatusCode);

        var (_, info) = await _g.GetAsync("/customer/info?end_user_id=acme-42");
        Assert.Equal(0.000036m, info.GetProperty("spend").GetDecimal());
        var (_, logs) = await _g.GetAsync("/spend/logs?api_key=" + k2);
        Assert.Equal("acme-42", Assert.Single(logs.EnumerateArray()).GetProperty("end_user").GetString());
        // An end user first seen in a call gets its row at its first spend.
        var (seen, someone) = await _g.GetAsync("/customer/info?end_user_id=someone-else");
        Assert.Equal(200, seen);
        Assert.Equal(0.000018m, someone.GetProperty("spend").GetDecimal());
    }

    [Fact]
    public async Task A_blocked_end_user_is_refused_at_once_and_unblocked_again()
    {
        var key = await _g.NewKeyAsync();
        using (var ok = await ChatAs(key, "bob")) Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(200, (await _g.PostAsync("/customer/block", """{"user_ids":["bob"]}""")).Status);
        using (var blocked = await ChatAs(key, "bob"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, blocked.StatusCode);
            Assert.Contains("end_user_blocked", await blocked.Content.ReadAsStringAsync());
        }
        Assert.Equal(200, (await _g.PostAsync("/end_user/unblock", """{"user_ids":["bob"]}""")).Status);
        using (var again = await ChatAs(key, "bob")) Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Theory]
    [InlineData("""{"max_budget":1}""", "user_id")]
    [InlineData("""{"user_id":"x","max_budget":-2}""", "max_budget")]
    [InlineData("""{"user_id":"x","budget_id":5}""", "budget_id")]
    [InlineData("""{"user_id":"x","budget_id":"b","rpm_limit":2}""", "budget_id")]
    [InlineData("""{"user_id":"x","allowed_model_region":"asia"}""", "allowed_model_region")]
    [InlineData("""{"user_id":"x","allowed_model_region":1}""", "allowed_model_region")]
    [InlineData("""{"user_id":"x","default_model":5}""", "default_model")]
    public async Task Bad_customer_input_is_a_400_and_writes_nothing(string json, string mentioned)
    {
        var (status, body) = await _g.PostAsync("/customer/new", json);
        Assert.Equal(400, status);
        Assert.Contains(mentioned, body.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(0, (await _g.GetAsync("/customer/list")).Body.GetArrayLength());
    }

    [Fact]
    public async Task Customers_are_updated_listed_and_deleted()
    {
        Assert.Equal(200, (await _g.PostAsync("/customer/new", """{"user_id":"c1"}""")).Status);
        Assert.Equal(400, (await _g.PostAsync("/customer/new", """{"user_id":"c1"}""")).Status);
        var (s, updated) = await _g.PostAsync("/customer/update", """{"user_id":"c1","alias":"One","max_budget":3}""");
        Assert.Equal(200, s);
        Assert.Equal("One", updated.GetProperty("alias").GetString());
        Assert.Single((await _g.GetAsync("/customer/list")).Body.EnumerateArray());
        Assert.Equal(404, (await _g.PostAsync("/customer/delete", """{"user_ids":["c1","nope"]}""")).Status);
        Assert.Equal(200, (await _g.PostAsync("/customer/delete", """{"user_ids":["c1"]}""")).Status);
        Assert.Equal(404, (await _g.GetAsync("/customer/info?end_user_id=c1")).Status);
    }
}
