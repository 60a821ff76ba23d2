using LLMux.Governance.Entities;
using LLMux.Governance.Storage;

namespace LLMux.Host.Ui;

/// <summary><c>/ui/keys</c>: every virtual key with its team, models, spend against budget, limits and status; create,
/// edit, block, regenerate and delete.</summary>
internal static class KeysPage
{
    private const int PageSize = 50;

    public static async Task RenderAsync(ConsoleRequest r)
    {
        var store = r.Governance.Store;
        var page = int.TryParse(r.Query["page"], out var p) && p > 0 ? p : 1;
        var (keys, total) = await store.ListKeysAsync(new KeyQuery(Page: page, Size: PageSize), r.Http.RequestAborted);
        var teams = await store.ListTeamsAsync(null, r.Http.RequestAborted);
        var teamNames = teams.ToDictionary(static t => t.TeamId, static t => t.TeamAlias ?? t.TeamId, StringComparer.Ordinal);
        var now = r.Now;

        var html = ConsoleLayout.Page("Keys", "keys", r.Session, h =>
        {
            h.Raw("<section class=\"card\" aria-labelledby=\"create-key\"><h2 id=\"create-key\">Create a key</h2>");
            h.Raw("<form data-api=\"/key/generate\" data-result=\"key\" class=\"grid\">");
            ConsoleForms.Field(h, "new-alias", "key_alias", "Alias", hint: "A name to recognise the key by");
            ConsoleForms.Select(h, "new-team", "team_id", "Team", teams.Select(static t => (t.TeamId, t.TeamAlias ?? t.TeamId)).Prepend(("", "no team")));
            ConsoleForms.Field(h, "new-models", "models", "Models", dataType: "list", hint: "Comma separated; empty means every model");
            ConsoleForms.Field(h, "new-budget", "max_budget", "Budget (USD)", type: "number", dataType: "number");
            ConsoleForms.Select(h, "new-duration", "budget_duration", "Budget resets", ConsoleForms.Durations());
            ConsoleForms.Field(h, "new-rpm", "rpm_limit", "Requests per minute", type: "number", dataType: "number");
            ConsoleForms.Field(h, "new-tpm", "tpm_limit", "Tokens per minute", type: "number", dataType: "number");
            ConsoleForms.Field(h, "new-parallel", "max_parallel_requests", "Parallel requests", type: "number", dataType: "number");
            ConsoleForms.Field(h, "new-expires", "duration", "Expires after", hint: "e.g. 30d; empty never expires");
            h.Raw("<div class=\"actions\"><button type=\"submit\">Create key</button></div></form></section>");

            h.Raw("<section aria-labelledby=\"all-keys\"><h2 id=\"all-keys\">All keys <span class=\"muted\">(").Text(total).Raw(")</span></h2>");
            if (keys.Count == 0) { h.Raw("<p class=\"empty\">No keys yet. Create one above.</p>"); }
            else
            {
                h.Raw("<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">Alias</th><th scope=\"col\">Key</th><th scope=\"col\">Team / user</th><th scope=\"col\">Models</th>");
                h.Raw("<th scope=\"col\">Spend</th><th scope=\"col\">Limits</th><th scope=\"col\">Status</th><th scope=\"col\">Actions</th></tr></thead><tbody>");
                foreach (var k in keys) Row(h, k, teamNames, now);
                h.Raw("</tbody></table></div>");
                Pager(h, page, total);
            }
            h.Raw("</section>");
        });
        await ConsoleLayout.WriteAsync(r.Http, html);
    }

