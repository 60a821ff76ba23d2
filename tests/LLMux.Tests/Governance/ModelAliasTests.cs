using System.Net;
using System.Text;
using System.Text.Json;
using Anthropic;
using Anthropic.Core;
using Anthropic.Models.Messages;
using LLMux.Emulators;
using OpenAI.Chat;

namespace LLMux.Tests.Governance;

/// <summary>
/// A key's <c>aliases</c> and its team's <c>model_aliases</c>: the model a client names is replaced before routing,
/// access checks and per-model budgets, on every LLM route, and the aliases show in the key's model lists.
/// </summary>
public sealed class ModelAliasTests : IAsyncLifetime
{
    private GovernanceGateway _g = null!;
    private AnthropicEmulator _anthropic = null!;

    public async Task InitializeAsync()
    {
        _anthropic = await AnthropicEmulator.StartNewAsync();
        _g = await GovernanceGateway.StartAsync($"""
              - model_name: claude-test
                litellm_params:
                  model: anthropic/claude-sonnet-4-5
                  api_base: {_anthropic.ApiBase}
                  api_key: sk-ant-upstream
            """);
    }

    public async Task DisposeAsync()
    {
        await _g.DisposeAsync();
        await _anthropic.DisposeAsync();
    }

    /// <summary>The <c>model</c> of every request the OpenAI emulator received, in order.</summary>
    private string[] UpstreamModels() => [.. _g.Upstream.Requests.Select(static r => r.Json().RootElement.GetProperty("model").GetString()!)];

    [Fact]
    public async Task A_key_alias_is_routed_to_its_target_with_the_OpenAI_SDK()
    {
        var raw = await _g.NewKeyAsync("""{"aliases":{"fast":"gpt-other"}}""");
        ChatCompletion answer = await _g.Host.OpenAI(raw).GetChatClient("fast").CompleteChatAsync([new UserChatMessage("hi")]);
        Assert.Equal("Hello from the emulator.", answer.Content[0].Text);
        // gpt-other's deployment serves openai/gpt-4o; gpt-test's would have sent gpt-4o-mini.
        Assert.Equal(["gpt-4o"], UpstreamModels());

        // A name that is no alias of this key is routed as it is.
        await _g.Host.OpenAI(raw).GetChatClient("gpt-test").CompleteChatAsync([new UserChatMessage("hi")]);
        Assert.Equal(["gpt-4o", "gpt-4o-mini"], UpstreamModels());

        // Another key has no such alias: `fast` is an unknown model for it, and nothing goes upstream.
        var other = await _g.NewKeyAsync();
        using var unknown = await _g.ChatAsync(other, "fast");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("model_not_found", await unknown.Content.ReadAsStringAsync());
        Assert.Equal(2, _g.Upstream.Requests.Count);
    }

