using System.Text;

namespace LLMux.Host.Ui;

/// <summary>
/// The frame every console page shares — head, navigation, the log-out control — and the headers that keep a page
/// private: no caching (a page may show a key once), no framing, scripts and styles from the host only.
/// </summary>
internal static class ConsoleLayout
{
    /// <summary>The pages, in navigation order: (path under /ui, link name).</summary>
    public static readonly (string Path, string Name)[] Pages =
    [
        ("keys", "Keys"), ("teams", "Teams"), ("users", "Users"), ("models", "Models"), ("usage", "Usage"), ("logs", "Logs"), ("live", "Live"),
    ];

    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public static void PrivateHeaders(HttpResponse response)
    {
        var h = response.Headers;
        h.CacheControl = "no-store";
        h.Pragma = "no-cache";
        h["Content-Security-Policy"] = ContentSecurityPolicy;
        h["X-Frame-Options"] = "DENY";
        h["X-Content-Type-Options"] = "nosniff";
        h["Referrer-Policy"] = "no-referrer";
    }

    public static Task WriteAsync(HttpContext http, string html, int status = 200)
    {
        PrivateHeaders(http.Response);
        http.Response.StatusCode = status;
        http.Response.ContentType = "text/html; charset=utf-8";
        return http.Response.WriteAsync(html, Encoding.UTF8, http.RequestAborted);
    }

    /// <summary>A whole signed-in page: <paramref name="active"/> is the current page's path under /ui.</summary>
    public static string Page(string title, string active, ConsoleSessions.Session session, Action<Html> body)
    {
        var h = Head(title);
        h.Raw("<meta name=\"csrf-token\"").Attr("content", session.Csrf).Raw(">");
        h.Raw("</head><body><a class=\"skip\" href=\"#main\">Skip to content</a><header class=\"top\"><a class=\"brand\" href=\"/ui/keys\">LLMux</a>");
        h.Raw("<nav aria-label=\"Console\"><ul>");
        foreach (var (path, name) in Pages)
        {
            h.Raw("<li><a href=\"/ui/").Raw(path).Raw("\"");
            if (path == active) h.Raw(" aria-current=\"page\"");
            h.Raw(">").Text(name).Raw("</a></li>");
        }
        h.Raw("</ul></nav><form class=\"logout\" method=\"post\" action=\"/ui/logout\"><span class=\"who\">").Text(session.SignedInAs).Raw("</span>");
        h.Raw("<input type=\"hidden\"").Attr("name", ConsoleSessions.CsrfField).Attr("value", session.Csrf).Raw("><button type=\"submit\">Log out</button></form></header>");
        h.Raw("<main id=\"main\" tabindex=\"-1\"><h1>").Text(title).Raw("</h1><div id=\"flash\" role=\"status\" aria-live=\"polite\"></div>");
        body(h);
        h.Raw("</main></body></html>");
        return h.ToString();
    }

    /// <summary>The page head up to (not including) <c>&lt;/head&gt;</c>.</summary>
    public static Html Head(string title)
    {
        var h = new Html();
        h.Raw("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        h.Raw("<meta name=\"color-scheme\" content=\"light dark\"><title>").Text(title).Raw(" · LLMux</title>");
        h.Raw("<link rel=\"stylesheet\" href=\"/ui/assets/console.css\"><script src=\"/ui/assets/console.js\" defer></script>");
        return h;
    }
}
