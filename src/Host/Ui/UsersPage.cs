namespace LLMux.Host.Ui;

/// <summary><c>/ui/users</c>: internal users with their role, teams, budget and spend; create and delete.</summary>
internal static class UsersPage
{
    private static readonly (string, string)[] Roles =
        [("internal_user", "internal user"), ("internal_user_viewer", "internal viewer"), ("proxy_admin", "admin"), ("proxy_admin_viewer", "admin viewer")];

    public static async Task RenderAsync(ConsoleRequest r)
    {
        var users = await r.Governance.Store.ListUsersAsync(r.Http.RequestAborted);
        var html = ConsoleLayout.Page("Users", "users", r.Session, h =>
        {
            h.Raw("<section class=\"card\" aria-labelledby=\"create-user\"><h2 id=\"create-user\">Create a user</h2>");
            h.Raw("<form data-api=\"/user/new\" class=\"grid\">");
            ConsoleForms.Field(h, "user-id", "user_id", "User id", hint: "Empty picks one");
            ConsoleForms.Field(h, "user-email", "user_email", "Email", type: "email");
            ConsoleForms.Select(h, "user-role", "user_role", "Role", Roles);
            ConsoleForms.Field(h, "user-budget", "max_budget", "Budget (USD)", type: "number", dataType: "number");
            h.Raw("<div class=\"actions\"><button type=\"submit\">Create user</button></div></form></section>");

            h.Raw("<section aria-labelledby=\"all-users\"><h2 id=\"all-users\">All users <span class=\"muted\">(").Text(users.Count).Raw(")</span></h2>");
            if (users.Count == 0) { h.Raw("<p class=\"empty\">No users yet.</p>"); }
            else
            {
                h.Raw("<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">User</th><th scope=\"col\">Email</th><th scope=\"col\">Role</th><th scope=\"col\">Teams</th>");
                h.Raw("<th scope=\"col\">Spend</th><th scope=\"col\">Limits</th><th scope=\"col\">Actions</th></tr></thead><tbody>");
                foreach (var u in users)
                {
                    h.Raw("<tr").Attr("data-user", u.UserId).Raw("><td><code>").Text(u.UserId).Raw("</code></td>");
                    h.Cell(u.UserEmail).Element("td", u.UserRole);
                    h.Cell(u.Teams.Count == 0 ? null : string.Join(", ", u.Teams));
                    ConsoleForms.Budget(h, u.Spend, u.MaxBudget);
                    ConsoleForms.Limits(h, u.RpmLimit, u.TpmLimit, null);
                    h.Raw("<td class=\"row-actions\">");
                    ConsoleForms.Action(h, "/user/delete", "{\"user_ids\":[" + ConsoleForms.Json(u.UserId) + "]}", "Delete", confirm: $"Delete user {u.UserId}?", cssClass: "danger");
                    h.Raw("</td></tr>");
                }
                h.Raw("</tbody></table></div>");
            }
            h.Raw("</section>");
        });
        await ConsoleLayout.WriteAsync(r.Http, html);
    }
}
