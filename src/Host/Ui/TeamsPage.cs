namespace LLMux.Host.Ui;

/// <summary><c>/ui/teams</c>: teams with their members, models, budget and limits; create, add a member, block, delete.</summary>
internal static class TeamsPage
{
    public static async Task RenderAsync(ConsoleRequest r)
    {
        var teams = await r.Governance.Store.ListTeamsAsync(null, r.Http.RequestAborted);
        var html = ConsoleLayout.Page("Teams", "teams", r.Session, h =>
        {
            h.Raw("<section class=\"card\" aria-labelledby=\"create-team\"><h2 id=\"create-team\">Create a team</h2>");
            h.Raw("<form data-api=\"/team/new\" class=\"grid\">");
            ConsoleForms.Field(h, "team-alias", "team_alias", "Name", required: true);
            ConsoleForms.Field(h, "team-models", "models", "Models", dataType: "list", hint: "Comma separated; empty means every model");
            ConsoleForms.Field(h, "team-budget", "max_budget", "Budget (USD)", type: "number", dataType: "number");
            ConsoleForms.Select(h, "team-duration", "budget_duration", "Budget resets", ConsoleForms.Durations());
            ConsoleForms.Field(h, "team-rpm", "rpm_limit", "Requests per minute", type: "number", dataType: "number");
            ConsoleForms.Field(h, "team-tpm", "tpm_limit", "Tokens per minute", type: "number", dataType: "number");
            h.Raw("<div class=\"actions\"><button type=\"submit\">Create team</button></div></form></section>");

            h.Raw("<section aria-labelledby=\"all-teams\"><h2 id=\"all-teams\">All teams <span class=\"muted\">(").Text(teams.Count).Raw(")</span></h2>");
            if (teams.Count == 0) { h.Raw("<p class=\"empty\">No teams yet.</p>"); }
            else
            {
                h.Raw("<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">Team</th><th scope=\"col\">Members</th><th scope=\"col\">Models</th><th scope=\"col\">Spend</th>");
                h.Raw("<th scope=\"col\">Limits</th><th scope=\"col\">Status</th><th scope=\"col\">Actions</th></tr></thead><tbody>");
                foreach (var t in teams)
                {
                    var name = t.TeamAlias ?? t.TeamId;
                    var id = ConsoleForms.Json(t.TeamId);
                    h.Raw("<tr").Attr("data-team", name).Raw("><td>").Text(name).Raw("<br><small><code>").Text(t.TeamId).Raw("</code></small></td><td>");
                    if (t.Members.Count == 0) h.Raw("<span class=\"muted\">none</span>");
                    else
                    {
                        h.Raw("<ul class=\"plain\">");
                        foreach (var m in t.Members) h.Raw("<li>").Text(m.UserId ?? m.UserEmail).Raw(" <small>").Text(m.Role).Raw("</small></li>");
                        h.Raw("</ul>");
                    }
                    h.Raw("<form class=\"inline\" data-api=\"/team/member_add\">");
                    ConsoleForms.Hidden(h, "team_id", t.TeamId);
                    h.Raw("<label").Attr("for", "member-" + t.TeamId).Raw(" class=\"sr-only\">User id to add to ").Text(name).Raw("</label>");
                    h.Raw("<input").Attr("id", "member-" + t.TeamId).Raw(" name=\"member.user_id\" placeholder=\"user id\" required>");
                    h.Raw("<input type=\"hidden\" name=\"member.role\" value=\"user\"><button type=\"submit\">Add member</button></form></td>");
                    h.Element("td", ConsoleForms.Models(t.Models));
                    ConsoleForms.Budget(h, t.Spend, t.MaxBudget);
                    ConsoleForms.Limits(h, t.RpmLimit, t.TpmLimit, t.MaxParallelRequests);
                    h.Raw(t.Blocked ? "<td><span class=\"status bad\">Blocked</span></td>" : "<td><span class=\"status good\">Active</span></td>");
                    h.Raw("<td class=\"row-actions\">");
                    if (t.Blocked) ConsoleForms.Action(h, "/team/unblock", "{\"team_id\":" + id + "}", "Unblock");
                    else ConsoleForms.Action(h, "/team/block", "{\"team_id\":" + id + "}", "Block", confirm: $"Block team {name}? Every key of the team is refused.");
                    ConsoleForms.Action(h, "/team/delete", "{\"team_ids\":[" + id + "]}", "Delete", confirm: $"Delete team {name}? Its keys stay, without a team.", cssClass: "danger");
                    h.Raw("</td></tr>");
                }
                h.Raw("</tbody></table></div>");
            }
            h.Raw("</section>");
        });
        await ConsoleLayout.WriteAsync(r.Http, html);
    }
}
