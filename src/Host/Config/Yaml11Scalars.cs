using System.Globalization;
using System.Numerics;

namespace LLMux.Host.Config;

/// <summary>
/// Plain (unquoted) scalars as LiteLLM's loader reads them: PyYAML's <c>SafeLoader</c> follows YAML 1.1, so
/// <c>20_000</c> is the integer 20000, <c>0x1F</c> and <c>017</c> are hex and octal, <c>1:30</c> is 90, and
/// <c>yes</c>/<c>On</c>/<c>TRUE</c> are booleans. Each is turned into the invariant text the configuration
/// reader parses (<c>20000</c>, <c>true</c>); anything PyYAML would keep as a string is returned unchanged.
/// Quoted scalars never come here: <c>"20_000"</c> stays a string, as it does in LiteLLM.
/// </summary>
internal static class Yaml11Scalars
{
    /// <summary>PyYAML's null spellings (<c>~</c>, <c>null</c>, <c>Null</c>, <c>NULL</c>, and the empty scalar).</summary>
    public static bool IsNull(string value) => value is "" or "~" or "null" or "Null" or "NULL";

    public static string Normalize(string value)
    {
        if (value.Length == 0) return value;
        if (Bool(value) is { } b) return b ? "true" : "false";
        if (Integer(value) is { } i) return i.ToString(CultureInfo.InvariantCulture);
        if (Float(value) is { } f) return f;
        return value;
    }

    // bool: yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF
    private static bool? Bool(string v) => v switch
    {
        "yes" or "Yes" or "YES" or "true" or "True" or "TRUE" or "on" or "On" or "ON" => true,
        "no" or "No" or "NO" or "false" or "False" or "FALSE" or "off" or "Off" or "OFF" => false,
        _ => null,
    };

    // int: [-+]?0b[0-1_]+ | [-+]?0[0-7_]+ | [-+]?(?:0|[1-9][0-9_]*) | [-+]?0x[0-9a-fA-F_]+ | [-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+
    private static BigInteger? Integer(string v)
    {
        var s = v.AsSpan();
        var negative = false;
        if (s[0] is '-' or '+') { negative = s[0] == '-'; s = s[1..]; }
        if (s.Length == 0) return null;
        BigInteger? magnitude;
        if (s.StartsWith("0b")) magnitude = Digits(s[2..], 2);
        else if (s.StartsWith("0x")) magnitude = Digits(s[2..], 16);
        else if (s is "0") magnitude = 0;
        else if (s[0] == '0') magnitude = Digits(s[1..], 8);
        else if (s.Contains(':')) magnitude = Sexagesimal(s);
        else magnitude = Digits(s, 10);
        return magnitude is { } m ? (negative ? -m : m) : null;
    }

    /// <summary>Digits of one base with PyYAML's underscores dropped; null unless there is at least one digit and nothing else.</summary>
    private static BigInteger? Digits(ReadOnlySpan<char> s, int radix)
    {
        BigInteger value = 0;
        var any = false;
        foreach (var c in s)
        {
            if (c == '_') continue;
            var d = c is >= '0' and <= '9' ? c - '0' : c is >= 'a' and <= 'f' ? c - 'a' + 10 : c is >= 'A' and <= 'F' ? c - 'A' + 10 : 99;
            if (d >= radix) return null;
            value = value * radix + d;
            any = true;
        }
        return any ? value : null;
    }

    /// <summary><c>1:30</c> = 90, <c>1:00:00</c> = 3600: the first part starts with 1-9, later parts are 0-59.</summary>
    private static BigInteger? Sexagesimal(ReadOnlySpan<char> s)
    {
        if (s[0] is < '1' or > '9') return null;
        BigInteger value = 0;
        var first = true;
        foreach (var range in s.Split(':'))
        {
            var part = s[range];
            if (first)
            {
                if (Digits(part, 10) is not { } head) return null;
                value = head;
                first = false;
                continue;
            }
            if (part.Length is 0 or > 2 || !int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > 59) return null;
            value = value * 60 + n;
        }
        return value;
    }

    // float: [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)? | \.[0-9_]+(?:[eE][-+][0-9]+)? | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
    // (PyYAML needs the dot and a signed exponent: `1e5` stays the string "1e5".)
    private static string? Float(string v)
    {
        var s = v.AsSpan();
        if (s is ".nan" or ".NaN" or ".NAN") return "NaN";
        var sign = "";
        if (s[0] is '-' or '+') { sign = s[0] == '-' ? "-" : ""; s = s[1..]; }
        if (s is ".inf" or ".Inf" or ".INF") return sign + "Infinity";
        var dot = s.IndexOf('.');
        if (dot < 0) return null;
        var whole = s[..dot];
        var rest = s[(dot + 1)..];
        var e = rest.IndexOfAny('e', 'E');
        var fraction = e < 0 ? rest : rest[..e];
        var exponent = e < 0 ? [] : rest[(e + 1)..];
        if (whole.Length == 0 && (sign.Length > 0 || v[0] == '+' || fraction.Length == 0)) return null;
        if (whole.Length > 0 && whole[0] is < '0' or > '9') return null;
        foreach (var c in whole) if (c is not (>= '0' and <= '9' or '_')) return null;
        foreach (var c in fraction) if (c is not (>= '0' and <= '9' or '_')) return null;
        if (e >= 0)
        {
            if (exponent.Length < 2 || exponent[0] is not ('-' or '+')) return null;
            foreach (var c in exponent[1..]) if (c is < '0' or > '9') return null;
        }
        // Kept as text (not through double) so that a price such as 0.00000015 reaches decimal parsing exactly.
        return sign + (whole.Length == 0 ? "0" : whole.ToString().Replace("_", "", StringComparison.Ordinal)) + "."
            + (fraction.Length == 0 ? "0" : fraction.ToString().Replace("_", "", StringComparison.Ordinal))
            + (e < 0 ? "" : "e" + exponent.ToString());
    }
}