    [Fact]
    public async Task Aliases_apply_on_messages_translated_and_passed_through_and_on_embeddings()
    {
        var raw = await _g.NewKeyAsync("""{"aliases":{"fast":"gpt-other","sonnet":"claude-test"}}""");
        var client = new AnthropicClient(new ClientOptions { ApiKey = raw, BaseUrl = _g.Host.Root.ToString().TrimEnd('/'), MaxRetries = 0 });

        // Translated to the OpenAI upstream.
        var translated = await client.Messages.Create(new MessageCreateParams { MaxTokens = 16, Messages = [new UserMessageParam("hi")], Model = "fast" });
        Assert.True(translated.Content[0].TryPickText(out var text));
        Assert.Equal("Hello from the emulator.", text!.Text);
        Assert.Equal(["gpt-4o"], UpstreamModels());

        // Anthropic to Anthropic: the body goes through with only `model` rewritten, to the alias's target.
        await client.Messages.Create(new MessageCreateParams { MaxTokens = 16, Messages = [new UserMessageParam("hi")], Model = "sonnet" });
        var passed = Assert.Single(_anthropic.Requests);
        Assert.Equal("/v1/messages", passed.Path);
        Assert.Equal("claude-sonnet-4-5", passed.Json().RootElement.GetProperty("model").GetString());

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/embeddings") { Content = new StringContent("""{"model":"fast","input":"hi"}""", Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + raw);
        using var embedded = await _g.Host.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, embedded.StatusCode);
        Assert.Equal(["gpt-4o", "gpt-4o"], UpstreamModels());

        using var responses = new HttpRequestMessage(HttpMethod.Post, "/v1/responses") { Content = new StringContent("""{"model":"fast","input":"hello"}""", Encoding.UTF8, "application/json") };
        responses.Headers.TryAddWithoutValidation("Authorization", "Bearer " + raw);
        using var answered = await _g.Host.Http.SendAsync(responses);
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        Assert.Equal(["gpt-4o", "gpt-4o", "gpt-4o"], UpstreamModels());
    }

    [Fact]
    public async Task A_team_alias_applies_to_its_keys_and_a_keys_own_alias_wins()
    {
        Assert.Equal(200, (await _g.PostAsync("/team/new", """{"team_id":"t-alias","model_aliases":{"fast":"gpt-test","big":"gpt-other"}}""")).Status);
        var teamOnly = await _g.NewKeyAsync("""{"team_id":"t-alias"}""");
        var own = await _g.NewKeyAsync("""{"team_id":"t-alias","aliases":{"fast":"gpt-other"}}""");

        using (var r = await _g.ChatAsync(teamOnly, "fast")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using (var r = await _g.ChatAsync(teamOnly, "big")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using (var r = await _g.ChatAsync(own, "fast")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(["gpt-4o-mini", "gpt-4o", "gpt-4o"], UpstreamModels());

        // The team's change reaches its keys at once (their cached grants are evicted).
        var (status, updated) = await _g.PostAsync("/team/update", """{"team_id":"t-alias","model_aliases":{"fast":"gpt-other"}}""");
        Assert.Equal(200, status);
        Assert.Equal("gpt-other", updated.GetProperty("data").GetProperty("model_aliases").GetProperty("fast").GetString());
        using (var r = await _g.ChatAsync(teamOnly, "fast")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("gpt-4o", UpstreamModels()[^1]);
        using (var r = await _g.ChatAsync(teamOnly, "big")) Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);

        var (_, info) = await _g.GetAsync("/team/info?team_id=t-alias");
        Assert.Equal("""{"fast":"gpt-other"}""", info.GetProperty("team_info").GetProperty("model_aliases").GetRawText());
    }

    [Fact]
    public async Task The_access_check_passes_by_the_alias_or_its_target_and_refuses_before_any_upstream_call()
    {
        var byTarget = await _g.NewKeyAsync("""{"models":["gpt-other"],"aliases":{"fast":"gpt-other"}}""");
        var byAlias = await _g.NewKeyAsync("""{"models":["fast"],"aliases":{"fast":"gpt-other"}}""");
        var neither = await _g.NewKeyAsync("""{"models":["gpt-test"],"aliases":{"fast":"gpt-other"}}""");
        using (var r = await _g.ChatAsync(byTarget, "fast")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using (var r = await _g.ChatAsync(byAlias, "fast")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(2, _g.Upstream.Requests.Count);

        using (var r = await _g.ChatAsync(neither, "fast"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
            var text = await r.Content.ReadAsStringAsync();
            Assert.Contains("key_model_access_denied", text);
            Assert.Contains("Tried to access fast", text);
        }
        // The team's models are checked the same way; a team's own alias is the team's to give.
        Assert.Equal(200, (await _g.PostAsync("/team/new", """{"team_id":"t-narrow","models":["gpt-test"],"model_aliases":{"big":"gpt-other"}}""")).Status);
        var inTeam = await _g.NewKeyAsync("""{"team_id":"t-narrow","aliases":{"fast":"gpt-other"}}""");
        using (var r = await _g.ChatAsync(inTeam, "fast"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
            Assert.Contains("team_model_access_denied", await r.Content.ReadAsStringAsync());
        }
        Assert.Equal(2, _g.Upstream.Requests.Count);
        using (var r = await _g.ChatAsync(inTeam, "big")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("gpt-4o", UpstreamModels()[^1]);
    }

    [Fact]
    public async Task Model_lists_show_a_keys_aliases_it_may_call()
    {
        var raw = await _g.NewKeyAsync("""{"models":["gpt-other"],"aliases":{"fast":"gpt-other","cheap":"gpt-test"}}""");
        // `cheap` names a model the key may not call: not listed.
        Assert.Equal(["gpt-other", "fast"], Ids(await _g.GetAsync("/v1/models", raw)));
        Assert.Equal(["gpt-other", "fast"], Ids(await _g.GetAsync("/models", raw)));
        var (status, one) = await _g.GetAsync("/v1/models/fast", raw);
        Assert.Equal(200, status);
        Assert.Equal("fast", one.GetProperty("id").GetString());
        Assert.Equal("openai", one.GetProperty("provider").GetString());
        Assert.Equal(404, (await _g.GetAsync("/v1/models/cheap", raw)).Status);

        var (_, info) = await _g.GetAsync("/model/info", raw);
        var fast = Assert.Single(info.GetProperty("data").EnumerateArray(), static e => e.GetProperty("model_name").GetString() == "fast");
        Assert.Equal("openai/gpt-4o", fast.GetProperty("litellm_params").GetProperty("model").GetString());

        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.TryAddWithoutValidation("x-api-key", raw);
        request.Headers.TryAddWithoutValidation("anthropic-version", "2023-06-01");
        using var anthropic = await _g.Host.Http.SendAsync(request);
        var page = JsonDocument.Parse(await anthropic.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(["gpt-other", "fast"], page.GetProperty("data").EnumerateArray().Select(static m => m.GetProperty("id").GetString()!).ToArray());

        // The master key lists the configured names only (it has no aliases).
        Assert.DoesNotContain("fast", Ids(await _g.GetAsync("/v1/models")));
    }

    [Fact]
    public async Task Aliases_are_stored_shown_updated_cleared_and_bad_ones_refused()
    {
        var raw = await _g.NewKeyAsync("""{"key_alias":"aliased","aliases":{"fast":"gpt-test"}}""");
        var (_, info) = await _g.GetAsync("/key/info?key=" + raw);
        Assert.Equal("""{"fast":"gpt-test"}""", info.GetProperty("info").GetProperty("aliases").GetRawText());
        var (_, list) = await _g.GetAsync("/key/list?return_full_object=true");
        Assert.Equal("gpt-test", list.GetProperty("keys")[0].GetProperty("aliases").GetProperty("fast").GetString());

        foreach (var bad in new[] { "\"fast\"", """{"fast":["gpt-test"]}""", """{"fast":null}""", """{"":"gpt-test"}""" })
        {
            var (status, body) = await _g.PostAsync("/key/update", "{\"key\":\"" + raw + "\",\"aliases\":" + bad + "}");
            Assert.Equal(400, status);
            Assert.Contains("`aliases`", body.GetProperty("error").GetProperty("message").GetString());
        }
        var (teamStatus, teamBody) = await _g.PostAsync("/team/new", """{"team_id":"t-bad","model_aliases":["fast"]}""");
        Assert.Equal(400, teamStatus);
        Assert.Contains("`model_aliases`", teamBody.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(404, (await _g.GetAsync("/team/info?team_id=t-bad")).Status);

        // Unchanged by the refused updates; then replaced, then cleared with null.
        using (var r = await _g.ChatAsync(raw, "fast")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(200, (await _g.PostAsync("/key/update", "{\"key\":\"" + raw + "\",\"aliases\":{\"fast\":\"gpt-other\"}}")).Status);
        using (var r = await _g.ChatAsync(raw, "fast")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(["gpt-4o-mini", "gpt-4o"], UpstreamModels());
        Assert.Equal(200, (await _g.PostAsync("/key/update", "{\"key\":\"" + raw + "\",\"aliases\":null}")).Status);
        using (var r = await _g.ChatAsync(raw, "fast")) Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        (_, info) = await _g.GetAsync("/key/info?key=" + raw);
        Assert.Equal("{}", info.GetProperty("info").GetProperty("aliases").GetRawText());
    }

    // Each gpt-test call costs 0.000018 (11 + 7 tokens at 1 USD per million): a 0.00003 budget is spent after two.

    [Fact]
    public async Task A_model_budget_on_the_upstream_model_holds_whether_the_call_names_the_group_or_an_alias()
    {
        var raw = await _g.NewKeyAsync("""{"aliases":{"fast":"gpt-test"},"model_max_budget":{"gpt-4o-mini":{"budget_limit":0.00003,"time_period":"1h"}}}""");
        using (var r = await _g.ChatAsync(raw, "fast")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using (var r = await _g.ChatAsync(raw, "gpt-test")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var calls = _g.Upstream.Requests.Count;
        foreach (var name in new[] { "fast", "gpt-test" })
        {
            using var over = await _g.ChatAsync(raw, name);
            Assert.Equal(HttpStatusCode.BadRequest, over.StatusCode);
            var text = await over.Content.ReadAsStringAsync();
            Assert.Contains("budget_exceeded", text);
            Assert.Contains("model=gpt-4o-mini", text);
        }
        Assert.Equal(calls, _g.Upstream.Requests.Count);
        // gpt-other serves another upstream model: no budget on it.
        using (var other = await _g.ChatAsync(raw, "gpt-other")) Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task A_model_budget_on_an_alias_counts_the_calls_made_by_it_and_holds_across_a_restart()
    {
        var raw = await _g.NewKeyAsync("""{"aliases":{"fast":"gpt-test"},"model_max_budget":{"fast":{"budget_limit":0.00003,"time_period":"1h"},"openai/gpt-4o":{"budget_limit":0}}}""");
        for (var i = 0; i < 2; i++) using (var r = await _g.ChatAsync(raw, "fast")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using (var over = await _g.ChatAsync(raw, "fast"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, over.StatusCode);
            Assert.Contains("model=fast", await over.Content.ReadAsStringAsync());
        }
        // A budget of 0 on the prefixed upstream name refuses gpt-other (served by openai/gpt-4o) at once.
        using (var zero = await _g.ChatAsync(raw, "gpt-other"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, zero.StatusCode);
            Assert.Contains("model=openai/gpt-4o", await zero.Content.ReadAsStringAsync());
        }

        // The spend logs record the alias's calls under the model it names; the new process reseeds from them.
        await _g.RestartAsync();
        using (var over = await _g.ChatAsync(raw, "fast")) Assert.Equal(HttpStatusCode.BadRequest, over.StatusCode);
        _g.Time.Advance(TimeSpan.FromHours(1));
        using (var reopened = await _g.ChatAsync(raw, "fast")) Assert.Equal(HttpStatusCode.OK, reopened.StatusCode);
    }

    private static string[] Ids((int Status, JsonElement Body) answer)
    {
        Assert.Equal(200, answer.Status);
        return [.. answer.Body.GetProperty("data").EnumerateArray().Select(static m => m.GetProperty("id").GetString()!)];
    }
}
