using System.Globalization;
using LLMux.Governance.Keys;
using LLMux.Governance.Storage;

namespace LLMux.Host.Ui;

/// <summary><c>/ui/logs</c>: the most recent requests (from the spend log: no message bodies are kept), filtered by key,
/// team, model or status, each with its details.</summary>
internal static class LogsPage
{
    private const int Shown = 200;

    public static async Task RenderAsync(ConsoleRequest r)
    {
        string? Opt(string name) => r.Query[name].ToString().Trim() is { Length: > 0 and <= 200 } v ? v : null;
        var key = Opt("key");
        var team = Opt("team");
        var model = Opt("model");
        var status = Opt("status");
        string? keyHash = null;
        if (key is not null)
        {
            // A key alias, a raw key or a key hash.
            keyHash = (await r.Governance.Store.FindKeyByAliasAsync(key, r.Http.RequestAborted))?.Token ?? VirtualKeys.TokenOf(key);
        }
        var rows = await r.Governance.Store.SpendLogsAsync(new SpendQuery(ApiKey: keyHash, TeamId: team, Limit: model is null && status is null ? Shown : 20_000), r.Http.RequestAborted);
        var shown = rows.Where(x => (model is null || x.ModelGroup == model || x.Model == model) && (status is null || x.Status == status)).Take(Shown).ToList();

        var html = ConsoleLayout.Page("Logs", "logs", r.Session, h =>
        {
            h.Raw("<form method=\"get\" action=\"/ui/logs\" class=\"grid filters\">");
            ConsoleForms.Field(h, "f-key", "key", "Key alias", key);
            ConsoleForms.Field(h, "f-team", "team", "Team id", team);
            ConsoleForms.Select(h, "f-model", "model", "Model", r.Registry.Names.Select(static n => (n, n)).Prepend(("", "any model")), model);
            ConsoleForms.Select(h, "f-status", "status", "Status", [("", "any"), ("success", "success"), ("failure", "failure")], status);
            h.Raw("<div class=\"actions\"><button type=\"submit\">Filter</button> <a href=\"/ui/logs\">Clear</a></div></form>");
            h.Raw("<p class=\"muted\">The ").Text(Shown).Raw(" most recent matching requests. Message bodies are not logged.</p>");
            if (shown.Count == 0) { h.Raw("<p class=\"empty\">No requests match.</p>"); return; }
            h.Raw("<div class=\"table-wrap\"><table class=\"logs\"><thead><tr><th scope=\"col\">Time</th><th scope=\"col\">Key</th><th scope=\"col\">Model</th><th scope=\"col\">Status</th>");
            h.Raw("<th scope=\"col\">Tokens in / out</th><th scope=\"col\">Cost</th><th scope=\"col\">Latency</th><th scope=\"col\">Details</th></tr></thead><tbody>");
            foreach (var x in shown)
            {
                h.Raw("<tr").Attr("data-request", x.RequestId).Raw(">").Element("td", Html.FormatTime(x.StartTime));
                h.Element("td", x.KeyAlias ?? (x.ApiKey.Length == 0 ? "master key" : "sk-…" + x.ApiKey[^6..]));
                h.Cell(x.ModelGroup ?? x.Model);
                h.Raw("<td><span class=\"status ").Raw(x.Status == "success" ? "good" : "bad").Raw("\">").Text(x.Status).Raw("</span></td>");
                h.Raw("<td>").Text(x.PromptTokens).Raw(" / ").Text(x.CompletionTokens).Raw("</td><td>").Money(x.Spend).Raw("</td>");
                h.Element("td", (x.EndTime - x.StartTime).TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture) + " ms");
                h.Raw("<td><details><summary>more</summary><dl class=\"facts\"><dt>Request id</dt><dd><code>").Text(x.RequestId).Raw("</code></dd>");
                h.Raw("<dt>Call</dt><dd>").Text(x.CallType).Raw("</dd><dt>Provider</dt><dd>").Text(x.Provider ?? "?").Raw("</dd>");
                h.Raw("<dt>Upstream model</dt><dd>").Text(x.Model ?? "?").Raw("</dd>");
                if (x.TeamId is not null) h.Raw("<dt>Team</dt><dd>").Text(x.TeamId).Raw("</dd>");
                if (x.UserId is not null) h.Raw("<dt>User</dt><dd>").Text(x.UserId).Raw("</dd>");
                if (x.EndUser is not null) h.Raw("<dt>End user</dt><dd>").Text(x.EndUser).Raw("</dd>");
                h.Raw("<dt>Ended</dt><dd>").Text(Html.FormatTime(x.EndTime)).Raw("</dd></dl></details></td></tr>");
            }
            h.Raw("</tbody></table></div>");
        });
        await ConsoleLayout.WriteAsync(r.Http, html);
    }
}
