namespace LLMux.Host.Ui;

/// <summary><c>/ui/live</c>: requests per second, errors, p50/p99 and calls in flight, updated every second over
/// server-sent events (<c>/ui/live/events</c>) without a reload.</summary>
internal static class LivePage
{
    public static Task RenderAsync(ConsoleRequest r)
    {
        var html = ConsoleLayout.Page("Live", "live", r.Session, h =>
        {
            h.Raw("<div class=\"tiles\" data-live=\"/ui/live/events\">");
            Tile(h, "Requests / s", "live-rps");
            Tile(h, "Errors / s", "live-errors");
            Tile(h, "p50 latency (ms)", "live-p50");
            Tile(h, "p99 latency (ms)", "live-p99");
            Tile(h, "In flight", "live-inflight");
            h.Raw("</div><figure class=\"chart\"><svg id=\"live-series\" viewBox=\"0 0 600 120\" role=\"img\" aria-label=\"Requests per second, last 60 seconds\" preserveAspectRatio=\"none\"><polyline points=\"\"/></svg>");
            h.Raw("<figcaption>Requests per second, last 60 seconds</figcaption></figure>");
            h.Raw("<p class=\"muted\" id=\"live-state\" role=\"status\">Connecting…</p>");
        });
        return ConsoleLayout.WriteAsync(r.Http, html);
    }

    private static void Tile(Html h, string name, string id) =>
        h.Raw("<div class=\"tile\"><span class=\"tile-name\">").Text(name).Raw("</span><span class=\"tile-value\"").Attr("id", id).Raw(">–</span></div>");
}
