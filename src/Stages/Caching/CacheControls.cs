using System.Globalization;
using System.Text.Json;
using LLMux.Pipeline.Errors;

namespace LLMux.Stages.Caching;

/// <summary>
/// What one request asks of the cache: the body's <c>cache</c> object (LiteLLM's <c>no-cache</c>, <c>no-store</c>,
/// <c>ttl</c>, <c>s-maxage</c>/<c>s-max-age</c>, <c>namespace</c>) and the <c>Cache-Control</c> request header
/// (<c>no-cache</c>, <c>no-store</c>, <c>max-age=N</c>, <c>s-maxage=N</c>: the oldest entry accepted).
/// A key's <c>allowed_cache_controls</c> (when not empty) names the controls it may set: another in the body is refused
/// with LiteLLM's 403; one in the header (which clients and proxies add on their own) is not honoured and is named in
/// <see cref="Ignored"/> (for a warning) — LiteLLM does not read these header directives at all.
/// </summary>
public readonly record struct CacheControls(bool NoCache, bool NoStore, TimeSpan? Ttl, TimeSpan? MaxAge, string? Namespace, string? Ignored = null)
{
    /// <summary>The body's control names (LiteLLM's, <c>s-max-age</c> being its spelling of <c>s-maxage</c>).</summary>
    public static readonly IReadOnlyList<string> Names = ["no-cache", "no-store", "ttl", "s-maxage", "s-max-age", "namespace", "use-cache"];

    public static CacheControls Read(JsonElement body, string? header) => Read(body, header, []);

    /// <param name="allowed">The caller's <c>allowed_cache_controls</c>; empty allows every control.</param>
    public static CacheControls Read(JsonElement body, string? header, IReadOnlyList<string> allowed)
    {
        bool noCache = false, noStore = false;
        List<string>? ignored = null;
        TimeSpan? ttl = null, maxAge = null;
        string? ns = null;
        if (body.ValueKind == JsonValueKind.Object && body.TryGetProperty("cache", out var cache) && cache.ValueKind != JsonValueKind.Null)
        {
            if (cache.ValueKind != JsonValueKind.Object)
                throw LlmError.Invalid("`cache` must be an object of cache controls: no-cache, no-store, ttl, s-maxage, namespace", "cache").ToException();
            foreach (var p in cache.EnumerateObject())
            {
                Allow(allowed, p.Name);
                switch (p.Name)
                {
                    case "no-cache": noCache = Flag(p.Value, "cache.no-cache"); break;
                    case "no-store": noStore = Flag(p.Value, "cache.no-store"); break;
                    case "ttl": ttl = Seconds(p.Value, "cache.ttl"); break;
                    case "s-maxage" or "s-max-age": maxAge = Seconds(p.Value, "cache." + p.Name); break;
                    case "namespace":
                        if (p.Value.ValueKind != JsonValueKind.String || p.Value.GetString() is not { Length: > 0 } n)
                            throw LlmError.Invalid("`cache.namespace` must be a non-empty string", "cache.namespace").ToException();
                        ns = n;
                        break;
                    case "use-cache": break; // the cache is on for every request (LiteLLM's default_on)
                    default:
                        throw LlmError.Invalid($"`cache.{p.Name}` is not a cache control; use no-cache, no-store, ttl, s-maxage or namespace", "cache").ToException();
                }
            }
        }
        if (header is { Length: > 0 })
        {
            foreach (var raw in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = raw.IndexOf('=');
                var name = (eq < 0 ? raw : raw[..eq]).Trim().ToLowerInvariant();
                var value = eq < 0 ? null : raw[(eq + 1)..].Trim().Trim('"');
                switch (name)
                {
                    case "no-cache" or "no-store" or "max-age" or "s-maxage" when !Allowed(allowed, name is "no-cache" or "no-store" ? name : "s-maxage"):
                        (ignored ??= []).Add(name);
                        break;
                    case "no-cache": noCache = true; break;
                    case "no-store": noStore = true; break;
                    case "max-age" or "s-maxage":
                        if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
                            throw LlmError.Invalid($"Cache-Control `{raw}`: {name} needs a whole number of seconds", "Cache-Control").ToException();
                        var age = TimeSpan.FromSeconds(seconds);
                        maxAge = maxAge is { } m && m < age ? m : age;
                        break;
                    // Other directives (private, no-transform, ...) say nothing to this cache.
                }
            }
        }
        return new CacheControls(noCache, noStore, ttl, maxAge, ns, ignored is null ? null : string.Join(", ", ignored));
    }

    /// <summary>LiteLLM's check (<c>cache_control_check.py</c>): a control not in a non-empty list is a 403 with its message.</summary>
    private static void Allow(IReadOnlyList<string> allowed, string control)
    {
        if (Allowed(allowed, control)) return;
        throw new LlmError
        {
            Kind = ErrorKind.Permission,
            Message = $"Not allowed to set {control} as a cache control. Contact admin to change permissions.",
            Param = "cache." + control,
            Code = "403",
        }.ToException();
    }

    private static bool Allowed(IReadOnlyList<string> allowed, string control)
    {
        if (allowed.Count == 0) return true;
        foreach (var a in allowed)
        {
            if (a == control) return true;
            // One control, two spellings: allowing either allows both.
            if (control is "s-maxage" or "s-max-age" && a is "s-maxage" or "s-max-age") return true;
        }
        return false;
    }

    private static bool Flag(JsonElement v, string param) => v.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw LlmError.Invalid($"`{param}` must be true or false", param).ToException(),
    };

    private static TimeSpan Seconds(JsonElement v, string param)
    {
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var s) || s < 0 || s > 365 * 86400d)
            throw LlmError.Invalid($"`{param}` must be a number of seconds (0 to 31536000)", param).ToException();
        return TimeSpan.FromSeconds(s);
    }
}
