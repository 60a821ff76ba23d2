namespace LLMux.Providers.Common;

/// <summary>Joins an <c>api_base</c> with a path the way the official SDKs do (one slash between them).</summary>
public static class ProviderUrls
{
    public static Uri Join(string apiBase, string path)
    {
        var b = apiBase.AsSpan().TrimEnd('/');
        var p = path.AsSpan().TrimStart('/');
        return new Uri(string.Concat(b, "/", p), UriKind.Absolute);
    }
}
