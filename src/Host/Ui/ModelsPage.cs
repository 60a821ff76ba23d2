using System.Globalization;
using LLMux.Host.Capabilities;
using LLMux.Pipeline.Capabilities;
using LLMux.Stages.Accounting;

namespace LLMux.Host.Ui;

/// <summary><c>/ui/models</c>: each model group, its deployments (provider, upstream model, host, state now), the
/// provider's modes, and the price the gateway charges.</summary>
internal static class ModelsPage
{
    public static Task RenderAsync(ConsoleRequest r)
    {
        var now = r.Router.Time.GetUtcNow();
        var html = ConsoleLayout.Page("Models", "models", r.Session, h =>
        {
            h.Raw("<p>").Text(r.Registry.Names.Count).Raw(" model groups, ").Text(r.Registry.All.Count).Raw(" deployments. Capabilities per provider: <a href=\"/v1/capabilities\">/v1/capabilities</a>.</p>");
            foreach (var name in r.Registry.Names)
            {
                var group = r.Registry.Group(name) ?? [];
                var price = group.Count > 0 ? PriceTable.Default.Find(group[0].ProviderName, group[0].UpstreamModel) : null;
                h.Raw("<section class=\"card model\"").Attr("data-model", name).Raw("><h2>").Text(name).Raw("</h2>");
                h.Raw("<dl class=\"facts\">");
                var input = group.Count > 0 ? group[0].InputCostPerToken ?? price?.InputPerToken : null;
                var output = group.Count > 0 ? group[0].OutputCostPerToken ?? price?.OutputPerToken : null;
                h.Raw("<dt>Price</dt><dd>");
                if (input is null && output is null) h.Raw("<span class=\"muted\">not in the price table</span>");
                else h.Raw("$").Text(PerMillion(input)).Raw(" in / $").Text(PerMillion(output)).Raw(" out per 1M tokens");
                h.Raw("</dd>");
                if (price?.MaxInputTokens is { } ctx) h.Raw("<dt>Context</dt><dd>").Text(ctx).Raw(" tokens</dd>");
                if (price?.Mode is { } mode) h.Raw("<dt>Mode</dt><dd>").Text(mode).Raw("</dd>");
                if (price is { Supports.Count: > 0 }) h.Raw("<dt>Supports</dt><dd>").Text(string.Join(", ", price.Supports)).Raw("</dd>");
                h.Raw("</dl><div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">Deployment</th><th scope=\"col\">Provider</th><th scope=\"col\">Upstream model</th>");
                h.Raw("<th scope=\"col\">Host</th><th scope=\"col\">Modes</th><th scope=\"col\">Health</th><th scope=\"col\">In flight</th><th scope=\"col\">Latency</th></tr></thead><tbody>");
                foreach (var d in group)
                {
                    var state = r.Router.For(d);
                    var spec = d.Provider.Spec;
                    h.Raw("<tr><td><code>").Text(d.Id).Raw("</code></td>").Element("td", spec.DisplayName.Length > 0 ? spec.DisplayName : d.ProviderName);
                    h.Raw("<td><code>").Text(d.UpstreamModel).Raw("</code></td>");
                    h.Cell(HostOf(d.ApiBase ?? spec.DefaultApiBase));
                    h.Element("td", string.Join(", ", CapabilityMatrix.AllModes.Where(spec.Supports).Select(static m => m.ToString().ToLowerInvariant())));
                    h.Raw(state.IsCoolingDown(now) ? "<td><span class=\"status bad\">cooling down</span></td>" : "<td><span class=\"status good\">healthy</span></td>");
                    h.Raw("<td>").Text(state.InFlight).Raw("</td>");
                    h.Cell(state.LatencyMs >= 0 ? state.LatencyMs.ToString("0", CultureInfo.InvariantCulture) + " ms" : null);
                    h.Raw("</tr>");
                }
                h.Raw("</tbody></table></div></section>");
            }
        });
        return ConsoleLayout.WriteAsync(r.Http, html);
    }

    private static string PerMillion(decimal? perToken) => perToken is { } p ? (p * 1_000_000m).ToString("0.####", CultureInfo.InvariantCulture) : "?";

    /// <summary>Scheme and host only: a base URL may carry a key in its query string.</summary>
    private static string? HostOf(string? apiBase) =>
        apiBase is not null && Uri.TryCreate(apiBase, UriKind.Absolute, out var u) ? u.GetLeftPart(UriPartial.Authority) : null;
}
