using System.ClientModel;
using System.Net;
using LLMux.Tests.Governance;
using OpenAI.Chat;
using OpenQA.Selenium;

namespace LLMux.Tests.Ui;

/// <summary>
/// The admin console in a real browser (headless Chromium): sign in, create a team and a key, use the key through the
/// OpenAI SDK, see its spend and log row, block it and see calls refused; every page screenshotted into docs/ui/.
/// </summary>
public sealed class AdminConsoleBrowserTests : IAsyncLifetime
{
    private GovernanceGateway _g = null!;

    public async Task InitializeAsync() => _g = await GovernanceGateway.StartAsync();

    public async Task DisposeAsync() => await _g.DisposeAsync();

    private void SignIn(Browser b, string key = GovernanceGateway.Master)
    {
        b.Open("/ui/keys");
        b.Until(d => d.Url.Contains("/ui/login", StringComparison.Ordinal), "the sign-in page");
        b.Fill("#key", key);
        b.Find("button[type=submit]").Click();
    }

    [SkippableFact]
    public async Task An_admin_runs_a_keys_whole_lifecycle_from_the_browser()
    {
        using var b = Browser.Start(_g.Host.Root);

        // A wrong key is refused on the sign-in page itself.
        SignIn(b, "sk-not-the-master");
        Assert.Contains("not the master key", b.Find("#login-error").Text, StringComparison.Ordinal);
        b.Screenshot("login-refused");

        b.Fill("#key", GovernanceGateway.Master);
        b.Find("button[type=submit]").Click();
        b.Until(d => d.Url.EndsWith("/ui/keys", StringComparison.Ordinal), "the keys page after sign-in");
        var cookie = b.Driver.Manage().Cookies.GetCookieNamed("llmux_console");
        Assert.NotNull(cookie);
        Assert.True(cookie.IsHttpOnly);
        Assert.Equal("Strict", cookie.SameSite);

        // Every page is reached from the navigation by its name.
        foreach (var name in new[] { "Teams", "Users", "Models", "Usage", "Logs", "Live", "Keys" })
        {
            b.Driver.FindElement(By.LinkText(name)).Click();
            b.Until(d => d.FindElement(By.TagName("h1")).Text == name, $"the {name} page");
        }

        // A team, then a key in it with a budget.
        b.Driver.FindElement(By.LinkText("Teams")).Click();
        b.Fill("#team-alias", "search-team");
        b.Fill("#team-budget", "25");
        b.Find("form[data-api='/team/new'] button[type=submit]").Click();
        b.Until(d => d.FindElements(By.CssSelector("tr[data-team='search-team']")).Count == 1, "the new team's row");
        b.Screenshot("teams");

        b.Driver.FindElement(By.LinkText("Keys")).Click();
        b.Fill("#new-alias", "ci-key");
        b.Choose("#new-team", "search-team");
        b.Fill("#new-models", "gpt-test");
        b.Fill("#new-budget", "10");
        b.Fill("#new-rpm", "100");
        b.Find("form[data-api='/key/generate'] button[type=submit]").Click();
        var raw = b.Find("#new-key-value").Text;
        Assert.StartsWith("sk-", raw, StringComparison.Ordinal);
        Assert.Contains("only time it is shown", b.Text(".new-key"), StringComparison.Ordinal);
        b.Screenshot("key-created");

        // The key works through the official SDK, inside its models only.
        var chat = new ChatClient("gpt-test", new ApiKeyCredential(raw), new OpenAI.OpenAIClientOptions { Endpoint = new Uri(_g.Host.Root, "/v1") });
        var answer = await chat.CompleteChatAsync([new UserChatMessage("hello from the console test")]);
        Assert.False(string.IsNullOrEmpty(answer.Value.Content[0].Text));
        var outside = await Assert.ThrowsAsync<ClientResultException>(() => new ChatClient("gpt-other", new ApiKeyCredential(raw),
            new OpenAI.OpenAIClientOptions { Endpoint = new Uri(_g.Host.Root, "/v1") }).CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(401, outside.Status);

        // Its spend and its log row appear.
        b.Find("a[href='/ui/keys']").Click();
        var row = b.Wait(d => d.FindElements(By.CssSelector("tr[data-key]")).FirstOrDefault(static r => r.Text.Contains("ci-key", StringComparison.Ordinal) && !r.Text.Contains("$0 of", StringComparison.Ordinal)), "the key's spend", 20);
        Assert.Contains("search-team", row.Text, StringComparison.Ordinal);
        Assert.Contains("of $10", row.Text, StringComparison.Ordinal);
        Assert.Contains("100 rpm", row.Text, StringComparison.Ordinal);
        b.Screenshot("keys");

        b.Driver.FindElement(By.LinkText("Logs")).Click();
        var log = b.Wait(d => d.FindElements(By.CssSelector("table.logs tbody tr")).FirstOrDefault(static r => r.Text.Contains("ci-key", StringComparison.Ordinal)), "the key's log row", 20);
        Assert.Contains("gpt-test", log.Text, StringComparison.Ordinal);
        Assert.Contains("success", log.Text, StringComparison.Ordinal);
        Assert.Contains("11 / 7", log.Text, StringComparison.Ordinal);
        b.Screenshot("logs");

        b.Driver.FindElement(By.LinkText("Usage")).Click();
        Assert.Equal("1", b.Find("#total-requests").Text);
        Assert.Contains("ci-key", b.Text("table[data-table='by-key']"), StringComparison.Ordinal);
        Assert.Contains("search-team", b.Text("table[data-table='by-team']"), StringComparison.Ordinal);
        b.Screenshot("usage");

        // Block it from its row: the next call is refused.
        b.Driver.FindElement(By.LinkText("Keys")).Click();
        b.Find("tr[data-key] button[data-api='/key/block']").Click();
        b.Driver.SwitchTo().Alert().Accept();
        b.Until(d => d.FindElements(By.CssSelector("tr[data-key] .status.bad")).Any(static e => e.Text == "Blocked"), "the key shown as blocked");
        var blocked = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("again")]));
        Assert.Equal(401, blocked.Status);
        Assert.Single(_g.Upstream.Requests);

        // Regenerate shows the new key once; the old one stays refused.
        b.Find("tr[data-key] button[data-api='/key/regenerate']").Click();
        b.Driver.SwitchTo().Alert().Accept();
        var regenerated = b.Find("#new-key-value").Text;
        Assert.StartsWith("sk-", regenerated, StringComparison.Ordinal);
        Assert.NotEqual(raw, regenerated);

        // Log out ends the session: the pages ask to sign in again.
        b.Find("form.logout button").Click();
        b.Until(d => d.Url.Contains("/ui/login", StringComparison.Ordinal), "the sign-in page after log-out");
        b.Open("/ui/keys");
        Assert.Contains("/ui/login", b.Driver.Url, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Every_page_is_screenshotted_light_dark_and_phone_width_and_live_updates_without_a_reload()
    {
        using var b = Browser.Start(_g.Host.Root);
        SignIn(b);
        b.Until(d => d.Url.EndsWith("/ui/keys", StringComparison.Ordinal), "the keys page");
        await _g.PostAsync("/team/new", """{"team_alias":"platform","max_budget":50}""");
        await _g.PostAsync("/user/new", """{"user_id":"ada","user_email":"ada@example.com","user_role":"proxy_admin"}""");
        var key = await _g.NewKeyAsync("""{"key_alias":"bench-key","max_budget":5,"tpm_limit":10000}""");

        b.Open("/ui/live");
        b.Until(d => d.FindElement(By.CssSelector("[data-live]")).GetAttribute("data-updated") is { Length: > 0 }, "a first live frame");
        for (var i = 0; i < 5; i++) (await _g.ChatAsync(key)).Dispose();
        b.Until(d => d.FindElement(By.Id("live-rps")).Text is var t && t != "0" && t != "–", "live requests per second above 0", 20);
        Assert.Contains("/ui/live", b.Driver.Url, StringComparison.Ordinal);
        b.Screenshot("live");

        foreach (var page in new[] { "keys", "teams", "users", "models", "usage", "logs" })
        {
            b.Open("/ui/" + page);
            b.Find("h1");
            b.Screenshot(page);
        }
        Assert.Contains("gpt-test", b.Driver.FindElement(By.CssSelector("table.logs")).Text, StringComparison.Ordinal);
        b.Open("/ui/models");
        Assert.Contains("healthy", b.Text("section[data-model='gpt-test']"), StringComparison.Ordinal);
        Assert.Contains("per 1M tokens", b.Text("section[data-model='gpt-test']"), StringComparison.Ordinal);

        b.ColorScheme("dark");
        b.Open("/ui/keys");
        var background = (string?)b.Driver.ExecuteScript("return getComputedStyle(document.documentElement).backgroundColor");
        Assert.Equal("rgb(18, 20, 23)", background);
        b.Screenshot("keys-dark");
        b.ColorScheme("light");

        b.Resize(390, 844);
        b.Open("/ui/keys");
        var overflow = b.Driver.ExecuteScript("return document.documentElement.scrollWidth > window.innerWidth + 1") is true;
        Assert.False(overflow, "the keys page scrolls sideways at phone width");
        b.Screenshot("keys-phone");

        // Keyboard: the skip link is the first stop and moves focus to the content.
        b.Resize(1280, 900);
        b.Open("/ui/teams");
        b.Driver.FindElement(By.TagName("body")).SendKeys(Keys.Tab);
        Assert.Equal("Skip to content", b.Driver.SwitchTo().ActiveElement().Text);
        Assert.Equal("team-alias", b.Driver.FindElement(By.CssSelector("label[for='team-alias']")).GetAttribute("for"));
    }

    [SkippableFact]
    public async Task A_session_expires_and_changes_without_the_csrf_token_are_refused()
    {
        using var b = Browser.Start(_g.Host.Root);
        SignIn(b);
        b.Until(d => d.Url.EndsWith("/ui/keys", StringComparison.Ordinal), "the keys page");
        var session = b.Driver.Manage().Cookies.GetCookieNamed("llmux_console")!.Value;

        using var http = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = _g.Host.Root };
        async Task<(HttpStatusCode, string)> Post(string path, string json, string? csrf)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") };
            request.Headers.Add("Cookie", "llmux_console=" + session);
            if (csrf is not null) request.Headers.Add("x-llmux-csrf", csrf);
            using var response = await http.SendAsync(request);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        // The session cookie alone (what a cross-site form could send) changes nothing.
        var (noToken, noTokenBody) = await Post("/key/generate", """{"key_alias":"csrf"}""", null);
        Assert.Equal(HttpStatusCode.Forbidden, noToken);
        Assert.Contains("csrf_token_missing", noTokenBody, StringComparison.Ordinal);
        var (wrong, _) = await Post("/key/generate", """{"key_alias":"csrf"}""", "not-the-token");
        Assert.Equal(HttpStatusCode.Forbidden, wrong);
        var csrf = b.Driver.FindElement(By.CssSelector("meta[name='csrf-token']")).GetAttribute("content");
        var (ok, okBody) = await Post("/key/generate", """{"key_alias":"with-token"}""", csrf);
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.Contains("\"key\":\"sk-", okBody, StringComparison.Ordinal);
        var (_, list) = await _g.GetAsync("/key/list?return_full_object=true");
        Assert.DoesNotContain("\"csrf\"", list.ToString(), StringComparison.Ordinal);
        // Nor does the session reach the model routes.
        var (chat, chatBody) = await Post("/v1/chat/completions", """{"model":"gpt-test","messages":[{"role":"user","content":"hi"}]}""", csrf);
        Assert.Equal(HttpStatusCode.Unauthorized, chat);
        Assert.Contains("console_session_not_a_key", chatBody, StringComparison.Ordinal);
        // Log-out without the token is refused too.
        using (var logout = new HttpRequestMessage(HttpMethod.Post, "/ui/logout") { Content = new FormUrlEncodedContent([]) })
        {
            logout.Headers.Add("Cookie", "llmux_console=" + session);
            using var response = await http.SendAsync(logout);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }

        // Pages hold keys once: never cached.
        using (var page = new HttpRequestMessage(HttpMethod.Get, "/ui/keys"))
        {
            page.Headers.Add("Cookie", "llmux_console=" + session);
            using var response = await http.SendAsync(page);
            Assert.True(response.Headers.CacheControl?.NoStore);
            Assert.Contains("frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        }

        // Thirty idle minutes end the session, in the browser and for the API alike.
        _g.Time.Advance(TimeSpan.FromMinutes(31));
        b.Open("/ui/teams");
        b.Until(d => d.Url.Contains("/ui/login?next=%2Fui%2Fteams", StringComparison.Ordinal), "the sign-in page after the session expired");
        var (expired, expiredBody) = await Post("/key/generate", "{}", csrf);
        Assert.Equal(HttpStatusCode.Unauthorized, expired);
        Assert.Contains("console_session_expired", expiredBody, StringComparison.Ordinal);

        // Signing in again returns to the page that asked.
        b.Fill("#key", GovernanceGateway.Master);
        b.Find("button[type=submit]").Click();
        b.Until(d => d.Url.EndsWith("/ui/teams", StringComparison.Ordinal), "the teams page after signing in again");
    }

    [Fact]
    public async Task The_sign_in_form_refuses_a_post_without_its_token_and_slows_down_guessing()
    {
        using var http = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = _g.Host.Root };
        using var forged = await http.PostAsync("/ui/login", new FormUrlEncodedContent([new("key", GovernanceGateway.Master), new("login_token", "guess")]));
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        Assert.False(forged.Headers.Contains("Set-Cookie") && forged.Headers.GetValues("Set-Cookie").Any(static c => c.StartsWith("llmux_console=", StringComparison.Ordinal)));

        async Task<HttpResponseMessage> Attempt(string key)
        {
            using var form = await http.GetAsync("/ui/login");
            var loginCookie = form.Headers.GetValues("Set-Cookie").Single(static c => c.StartsWith("llmux_console_login=", StringComparison.Ordinal)).Split(';')[0];
            var token = loginCookie.Split('=')[1];
            var request = new HttpRequestMessage(HttpMethod.Post, "/ui/login") { Content = new FormUrlEncodedContent([new("key", key), new("login_token", token)]) };
            request.Headers.Add("Cookie", loginCookie);
            return await http.SendAsync(request);
        }

        for (var i = 0; i < 10; i++)
        {
            using var wrong = await Attempt("sk-wrong-" + i);
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            Assert.DoesNotContain("sk-wrong-" + i, await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using (var limited = await Attempt(GovernanceGateway.Master)) Assert.Equal((HttpStatusCode)429, limited.StatusCode);
        _g.Time.Advance(TimeSpan.FromMinutes(1));
        using var right = await Attempt(GovernanceGateway.Master);
        Assert.Equal(HttpStatusCode.Found, right.StatusCode);
        Assert.Equal("/ui/keys", right.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task A_proxy_admin_users_key_signs_in_and_an_ordinary_key_does_not()
    {
        await _g.PostAsync("/user/new", """{"user_id":"root-ada","user_role":"proxy_admin"}""");
        await _g.PostAsync("/user/new", """{"user_id":"bob","user_role":"internal_user"}""");
        var admin = await _g.NewKeyAsync("""{"user_id":"root-ada"}""");
        var ordinary = await _g.NewKeyAsync("""{"user_id":"bob"}""");
        using var http = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = _g.Host.Root };

        async Task<HttpResponseMessage> SignIn(string key)
        {
            using var form = await http.GetAsync("/ui/login");
            var loginCookie = form.Headers.GetValues("Set-Cookie").Single(static c => c.StartsWith("llmux_console_login=", StringComparison.Ordinal)).Split(';')[0];
            var request = new HttpRequestMessage(HttpMethod.Post, "/ui/login") { Content = new FormUrlEncodedContent([new("key", key), new("login_token", loginCookie.Split('=')[1])]) };
            request.Headers.Add("Cookie", loginCookie);
            return await http.SendAsync(request);
        }

        using (var refused = await SignIn(ordinary)) Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        using var signedIn = await SignIn(admin);
        Assert.Equal(HttpStatusCode.Found, signedIn.StatusCode);
        var session = signedIn.Headers.GetValues("Set-Cookie").Single(static c => c.StartsWith("llmux_console=", StringComparison.Ordinal)).Split(';')[0];
        using var page = new HttpRequestMessage(HttpMethod.Get, "/ui/users");
        page.Headers.Add("Cookie", session);
        using var users = await http.SendAsync(page);
        var html = await users.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, users.StatusCode);
        Assert.Contains("root-ada (sk-...", html, StringComparison.Ordinal);
        Assert.DoesNotContain(admin, html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_master_key_ui_says_what_turns_the_console_on()
    {
        await using var host = await LLMux.Tests.Infrastructure.GatewayHost.StartAsync("""
            model_list:
              - model_name: m
                litellm_params:
                  model: mock/echo
            """);
        using var response = await host.Http.GetAsync("/ui/keys");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("console_disabled", body, StringComparison.Ordinal);
        Assert.Contains("master_key", body, StringComparison.Ordinal);
    }
}
