using System.Text.Json;
using LLMux.Host.Capabilities;
using LLMux.Providers;

namespace LLMux.Host.Endpoints;

/// <summary><c>GET /v1/capabilities</c>: every provider's modes and parameter table (public facts, no config).</summary>
internal static class CapabilitiesEndpoint
{
    public static void Map(WebApplication app, ProviderCatalog catalog)
    {
        foreach (var path in new[] { "/v1/capabilities", "/capabilities" })
            app.MapGet(path, http => WriteAsync(http, catalog));
    }

    private static async Task WriteAsync(HttpContext http, ProviderCatalog catalog)
    {
        http.Response.ContentType = "application/json";
        await using var w = new Utf8JsonWriter(http.Response.Body);
        CapabilityJsonWriter.Write(w, catalog);
    }
}
