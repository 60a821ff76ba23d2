using System.Net.Http.Headers;
using System.Text;
using LLMux.Providers.Common;

namespace LLMux.Providers.Databricks;

/// <summary>
/// Databricks OAuth machine-to-machine: a service principal's client id and secret (HTTP Basic) exchanged at the
/// workspace's <c>/oidc/v1/token</c> (<c>grant_type=client_credentials&amp;scope=all-apis</c>) for an access token that
/// lives an hour and is kept until a minute before it expires.
/// </summary>
internal sealed class DatabricksOAuthToken(string clientId, string clientSecret, Uri tokenUrl, HttpMessageInvoker http, TimeProvider time) : CachedAccessToken(time)
{
    public Uri TokenUrl { get; } = tokenUrl;

    protected override Task<(string Token, TimeSpan Lifetime)> FetchAsync(CancellationToken cancellationToken) =>
        PostFormAsync(http, TokenUrl, [new("grant_type", "client_credentials"), new("scope", "all-apis")],
            new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.EscapeDataString(clientId) + ":" + Uri.EscapeDataString(clientSecret)))),
            DatabricksProvider.Name, "the workspace's OAuth token endpoint",
            "check databricks_client_id / databricks_client_secret (or DATABRICKS_CLIENT_ID / DATABRICKS_CLIENT_SECRET) and that the service principal belongs to the workspace in api_base",
            cancellationToken);

    /// <summary><c>{workspace}/oidc/v1/token</c>, the workspace being api_base without its <c>/serving-endpoints</c> path.</summary>
    public static Uri For(string apiBase)
    {
        var root = apiBase.TrimEnd('/');
        var at = root.IndexOf("/serving-endpoints", StringComparison.Ordinal);
        if (at >= 0) root = root[..at];
        return new Uri(root + "/oidc/v1/token", UriKind.Absolute);
    }
}