    private static void Row(Html h, VirtualKey k, Dictionary<string, string> teamNames, DateTimeOffset now)
    {
        var name = k.KeyAlias ?? k.KeyName;
        var token = ConsoleForms.Json(k.Token);
        h.Raw("<tr").Attr("data-key", k.KeyName).Raw(">");
        h.Cell(k.KeyAlias).Raw("<td><code>").Text(k.KeyName).Raw("</code></td>");
        h.Raw("<td>");
        if (k.TeamId is { } t) h.Text(teamNames.GetValueOrDefault(t, t));
        else h.Raw("<span class=\"muted\">—</span>");
        if (k.UserId is { } u) h.Raw("<br><small>user ").Text(u).Raw("</small>");
        h.Raw("</td>");
        h.Element("td", ConsoleForms.Models(k.Models));
        ConsoleForms.Budget(h, k.Spend, k.MaxBudget);
        ConsoleForms.Limits(h, k.RpmLimit, k.TpmLimit, k.MaxParallelRequests);
        var (status, css) = k.Blocked ? ("Blocked", "bad") : k.Expires is { } e && e <= now ? ("Expired", "bad") : ("Active", "good");
        h.Raw("<td><span class=\"status ").Raw(css).Raw("\">").Text(status).Raw("</span>");
        if (k.Expires is { } exp && exp > now) h.Raw("<br><small>expires ").Text(Html.FormatTime(exp)).Raw("</small>");
        h.Raw("</td><td class=\"row-actions\">");
        h.Raw("<a").Attr("href", "/ui/keys/edit?key=" + Uri.EscapeDataString(k.Token)).Attr("aria-label", "Edit " + name).Raw(">Edit</a>");
        if (k.Blocked) ConsoleForms.Action(h, "/key/unblock", "{\"key\":" + token + "}", "Unblock");
        else ConsoleForms.Action(h, "/key/block", "{\"key\":" + token + "}", "Block", confirm: $"Block {name}? Calls with it are refused at once.");
        ConsoleForms.Action(h, "/key/regenerate", "{\"key\":" + token + "}", "Regenerate", confirm: $"Regenerate {name}? The current key stops working.", result: "key");
        ConsoleForms.Action(h, "/key/delete", "{\"keys\":[" + token + "]}", "Delete", confirm: $"Delete {name}? This cannot be undone.", cssClass: "danger");
        h.Raw("</td></tr>");
    }

    private static void Pager(Html h, int page, int total)
    {
        var pages = (total + PageSize - 1) / PageSize;
        if (pages <= 1) return;
        h.Raw("<nav class=\"pager\" aria-label=\"Pages of keys\">");
        if (page > 1) h.Raw("<a").Attr("href", "/ui/keys?page=" + (page - 1)).Raw(">Previous</a>");
        h.Raw("<span>page ").Text(page).Raw(" of ").Text(pages).Raw("</span>");
        if (page < pages) h.Raw("<a").Attr("href", "/ui/keys?page=" + (page + 1)).Raw(">Next</a>");
        h.Raw("</nav>");
    }

    public static async Task RenderEditAsync(ConsoleRequest r)
    {
        var token = r.Query["key"].ToString();
        var key = token.Length is > 0 and <= 128 ? await r.Governance.Store.FindKeyAsync(token, r.Http.RequestAborted) : null;
        if (key is null)
        {
            await ConsoleLayout.WriteAsync(r.Http, ConsoleLayout.Page("Key not found", "keys", r.Session,
                h => h.Raw("<p>No such key; it may have been deleted or regenerated. <a href=\"/ui/keys\">Back to keys</a></p>")), 404);
            return;
        }
        var teams = await r.Governance.Store.ListTeamsAsync(null, r.Http.RequestAborted);
        var html = ConsoleLayout.Page("Edit " + (key.KeyAlias ?? key.KeyName), "keys", r.Session, h =>
        {
            static string? N(decimal? v) => v?.ToString(System.Globalization.CultureInfo.InvariantCulture);
            static string? L(long? v) => v?.ToString(System.Globalization.CultureInfo.InvariantCulture);
            h.Raw("<p><code>").Text(key.KeyName).Raw("</code> · spend ").Money(key.Spend).Raw("</p>");
            h.Raw("<form data-api=\"/key/update\" data-next=\"/ui/keys\" class=\"grid card\">");
            ConsoleForms.Hidden(h, "key", key.Token);
            ConsoleForms.Field(h, "edit-alias", "key_alias", "Alias", key.KeyAlias);
            ConsoleForms.Select(h, "edit-team", "team_id", "Team", teams.Select(static t => (t.TeamId, t.TeamAlias ?? t.TeamId)).Prepend(("", "no team")), key.TeamId);
            ConsoleForms.Field(h, "edit-models", "models", "Models", string.Join(", ", key.Models), dataType: "list", hint: "Comma separated; empty means every model");
            ConsoleForms.Field(h, "edit-budget", "max_budget", "Budget (USD)", N(key.MaxBudget), type: "number", dataType: "number");
            ConsoleForms.Select(h, "edit-duration", "budget_duration", "Budget resets", ConsoleForms.Durations(), key.BudgetDuration);
            ConsoleForms.Field(h, "edit-rpm", "rpm_limit", "Requests per minute", L(key.RpmLimit), type: "number", dataType: "number");
            ConsoleForms.Field(h, "edit-tpm", "tpm_limit", "Tokens per minute", L(key.TpmLimit), type: "number", dataType: "number");
            ConsoleForms.Field(h, "edit-parallel", "max_parallel_requests", "Parallel requests", L(key.MaxParallelRequests), type: "number", dataType: "number");
            h.Raw("<div class=\"actions\"><button type=\"submit\">Save</button> <a href=\"/ui/keys\">Cancel</a></div></form>");
        });
        await ConsoleLayout.WriteAsync(r.Http, html);
    }
}
