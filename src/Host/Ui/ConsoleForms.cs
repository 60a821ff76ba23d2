namespace LLMux.Host.Ui;

/// <summary>
/// The form controls the pages share. A form with <c>data-api</c> is sent by console.js to that admin route as JSON:
/// each named field with a value, typed by its <c>data-type</c> (number, list — comma separated —, or text); empty
/// fields are left out, so an update changes only what was filled in.
/// </summary>
internal static class ConsoleForms
{
    public static readonly string[] BudgetDurations = ["", "1h", "1d", "7d", "30d", "1mo"];

    public static void Field(Html h, string id, string name, string label, string? value = null, string type = "text", string? dataType = null, string? hint = null, bool required = false)
    {
        h.Raw("<div class=\"field\"><label").Attr("for", id).Raw(">").Text(label).Raw("</label><input").Attr("id", id).Attr("name", name).Attr("type", type);
        if (type == "number") h.Raw(" step=\"any\" min=\"0\" inputmode=\"decimal\"");
        if (dataType is not null) h.Attr("data-type", dataType);
        if (value is not null) h.Attr("value", value);
        if (required) h.Raw(" required");
        if (hint is not null) h.Attr("aria-describedby", id + "-hint");
        h.Raw(">");
        if (hint is not null) h.Raw("<small").Attr("id", id + "-hint").Raw(">").Text(hint).Raw("</small>");
        h.Raw("</div>");
    }

    public static void Select(Html h, string id, string name, string label, IEnumerable<(string Value, string Text)> options, string? selected = null)
    {
        h.Raw("<div class=\"field\"><label").Attr("for", id).Raw(">").Text(label).Raw("</label><select").Attr("id", id).Attr("name", name).Raw(">");
        foreach (var (value, text) in options)
        {
            h.Raw("<option").Attr("value", value);
            if (value == (selected ?? "")) h.Raw(" selected");
            h.Raw(">").Text(text).Raw("</option>");
        }
        h.Raw("</select></div>");
    }

    public static IEnumerable<(string, string)> Durations() => BudgetDurations.Select(static d => (d, d.Length == 0 ? "never resets" : "every " + d));

    public static void Hidden(Html h, string name, string value) => h.Raw("<input type=\"hidden\"").Attr("name", name).Attr("value", value).Raw(">");

    /// <summary>A button that posts <paramref name="jsonBody"/> to <paramref name="api"/> (after a confirmation when given).</summary>
    public static void Action(Html h, string api, string jsonBody, string text, string? confirm = null, string? result = null, string cssClass = "")
    {
        h.Raw("<button type=\"button\"").Attr("class", cssClass.Length == 0 ? null : cssClass).Attr("data-api", api).Attr("data-body", jsonBody);
        if (confirm is not null) h.Attr("data-confirm", confirm);
        if (result is not null) h.Attr("data-result", result);
        h.Raw(">").Text(text).Raw("</button>");
    }

    /// <summary>Spend against a budget: a meter and its figures ("$1.20 of $10.00"), or the spend alone.</summary>
    public static void Budget(Html h, decimal spend, decimal? max)
    {
        h.Raw("<td class=\"budget\">");
        if (max is { } m && m > 0)
        {
            h.Raw("<meter min=\"0\"").Attr("max", m.ToString(System.Globalization.CultureInfo.InvariantCulture))
                .Attr("value", Math.Min(spend, m).ToString(System.Globalization.CultureInfo.InvariantCulture))
                .Attr("high", (m * 0.8m).ToString(System.Globalization.CultureInfo.InvariantCulture))
                .Attr("aria-label", "spend of budget").Raw("></meter> ");
            h.Money(spend).Raw(" of ").Money(m);
        }
        else h.Money(spend).Raw(" <span class=\"muted\">no budget</span>");
        h.Raw("</td>");
    }

    public static void Limits(Html h, long? rpm, long? tpm, long? parallel)
    {
        h.Raw("<td class=\"limits\">");
        var any = false;
        if (rpm is { } r) { h.Text(r).Raw(" rpm"); any = true; }
        if (tpm is { } t) { if (any) h.Raw("<br>"); h.Text(t).Raw(" tpm"); any = true; }
        if (parallel is { } p) { if (any) h.Raw("<br>"); h.Text(p).Raw(" parallel"); any = true; }
        if (!any) h.Raw("<span class=\"muted\">none</span>");
        h.Raw("</td>");
    }

    public static string Models(IReadOnlyList<string> models) => models.Count == 0 ? "all models" : string.Join(", ", models);

    /// <summary>A JSON string literal for a data-body attribute (the attribute itself is encoded by <see cref="Html.Attr"/>).</summary>
    public static string Json(string value) => System.Text.Json.JsonSerializer.Serialize(value, ConsoleJsonContext.Default.String);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class ConsoleJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
