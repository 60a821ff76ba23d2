using System.Globalization;
using System.Text.Json;
using LLMux.Pipeline.Errors;

namespace LLMux.Stages.Caching;

/// <summary>
/// What one request asks of the cache: the body's <c>cache</c> object (LiteLLM's <c>no-cache</c>, <c>no-store</c>,
/// <c>ttl</c>, <c>s-maxage</c>/<c>s-max-age</c>, <c>namespace</c>) and the <c>Cache-Control</c> request header
/// (<c>no-cache</c>, <c>no-store</c>, <c>max-age=N</c>, <c>s-maxage=N</c>: the oldest entry accepted).
/// </summary>
public readonly record struct CacheControls(bool NoCache, bool NoStore, TimeSpan? Ttl, TimeSpan? MaxAge, string? Namespace)
{
    public static CacheControls Read(JsonElement body, string? header)
    {
        bool noCache = false, noStore = false;
        TimeSpan? ttl = null, maxAge = null;
        string? ns = null;
        if (body.ValueKind == JsonValueKind.Object && body.TryGetProperty("cache", out var cache) && cache.ValueKind != JsonValueKind.Null)
        {
            if (cache.ValueKind != JsonValueKind.Object)
                throw LlmError.Invalid("`cache` must be an object of cache controls: no-cache, no-store, ttl, s-maxage, namespace", "cache").ToException();
            foreach (var p in cache.EnumerateObject())
            {
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
        return new CacheControls(noCache, noStore, ttl, maxAge, ns);
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
