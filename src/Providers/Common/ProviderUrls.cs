using System.Collections.Concurrent;

namespace LLMux.Providers.Common;

/// <summary>Joins an <c>api_base</c> with a path the way the official SDKs do (one slash between them).</summary>
public static class ProviderUrls
{
    /// <summary>Joined URLs by (api_base, path): a Uri parses once and caches its parts, so one per request is wasted work.</summary>
    private static readonly ConcurrentDictionary<(string ApiBase, string Path), Uri> Cache = new();

    /// <summary>Bound on the cache (paths can carry a client-chosen model name through a wildcard deployment).</summary>
    private const int MaxCached = 1024;

    public static Uri Join(string apiBase, string path)
    {
        if (Cache.TryGetValue((apiBase, path), out var cached)) return cached;
        var b = apiBase.AsSpan().TrimEnd('/');
        var p = path.AsSpan().TrimStart('/');
        var uri = new Uri(string.Concat(b, "/", p), UriKind.Absolute);
        if (Cache.Count < MaxCached) Cache.TryAdd((apiBase, path), uri);
        return uri;
    }
}
