using System.Globalization;
using System.Text;
using System.Text.Json;

namespace LLMux.Providers.Common;

/// <summary>The cost written into a stream's usage chunk (<c>usage.cost</c>, plain decimal USD).</summary>
public static class UsageCost
{
    public static string Text(decimal cost) => cost.ToString("0.############", CultureInfo.InvariantCulture);

    public static JsonElement Element(decimal cost)
    {
        using var doc = JsonDocument.Parse(Text(cost));
        return doc.RootElement.Clone();
    }

    /// <summary>The bytes <c>,"cost":x</c> to insert before the closing brace of a usage object.</summary>
    public static byte[] Member(decimal cost, bool first) => Encoding.UTF8.GetBytes((first ? "\"cost\":" : ",\"cost\":") + Text(cost));
}
