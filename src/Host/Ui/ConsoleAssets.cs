using System.Collections.Frozen;
using System.Security.Cryptography;

namespace LLMux.Host.Ui;

/// <summary>The console's stylesheet and script, embedded in the host (no CDN, no build step) and served with an ETag.</summary>
internal static class ConsoleAssets
{
    private sealed record Asset(byte[] Bytes, string ContentType, string ETag);

    private static readonly FrozenDictionary<string, Asset> Assets = Load();

    private static FrozenDictionary<string, Asset> Load()
    {
        var assembly = typeof(ConsoleAssets).Assembly;
        var map = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var (name, type) in new[] { ("console.css", "text/css; charset=utf-8"), ("console.js", "text/javascript; charset=utf-8") })
        {
            using var stream = assembly.GetManifestResourceStream("LLMux.Host.Ui.Assets." + name)
                ?? throw new InvalidOperationException("the console asset " + name + " is not embedded in the host");
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            map[name] = new Asset(bytes, type, "\"" + Convert.ToHexString(SHA256.HashData(bytes), 0, 8) + "\"");
        }
        return map.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public static async Task WriteAsync(HttpContext http, string name)
    {
        if (!Assets.TryGetValue(name, out var asset))
        {
            http.Response.StatusCode = 404;
            return;
        }
        var h = http.Response.Headers;
        h.ETag = asset.ETag;
        h.CacheControl = "no-cache";
        h["X-Content-Type-Options"] = "nosniff";
        if (http.Request.Headers.IfNoneMatch.ToString() == asset.ETag)
        {
            http.Response.StatusCode = 304;
            return;
        }
        http.Response.ContentType = asset.ContentType;
        http.Response.ContentLength = asset.Bytes.Length;
        await http.Response.Body.WriteAsync(asset.Bytes, http.RequestAborted);
    }
}
