using System.Collections.Concurrent;
using System.Net;
using LLMux.Governance;
using LLMux.Governance.Keys;
using LLMux.Pipeline.Context;
using LLMux.Providers;
using LLMux.Stages.Routing;

namespace LLMux.Host.Ui;

/// <summary>What a page handler needs: the request, the signed-in session and the gateway's state.</summary>
internal sealed record ConsoleRequest(HttpContext Http, ConsoleSessions.Session Session, GovernanceService Governance, ModelRegistry Registry, RouterState Router, ProviderCatalog Catalog)
{
    public IQueryCollection Query => Http.Request.Query;
    public DateTimeOffset Now => Governance.Time.GetUtcNow();
}

/// <summary>
/// <c>/ui</c>: the admin console. Sign-in with the master key (or the key of a <c>proxy_admin</c> user) sets an
/// HTTP-only, SameSite=Strict session cookie; pages are rendered on the server; every change is a call to the admin
/// API made by the page's script with the session's CSRF token (<see cref="Admin.RequestAuthenticator"/>), so the
/// console can do exactly what curl can and no more.
/// </summary>
internal sealed class ConsoleEndpoints(ConsoleSessions sessions, GovernanceService governance, ModelRegistry registry, RouterState router, ProviderCatalog catalog, LiveStats live)
{
    private const string LoginCookie = "llmux_console_login";
    private readonly ConcurrentDictionary<string, (int Count, long WindowStart)> _failures = new(StringComparer.Ordinal);

    public void Map(WebApplication app)
    {
        app.MapGet("/ui", static http => { http.Response.Redirect("/ui/keys"); return Task.CompletedTask; });
        app.MapGet("/ui/", static http => { http.Response.Redirect("/ui/keys"); return Task.CompletedTask; });
        app.MapGet("/ui/login", LoginFormAsync);
        app.MapPost("/ui/login", LoginAsync);
        app.MapPost("/ui/logout", LogoutAsync);
        app.MapGet("/ui/assets/{name}", static http => ConsoleAssets.WriteAsync(http, http.Request.RouteValues["name"] as string ?? ""));
        app.MapGet("/ui/live/events", http => WithSession(http, r => live.StreamAsync(r)));
        app.MapGet("/ui/keys", http => WithSession(http, KeysPage.RenderAsync));
        app.MapGet("/ui/keys/edit", http => WithSession(http, KeysPage.RenderEditAsync));
        app.MapGet("/ui/teams", http => WithSession(http, TeamsPage.RenderAsync));
        app.MapGet("/ui/users", http => WithSession(http, UsersPage.RenderAsync));
        app.MapGet("/ui/models", http => WithSession(http, ModelsPage.RenderAsync));
        app.MapGet("/ui/usage", http => WithSession(http, UsagePage.RenderAsync));
        app.MapGet("/ui/logs", http => WithSession(http, LogsPage.RenderAsync));
        app.MapGet("/ui/live", http => WithSession(http, LivePage.RenderAsync));
    }

