using System.Globalization;

namespace LLMux.Governance.Budgets;

/// <summary>
/// LiteLLM's durations (<c>30s</c>, <c>15m</c>, <c>1h</c>, <c>1d</c>, <c>7d</c>, <c>2w</c>, <c>1mo</c>; <c>(\d+)(mo|[smhdw])</c>),
/// used for key expiry (<c>duration</c>) and budget windows (<c>budget_duration</c>). Months are calendar months.
/// </summary>
public readonly record struct BudgetDuration(int Count, BudgetDuration.Unit Of)
{
    public enum Unit { Second, Minute, Hour, Day, Week, Month }

    public static bool TryParse(string? text, out BudgetDuration duration)
    {
        duration = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var s = text.Trim();
        var i = 0;
        while (i < s.Length && char.IsAsciiDigit(s[i])) i++;
        if (i == 0 || !int.TryParse(s.AsSpan(0, i), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0) return false;
        Unit? unit = s[i..] switch
        {
            "s" => Unit.Second,
            "m" => Unit.Minute,
            "h" or "hr" => Unit.Hour,
            "d" => Unit.Day,
            "w" => Unit.Week,
            "mo" => Unit.Month,
            _ => null,
        };
        if (unit is null) return false;
        duration = new BudgetDuration(n, unit.Value);
        return true;
    }

    public const string Expected = "a duration like 30s, 15m, 1h, 1d, 7d, 2w or 1mo";

    public DateTimeOffset After(DateTimeOffset from) => Of switch
    {
        Unit.Second => from.AddSeconds(Count),
        Unit.Minute => from.AddMinutes(Count),
        Unit.Hour => from.AddHours(Count),
        Unit.Day => from.AddDays(Count),
        Unit.Week => from.AddDays(7 * Count),
        _ => from.AddMonths(Count),
    };

    /// <summary>The first window end after <paramref name="now"/>, stepping from <paramref name="due"/> (windows stay on their grid).</summary>
    public DateTimeOffset NextAfter(DateTimeOffset due, DateTimeOffset now)
    {
        var next = After(due);
        for (var guard = 0; next <= now && guard < 100_000; guard++) next = After(next);
        return next <= now ? After(now) : next;
    }
}
