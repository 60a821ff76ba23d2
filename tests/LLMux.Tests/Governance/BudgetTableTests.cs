using System.Net;
using System.Text;
using System.Text.Json;

namespace LLMux.Tests.Governance;

/// <summary>LiteLLM's budget table (<c>/budget/*</c>) and the end users and keys that link to it, through the real host.</summary>
public sealed class BudgetTableTests : IAsyncLifetime
{
    private GovernanceGateway _g = null!;

    public async Task InitializeAsync() => _g = await GovernanceGateway.StartAsync();
    public async Task DisposeAsync() => await _g.DisposeAsync();

    private async Task<HttpResponseMessage> ChatAs(string key, string endUser, string model = "gpt-test")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent($$"""{"model":"{{model}}","user":"{{endUser}}","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        return await _g.Host.Http.SendAsync(request);
    }

    private async Task<(int Status, string Body)> RawPostAsync(string path, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + GovernanceGateway.Master);
        using var response = await _g.Host.Http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_budget_is_created_read_listed_updated_and_deleted()
    {
        var (status, created) = await _g.PostAsync("/budget/new", """{"budget_id":"free","max_budget":2.5,"soft_budget":1,"rpm_limit":10,"tpm_limit":1000,"max_parallel_requests":3,"budget_duration":"1d","model_max_budget":{"gpt-4o":{"max_budget":0.5,"budget_duration":"1h"}}}""");
        Assert.Equal(200, status);
        Assert.Equal("free", created.GetProperty("budget_id").GetString());
        Assert.Equal(2.5m, created.GetProperty("max_budget").GetDecimal());
        Assert.Equal(10, created.GetProperty("rpm_limit").GetInt64());
        Assert.Equal(0.5m, created.GetProperty("model_max_budget").GetProperty("gpt-4o").GetProperty("budget_limit").GetDecimal());
        // LiteLLM: a duration with no reset time given ends the first window one duration from now.
        Assert.Equal(_g.Time.GetUtcNow().AddDays(1), created.GetProperty("budget_reset_at").GetDateTimeOffset());
        Assert.Equal("default_user_id", created.GetProperty("created_by").GetString());

        var (_, generated) = await _g.PostAsync("/budget/new", """{"max_budget":1}""");
        var generatedId = generated.GetProperty("budget_id").GetString()!;
        Assert.True(Guid.TryParse(generatedId, out _));

        var (infoStatus, info) = await _g.PostAsync("/budget/info", $$"""{"budgets":["free","{{generatedId}}"]}""");
        Assert.Equal(200, infoStatus);
        Assert.Equal(new[] { "free", generatedId }.Order(StringComparer.Ordinal), info.EnumerateArray().Select(static b => b.GetProperty("budget_id").GetString()!).Order(StringComparer.Ordinal));
        var (_, list) = await _g.GetAsync("/budget/list");
        Assert.Equal(2, list.GetArrayLength());

        var (updateStatus, updated) = await _g.PostAsync("/budget/update", """{"budget_id":"free","rpm_limit":null,"max_budget":3}""");
        Assert.Equal(200, updateStatus);
        Assert.Equal(JsonValueKind.Null, updated.GetProperty("rpm_limit").ValueKind);
        Assert.Equal(3m, updated.GetProperty("max_budget").GetDecimal());
        Assert.Equal(1000, updated.GetProperty("tpm_limit").GetInt64());

        var (settingsStatus, settings) = await _g.GetAsync("/budget/settings?budget_id=free");
        Assert.Equal(200, settingsStatus);
        var byName = settings.EnumerateArray().ToDictionary(static s => s.GetProperty("field_name").GetString()!);
        Assert.Equal(3m, byName["max_budget"].GetProperty("field_value").GetDecimal());
        Assert.Equal("Integer", byName["tpm_limit"].GetProperty("field_type").GetString());
        Assert.Equal(JsonValueKind.Null, byName["rpm_limit"].GetProperty("field_value").ValueKind);

        var (deleteStatus, deleted) = await _g.PostAsync("/budget/delete", """{"id":"free"}""");
        Assert.Equal(200, deleteStatus);
        Assert.Equal("free", deleted.GetProperty("budget_id").GetString());
        Assert.Equal(404, (await _g.PostAsync("/budget/info", """{"budgets":["free"]}""")).Status);
        Assert.Single((await _g.GetAsync("/budget/list")).Body.EnumerateArray());
    }

    [Theory]
    [InlineData("/budget/new", "{\"max_budget\":", "not valid JSON")]
    [InlineData("/budget/new", "[1]", "must be a JSON object")]
    [InlineData("/budget/new", """{"max_budget":-1}""", "`max_budget` must be 0 or more")]
    [InlineData("/budget/new", """{"soft_budget":-0.5}""", "`soft_budget` must be 0 or more")]
    [InlineData("/budget/new", """{"rpm_limit":"ten"}""", "`rpm_limit` must be an integer")]
    [InlineData("/budget/new", """{"tpm_limit":-5}""", "`tpm_limit` must be 0 or more")]
    [InlineData("/budget/new", """{"max_parallel_requests":1.5}""", "`max_parallel_requests` must be an integer")]
    [InlineData("/budget/new", """{"budget_duration":"soon"}""", "`budget_duration`")]
    [InlineData("/budget/new", """{"model_max_budget":{"gpt-4o":{"max_budget":-1}}}""", "model_max_budget")]
    [InlineData("/budget/new", """{"budget_reset_at":"tomorrow"}""", "`budget_reset_at` must be an ISO 8601")]
    [InlineData("/budget/new", """{"budget_id":7}""", "`budget_id` must be a string")]
    [InlineData("/budget/new", """{"max_budgett":1}""", "unknown field `max_budgett`")]
    [InlineData("/budget/update", """{"max_budget":1}""", "`budget_id` is required")]
    [InlineData("/budget/info", """{}""", "`budgets` is required")]
    [InlineData("/budget/info", """{"budgets":[]}""", "at least one budget id")]
    [InlineData("/budget/info", """{"budgets":"free"}""", "`budgets` must be a list of strings")]
    [InlineData("/budget/delete", """{}""", "`id` is required")]
    [InlineData("/budget/delete", """{"id":["free"]}""", "`id` must be a string")]
    public async Task Bad_budget_input_is_a_400_that_changes_nothing(string path, string body, string problem)
    {
        var (status, text) = await RawPostAsync(path, body);
        Assert.Equal(400, status);
        Assert.Contains(problem, text);
        using var doc = JsonDocument.Parse(text);
        Assert.Equal("invalid_request_error", doc.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal(0, (await _g.GetAsync("/budget/list")).Body.GetArrayLength());
    }

    [Fact]
    public async Task Unknown_budget_ids_are_404_and_a_taken_id_is_400()
    {
        Assert.Equal(404, (await _g.PostAsync("/budget/update", """{"budget_id":"nope","max_budget":1}""")).Status);
        Assert.Equal(404, (await _g.PostAsync("/budget/delete", """{"id":"nope"}""")).Status);
        Assert.Equal(404, (await _g.PostAsync("/budget/info", """{"budgets":["nope"]}""")).Status);
        Assert.Equal(404, (await _g.GetAsync("/budget/settings?budget_id=nope")).Status);
        Assert.Equal(400, (await _g.GetAsync("/budget/settings")).Status);
        Assert.Equal(200, (await _g.PostAsync("/budget/new", """{"budget_id":"b"}""")).Status);
        var (status, body) = await _g.PostAsync("/budget/new", """{"budget_id":"b","max_budget":5}""");
        Assert.Equal(400, status);
        Assert.Contains("already exists", body.ToString());
        Assert.Equal(404, (await _g.PostAsync("/budget/info", """{"budgets":["b","nope"]}""")).Status);
    }

    [Fact]
    public async Task Budget_routes_need_the_master_key()
    {
        var key = await _g.NewKeyAsync();
        Assert.Equal(403, (await _g.PostAsync("/budget/new", """{"budget_id":"x"}""", key)).Status);
        Assert.Equal(403, (await _g.GetAsync("/budget/list", key)).Status);
        Assert.Equal(0, (await _g.GetAsync("/budget/list")).Body.GetArrayLength());
    }

    [Fact]
    public async Task A_budget_linked_to_an_end_user_is_not_deleted()
    {
        await _g.PostAsync("/budget/new", """{"budget_id":"tier","max_budget":1}""");
        Assert.Equal(200, (await _g.PostAsync("/customer/new", """{"user_id":"acme","budget_id":"tier"}""")).Status);
        var (status, body) = await _g.PostAsync("/budget/delete", """{"id":"tier"}""");
        Assert.Equal(400, status);
        Assert.Contains("still linked", body.ToString());
        Assert.Equal(200, (await _g.PostAsync("/customer/update", """{"user_id":"acme","budget_id":null}""")).Status);
        Assert.Equal(200, (await _g.PostAsync("/budget/delete", """{"id":"tier"}""")).Status);
    }

    [Fact]
    public async Task An_end_user_takes_its_linked_budgets_max_budget_and_an_update_of_the_budget_holds_at_once()
    {
        await _g.PostAsync("/budget/new", """{"budget_id":"tiny","max_budget":0.00002}""");
        var (status, created) = await _g.PostAsync("/customer/new", """{"user_id":"acme","budget_id":"tiny"}""");
        Assert.Equal(200, status);
        Assert.Equal("tiny", created.GetProperty("budget_id").GetString());
        Assert.Equal(0.00002m, created.GetProperty("litellm_budget_table").GetProperty("max_budget").GetDecimal());
        var key = await _g.NewKeyAsync();
        using (var first = await ChatAs(key, "acme")) Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        using (var second = await ChatAs(key, "acme")) Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var calls = _g.Upstream.Requests.Count;
        using (var over = await ChatAs(key, "acme"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, over.StatusCode);
            Assert.Contains("End User=acme over budget", await over.Content.ReadAsStringAsync());
        }
        Assert.Equal(calls, _g.Upstream.Requests.Count);
        // Raising the budget's max lets the end user through on the next call (the budget row is evicted).
        Assert.Equal(200, (await _g.PostAsync("/budget/update", """{"budget_id":"tiny","max_budget":1}""")).Status);
        using (var again = await ChatAs(key, "acme")) Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task Inline_budget_fields_on_an_end_user_create_a_budget_row_and_budget_id_with_them_is_refused()
    {
        var (status, created) = await _g.PostAsync("/customer/new", """{"user_id":"inline","max_budget":0.5,"rpm_limit":3,"budget_duration":"1d"}""");
        Assert.Equal(200, status);
        var id = created.GetProperty("budget_id").GetString()!;
        var (_, info) = await _g.PostAsync("/budget/info", $$"""{"budgets":["{{id}}"]}""");
        var row = Assert.Single(info.EnumerateArray());
        Assert.Equal(0.5m, row.GetProperty("max_budget").GetDecimal());
        Assert.Equal(3, row.GetProperty("rpm_limit").GetInt64());
        Assert.Equal(_g.Time.GetUtcNow().AddDays(1), created.GetProperty("budget_reset_at").GetDateTimeOffset());

        await _g.PostAsync("/budget/new", """{"budget_id":"b"}""");
        var (both, body) = await _g.PostAsync("/customer/new", """{"user_id":"x","budget_id":"b","max_budget":1}""");
        Assert.Equal(400, both);
        Assert.Contains("not both", body.ToString());
        Assert.Equal(400, (await _g.PostAsync("/customer/new", """{"user_id":"x","budget_id":"missing"}""")).Status);
        Assert.Equal(404, (await _g.GetAsync("/customer/info?end_user_id=x")).Status);
        Assert.Equal(400, (await _g.PostAsync("/customer/new", """{"user_id":"x","rpm_limit":-1}""")).Status);
        Assert.Equal(400, (await _g.PostAsync("/customer/new", """{"user_id":"x","tpm_limit":"many"}""")).Status);
        // Only the inline end user's budget and "b" exist: the refused calls wrote nothing.
        Assert.Equal(2, (await _g.GetAsync("/budget/list")).Body.GetArrayLength());
    }

    [Fact]
    public async Task Updating_an_end_users_inline_budget_never_changes_a_budget_others_share()
    {
        await _g.PostAsync("/budget/new", """{"budget_id":"shared","max_budget":5,"rpm_limit":10}""");
        await _g.PostAsync("/customer/new", """{"user_id":"a","budget_id":"shared"}""");
        await _g.PostAsync("/customer/new", """{"user_id":"b","budget_id":"shared"}""");
        var (status, updated) = await _g.PostAsync("/customer/update", """{"user_id":"a","max_budget":1}""");
        Assert.Equal(200, status);
        var own = updated.GetProperty("budget_id").GetString();
        Assert.NotEqual("shared", own);
        Assert.Equal(1m, updated.GetProperty("litellm_budget_table").GetProperty("max_budget").GetDecimal());
        Assert.Equal(10, updated.GetProperty("litellm_budget_table").GetProperty("rpm_limit").GetInt64());
        var (_, shared) = await _g.PostAsync("/budget/info", """{"budgets":["shared"]}""");
        Assert.Equal(5m, shared[0].GetProperty("max_budget").GetDecimal());
        Assert.Equal("shared", (await _g.GetAsync("/customer/info?end_user_id=b")).Body.GetProperty("budget_id").GetString());
    }
    [Fact]
    public async Task A_budget_linked_end_users_spend_resets_on_the_budgets_duration_and_survives_a_restart()
    {
        await _g.PostAsync("/budget/new", """{"budget_id":"hourly","max_budget":0.00002,"budget_duration":"1h"}""");
        var (_, created) = await _g.PostAsync("/customer/new", """{"user_id":"acme","budget_id":"hourly"}""");
        Assert.Equal(_g.Time.GetUtcNow().AddHours(1), created.GetProperty("budget_reset_at").GetDateTimeOffset());
        var key = await _g.NewKeyAsync();
        using (var a = await ChatAs(key, "acme")) Assert.Equal(HttpStatusCode.OK, a.StatusCode);
        using (var b = await ChatAs(key, "acme")) Assert.Equal(HttpStatusCode.OK, b.StatusCode);
        using (var over = await ChatAs(key, "acme")) Assert.Equal(HttpStatusCode.BadRequest, over.StatusCode);
        _g.Time.Advance(TimeSpan.FromMinutes(61));
        using (var reset = await ChatAs(key, "acme")) Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        // The reset reached the store: after a restart the end user has the one call of its new window.
        await _g.RestartAsync();
        var (_, info) = await _g.GetAsync("/customer/info?end_user_id=acme");
        Assert.Equal(0.000018m, info.GetProperty("spend").GetDecimal());
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 14, 0, 0, TimeSpan.Zero), info.GetProperty("budget_reset_at").GetDateTimeOffset());
        using (var second = await ChatAs(key, "acme")) Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        using (var overAgain = await ChatAs(key, "acme")) Assert.Equal(HttpStatusCode.BadRequest, overAgain.StatusCode);
    }

    [Fact]
    public async Task A_window_given_to_a_budget_reaches_its_linked_end_users_at_once()
    {
        await _g.PostAsync("/budget/new", """{"budget_id":"forever","max_budget":0.00002}""");
        await _g.PostAsync("/customer/new", """{"user_id":"acme","budget_id":"forever"}""");
        var key = await _g.NewKeyAsync();
        using (var a = await ChatAs(key, "acme")) Assert.Equal(HttpStatusCode.OK, a.StatusCode);
        using (var b = await ChatAs(key, "acme")) Assert.Equal(HttpStatusCode.OK, b.StatusCode);
        using (var over = await ChatAs(key, "acme")) Assert.Equal(HttpStatusCode.BadRequest, over.StatusCode);
        // No window: still over a day later.
        _g.Time.Advance(TimeSpan.FromDays(1));
        using (var still = await ChatAs(key, "acme")) Assert.Equal(HttpStatusCode.BadRequest, still.StatusCode);
        // The budget gets an hourly window: the end user's spend so far still counts now, and its window ends within the hour.
        Assert.Equal(200, (await _g.PostAsync("/budget/update", """{"budget_id":"forever","budget_duration":"1h"}""")).Status);
        using (var counted = await ChatAs(key, "acme")) Assert.Equal(HttpStatusCode.BadRequest, counted.StatusCode);
        _g.Time.Advance(TimeSpan.FromMinutes(61));
        using (var reset = await ChatAs(key, "acme")) Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
    }
}
