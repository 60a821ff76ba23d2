using System.Globalization;

namespace LLMux.Host.Ui;

/// <summary>
/// A bar chart drawn on the server as inline SVG: no chart library, no script, readable without colour (each bar has
/// its value as a tooltip and the figures are also given as a table next to it).
/// </summary>
internal static class SvgChart
{
    public static void Bars(Html h, string label, IReadOnlyList<(string Label, double Value)> points, Func<double, string> format)
    {
        const int width = 720, height = 220, left = 64, bottom = 28, top = 12;
        var max = points.Count == 0 ? 0 : points.Max(static p => p.Value);
        if (max <= 0) max = 1;
        var plotW = width - left - 8;
        var plotH = height - top - bottom;
        var slot = points.Count == 0 ? plotW : (double)plotW / points.Count;
        var bar = Math.Max(1, slot * 0.7);
        h.Raw("<figure class=\"chart\"><svg viewBox=\"0 0 ").Raw(I(width)).Raw(" ").Raw(I(height)).Raw("\" role=\"img\"").Attr("aria-label", label).Raw(" preserveAspectRatio=\"xMidYMid meet\">");
        h.Raw("<title>").Text(label).Raw("</title>");
        for (var i = 0; i <= 4; i++)
        {
            var y = top + plotH - plotH * i / 4.0;
            h.Raw("<line class=\"grid\" x1=\"").Raw(I(left)).Raw("\" x2=\"").Raw(I(width - 8)).Raw("\" y1=\"").Raw(D(y)).Raw("\" y2=\"").Raw(D(y)).Raw("\"/>");
            h.Raw("<text class=\"axis\" x=\"").Raw(I(left - 6)).Raw("\" y=\"").Raw(D(y + 4)).Raw("\" text-anchor=\"end\">").Text(format(max * i / 4)).Raw("</text>");
        }
        var every = Math.Max(1, (int)Math.Ceiling(points.Count / 10.0));
        for (var i = 0; i < points.Count; i++)
        {
            var (name, value) = points[i];
            var x = left + slot * i + (slot - bar) / 2;
            var hgt = plotH * value / max;
            h.Raw("<rect class=\"bar\" x=\"").Raw(D(x)).Raw("\" y=\"").Raw(D(top + plotH - hgt)).Raw("\" width=\"").Raw(D(bar)).Raw("\" height=\"").Raw(D(Math.Max(hgt, value > 0 ? 1 : 0))).Raw("\">");
            h.Raw("<title>").Text(name + ": " + format(value)).Raw("</title></rect>");
            if (i % every == 0)
                h.Raw("<text class=\"axis\" x=\"").Raw(D(left + slot * i + slot / 2)).Raw("\" y=\"").Raw(I(height - 8)).Raw("\" text-anchor=\"middle\">").Text(name).Raw("</text>");
        }
        h.Raw("</svg><figcaption>").Text(label).Raw("</figcaption></figure>");
    }

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
    private static string D(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);
}