    private async Task WithSession(HttpContext http, Func<ConsoleRequest, Task> page)
    {
        var session = sessions.Find(http.Request.Cookies[ConsoleSessions.CookieName]);
        if (session is null)
        {
            ConsoleLayout.PrivateHeaders(http.Response);
            var next = http.Request.Path.Value + http.Request.QueryString.Value;
            http.Response.Redirect("/ui/login?next=" + Uri.EscapeDataString(next));
            return;
        }
        // Pages show spend and logs: rows the writer is still gathering are written first, so a call just made shows
        // (bounded: a database that is away must not hold the page).
        try { await governance.Writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(2), http.RequestAborted); }
        catch (TimeoutException) { }
        await page(new ConsoleRequest(http, session, governance, registry, router, catalog));
    }

    private static bool Secure(HttpRequest request) =>
        request.IsHttps || request.Host.Host is "localhost" || (IPAddress.TryParse(request.Host.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    private static Task LoginFormAsync(HttpContext http) => WriteLoginAsync(http, null, 200);

    private static Task WriteLoginAsync(HttpContext http, string? error, int status)
    {
        // Login CSRF: the form carries a token that must match a cookie set with it (double submit).
        var token = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        http.Response.Cookies.Append(LoginCookie, token, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = Secure(http.Request), Path = "/ui" });
        var next = SafeNext(http.Request.Query["next"].ToString());
        var h = ConsoleLayout.Head("Sign in");
        h.Raw("</head><body class=\"login\"><main id=\"main\"><h1>LLMux console</h1>");
        h.Raw("<form method=\"post\" action=\"/ui/login\" class=\"card login-form\">");
        if (error is not null) h.Raw("<p class=\"error\" role=\"alert\" id=\"login-error\">").Text(error).Raw("</p>");
        h.Raw("<label for=\"key\">Master key or admin key</label>");
        h.Raw("<input id=\"key\" name=\"key\" type=\"password\" autocomplete=\"current-password\" required autofocus");
        if (error is not null) h.Raw(" aria-describedby=\"login-error\" aria-invalid=\"true\"");
        h.Raw(">");
        h.Raw("<input type=\"hidden\" name=\"login_token\"").Attr("value", token).Raw(">");
        h.Raw("<input type=\"hidden\" name=\"next\"").Attr("value", next).Raw(">");
        h.Raw("<button type=\"submit\">Sign in</button>");
        if (!Secure(http.Request)) h.Raw("<p class=\"muted\">This page is served over plain HTTP: put TLS in front of the gateway before signing in from another machine.</p>");
        h.Raw("</form></main></body></html>");
        return ConsoleLayout.WriteAsync(http, h.ToString(), status);
    }

    private async Task LoginAsync(HttpContext http)
    {
        if (!http.Request.HasFormContentType) { await WriteLoginAsync(http, "Sign in with the form.", 400); return; }
        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var expected = http.Request.Cookies[LoginCookie];
        var presentedToken = form["login_token"].ToString();
        if (string.IsNullOrEmpty(expected) || !string.Equals(expected, presentedToken, StringComparison.Ordinal))
        {
            await WriteLoginAsync(http, "The sign-in form expired or did not come from this console; try again.", 403);
            return;
        }
        var client = http.Connection.RemoteIpAddress?.ToString() ?? "?";
        if (TooManyFailures(client)) { await WriteLoginAsync(http, "Too many wrong keys from this address; wait a minute and try again.", 429); return; }
        var key = form["key"].ToString().Trim();
        var who = AdminName(key);
        if (who is null)
        {
            CountFailure(client);
            await WriteLoginAsync(http, "That is not the master key or the key of an admin user.", 401);
            return;
        }
        _failures.TryRemove(client, out _);
        // Bound to the key it signed in with (not the key in force read again now, which a rotation could change in
        // between): the session ends as soon as that key is no longer the master key.
        var (cookie, _) = sessions.Start(who, who == MasterName ? VirtualKeys.Hash(key) : null);
        http.Response.Cookies.Delete(LoginCookie, new CookieOptions { Path = "/ui" });
        http.Response.Cookies.Append(ConsoleSessions.CookieName, cookie, new CookieOptions
        {
            HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = Secure(http.Request), Path = "/", MaxAge = sessions.MaxLifetime, IsEssential = true,
        });
        ConsoleLayout.PrivateHeaders(http.Response);
        http.Response.Redirect(SafeNext(form["next"].ToString()), permanent: false);
    }

    private const string MasterName = "master key";

    /// <summary>The name shown for a key that may sign in: the master key, or a virtual key whose user is a proxy admin.</summary>
    private string? AdminName(string key)
    {
        if (key.Length == 0) return null;
        var caller = governance.Authenticate(key, out _);
        if (caller is null) return null;
        if (caller.IsAdmin) return MasterName;
        var grant = governance.Grant(caller.KeyHash);
        return grant?.User is { UserRole: "proxy_admin" } user ? (user.UserEmail ?? user.UserId) + " (" + VirtualKeys.NameOf(key) + ")" : null;
    }

    private async Task LogoutAsync(HttpContext http)
    {
        var cookie = http.Request.Cookies[ConsoleSessions.CookieName];
        var session = sessions.Find(cookie);
        var form = http.Request.HasFormContentType ? await http.Request.ReadFormAsync(http.RequestAborted) : null;
        if (session is not null && !ConsoleSessions.CsrfMatches(session, form?[ConsoleSessions.CsrfField].ToString()))
        {
            ConsoleLayout.PrivateHeaders(http.Response);
            http.Response.StatusCode = 403;
            await http.Response.WriteAsync("log-out needs the page's CSRF token", http.RequestAborted);
            return;
        }
        sessions.End(cookie);
        http.Response.Cookies.Delete(ConsoleSessions.CookieName, new CookieOptions { Path = "/" });
        ConsoleLayout.PrivateHeaders(http.Response);
        http.Response.Redirect("/ui/login");
    }

    /// <summary>Only a path of this console: never an absolute URL another site could be sent to.</summary>
    private static string SafeNext(string next) =>
        next.StartsWith("/ui/", StringComparison.Ordinal) && !next.StartsWith("//", StringComparison.Ordinal) && !next.Contains('\\') && !next.StartsWith("/ui/login", StringComparison.Ordinal) ? next : "/ui/keys";

    private bool TooManyFailures(string client)
    {
        var now = governance.Time.GetTimestamp();
        return _failures.TryGetValue(client, out var f) && governance.Time.GetElapsedTime(f.WindowStart, now) < TimeSpan.FromMinutes(1) && f.Count >= 10;
    }

    private void CountFailure(string client)
    {
        var now = governance.Time.GetTimestamp();
        _failures.AddOrUpdate(client, (1, now), (_, f) => governance.Time.GetElapsedTime(f.WindowStart, now) < TimeSpan.FromMinutes(1) ? (f.Count + 1, f.WindowStart) : (1, now));
    }
}
