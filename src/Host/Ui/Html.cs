using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;

namespace LLMux.Host.Ui;

/// <summary>
/// A page being written: markup appended as is, every value through <see cref="HtmlEncoder"/> (text and attributes
/// alike), so nothing a user typed — a key alias, a team name, a model id — can become markup.
/// </summary>
internal sealed class Html
{
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Default;
    private readonly StringBuilder _sb = new(8192);

    /// <summary>Trusted markup written by the console's own code.</summary>
    public Html Raw(string markup)
    {
        _sb.Append(markup);
        return this;
    }

    /// <summary>A value, encoded for text or a quoted attribute.</summary>
    public Html Text(string? value)
    {
        if (!string.IsNullOrEmpty(value)) _sb.Append(Encoder.Encode(value));
        return this;
    }

    public Html Text(long value)
    {
        _sb.Append(value.ToString("N0", CultureInfo.InvariantCulture));
        return this;
    }

    public Html Money(decimal value)
    {
        _sb.Append('$').Append(FormatMoney(value));
        return this;
    }

    /// <summary><c>&lt;tag attr="value"&gt;text&lt;/tag&gt;</c> with the text encoded.</summary>
    public Html Element(string tag, string? text, string? cssClass = null)
    {
        _sb.Append('<').Append(tag);
        if (cssClass is not null) _sb.Append(" class=\"").Append(cssClass).Append('"');
        _sb.Append('>');
        Text(text);
        _sb.Append("</").Append(tag).Append('>');
        return this;
    }

    /// <summary>A table cell holding <paramref name="text"/>, or a muted dash when there is none.</summary>
    public Html Cell(string? text) => string.IsNullOrEmpty(text) ? Raw("<td><span class=\"muted\">—</span></td>") : Element("td", text);

    public Html Attr(string name, string? value)
    {
        _sb.Append(' ').Append(name).Append("=\"");
        Text(value);
        _sb.Append('"');
        return this;
    }

    public override string ToString() => _sb.ToString();

    public static string FormatMoney(decimal value) =>
        value == 0 ? "0" : Math.Abs(value) < 0.01m ? value.ToString("0.######", CultureInfo.InvariantCulture) : value.ToString("#,##0.00##", CultureInfo.InvariantCulture);

    public static string FormatTime(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + "Z";
}
