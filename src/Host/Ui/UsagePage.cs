using System.Globalization;
using LLMux.Governance.Entities;
using LLMux.Governance.Storage;

namespace LLMux.Host.Ui;

/// <summary><c>/ui/usage</c>: spend, requests and tokens per day over a date range, and who spent it (keys, teams, models).</summary>
internal static class UsagePage
{
    /// <summary>Rows read for one range; beyond it the page says the figures are partial.</summary>
    private const int RowCap = 200_000;

    public static async Task RenderAsync(ConsoleRequest r)
    {
        var today = DateOnly.FromDateTime(r.Now.UtcDateTime);
        var from = DateOnly.TryParseExact(r.Query["from"], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var f) ? f : today.AddDays(-6);
        var to = DateOnly.TryParseExact(r.Query["to"], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var t) ? t : today;
        if (to < from) (from, to) = (to, from);
        if (to.DayNumber - from.DayNumber > 366) from = to.AddDays(-366);
        var start = new DateTimeOffset(from.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var end = new DateTimeOffset(to.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var rows = await r.Governance.Store.SpendLogsAsync(new SpendQuery(Start: start, End: end, Limit: RowCap), r.Http.RequestAborted);
        var teams = (await r.Governance.Store.ListTeamsAsync(null, r.Http.RequestAborted)).ToDictionary(static t => t.TeamId, static t => t.TeamAlias ?? t.TeamId, StringComparer.Ordinal);

        var days = new List<(string, double Spend, double Tokens, double Requests)>();
        var byDay = rows.GroupBy(static x => DateOnly.FromDateTime(x.StartTime.UtcDateTime)).ToDictionary(static g => g.Key, static g => g.ToList());
        for (var d = from; d <= to; d = d.AddDays(1))
        {
            var list = byDay.GetValueOrDefault(d) ?? [];
            days.Add((d.ToString("MM-dd", CultureInfo.InvariantCulture), (double)list.Sum(static x => x.Spend), list.Sum(static x => x.TotalTokens), list.Count));
        }

        var html = ConsoleLayout.Page("Usage", "usage", r.Session, h =>
        {
            h.Raw("<form method=\"get\" action=\"/ui/usage\" class=\"grid range\">");
            ConsoleForms.Field(h, "from", "from", "From", from.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), type: "date");
            ConsoleForms.Field(h, "to", "to", "To", to.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), type: "date");
            h.Raw("<div class=\"actions\"><button type=\"submit\">Show</button></div></form>");
            if (rows.Count >= RowCap) h.Raw("<p class=\"error\">More than ").Text(RowCap).Raw(" requests in this range: the figures cover the most recent ones only. Pick a shorter range.</p>");
            var spend = rows.Sum(static x => x.Spend);
            h.Raw("<div class=\"tiles\">");
            Tile(h, "Spend", "$" + Html.FormatMoney(spend), "total-spend");
            Tile(h, "Requests", rows.Count.ToString("N0", CultureInfo.InvariantCulture), "total-requests");
            Tile(h, "Tokens", rows.Sum(static x => x.TotalTokens).ToString("N0", CultureInfo.InvariantCulture), "total-tokens");
            Tile(h, "Failed", rows.Count(static x => x.Status != "success").ToString("N0", CultureInfo.InvariantCulture), "total-failed");
            h.Raw("</div>");
            SvgChart.Bars(h, "Spend per day (USD)", days.Select(static d => (d.Item1, d.Spend)).ToList(), static v => "$" + Html.FormatMoney((decimal)v));
            SvgChart.Bars(h, "Tokens per day", days.Select(static d => (d.Item1, d.Tokens)).ToList(), static v => v.ToString("N0", CultureInfo.InvariantCulture));
            SvgChart.Bars(h, "Requests per day", days.Select(static d => (d.Item1, d.Requests)).ToList(), static v => v.ToString("N0", CultureInfo.InvariantCulture));
            h.Raw("<div class=\"columns\">");
            Top(h, "By key", "by-key", rows, static x => x.KeyAlias ?? (x.ApiKey.Length == 0 ? "master key" : "sk-…" + x.ApiKey[^6..]));
            Top(h, "By team", "by-team", rows, x => x.TeamId is { } id ? teams.GetValueOrDefault(id, id) : "no team");
            Top(h, "By model", "by-model", rows, static x => x.ModelGroup ?? x.Model ?? "?");
            h.Raw("</div>");
        });
        await ConsoleLayout.WriteAsync(r.Http, html);
    }

    private static void Tile(Html h, string name, string value, string id) =>
        h.Raw("<div class=\"tile\"><span class=\"tile-name\">").Text(name).Raw("</span><span class=\"tile-value\"").Attr("id", id).Raw(">").Text(value).Raw("</span></div>");

    private static void Top(Html h, string title, string id, IReadOnlyList<SpendRow> rows, Func<SpendRow, string> by)
    {
        var groups = rows.GroupBy(by).Select(static g => (Name: g.Key, Spend: g.Sum(static x => x.Spend), Requests: g.Count(), Tokens: g.Sum(static x => x.TotalTokens)))
            .OrderByDescending(static g => g.Spend).ThenByDescending(static g => g.Requests).Take(20).ToList();
        h.Raw("<section class=\"card\"").Attr("aria-labelledby", id).Raw("><h2").Attr("id", id).Raw(">").Text(title).Raw("</h2>");
        if (groups.Count == 0) { h.Raw("<p class=\"empty\">No requests in this range.</p></section>"); return; }
        h.Raw("<table").Attr("data-table", id).Raw("><thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Spend</th><th scope=\"col\">Requests</th><th scope=\"col\">Tokens</th></tr></thead><tbody>");
        foreach (var g in groups) h.Raw("<tr>").Element("td", g.Name).Raw("<td>").Money(g.Spend).Raw("</td><td>").Text(g.Requests).Raw("</td><td>").Text(g.Tokens).Raw("</td></tr>");
        h.Raw("</tbody></table></section>");
    }
}
