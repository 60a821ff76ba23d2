using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace LLMux.Emulators;

/// <summary>
/// Google's OAuth token endpoint for one service account, as the Vertex emulators run it at <c>/token</c>: it verifies
/// the JWT-bearer assertion (RS256 with the account's key, <c>iss</c>, <c>aud</c>, the cloud-platform scope) and
/// issues access tokens that the emulator's model routes then accept or refuse.
/// </summary>
public sealed class GoogleTokenIssuer(string clientEmail, string tokenPrefix)
{
    public const string Path = "/token";

    private readonly RSA _key = RSA.Create(2048);
    private readonly ConcurrentDictionary<string, bool> _issued = new();
    private int _count;

    public string ClientEmail { get; } = clientEmail;
    public int TokensIssued => Volatile.Read(ref _count);

    public bool IsIssued(string token) => _issued.ContainsKey(token);

    public void Revoke(string token) => _issued.TryRemove(token, out _);

    /// <summary>The bearer token of a request (empty when there is none).</summary>
    public static string BearerOf(RecordedRequest request)
    {
        var auth = request.Headers.GetValueOrDefault("authorization") ?? "";
        return auth.StartsWith("Bearer ", StringComparison.Ordinal) ? auth[7..] : "";
    }

    public string ServiceAccountJson(string project, string tokenUri, string keyId) => new JsonObject
    {
        ["type"] = "service_account",
        ["project_id"] = project,
        ["private_key_id"] = keyId,
        ["private_key"] = _key.ExportPkcs8PrivateKeyPem(),
        ["client_email"] = ClientEmail,
        ["token_uri"] = tokenUri,
    }.ToJsonString();

    public async Task AnswerAsync(HttpContext http, RecordedRequest request, string tokenUri)
    {
        var form = System.Web.HttpUtility.ParseQueryString(request.BodyText);
        var jwt = form["assertion"];
        var parts = jwt?.Split('.') ?? [];
        if (form["grant_type"] != "urn:ietf:params:oauth:grant-type:jwt-bearer" || parts.Length != 3
            || !_key.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), System.Buffers.Text.Base64Url.DecodeFromChars(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
        {
            http.Response.StatusCode = 400;
            http.Response.ContentType = "application/json; charset=utf-8";
            await http.Response.WriteAsync("""{"error":"invalid_grant","error_description":"Invalid JWT Signature."}""", http.RequestAborted).ConfigureAwait(false);
            return;
        }
        using var claims = JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(parts[1]));
        var c = claims.RootElement;
        if (c.GetProperty("iss").GetString() != ClientEmail || c.GetProperty("aud").GetString() != tokenUri
            || c.GetProperty("scope").GetString() != "https://www.googleapis.com/auth/cloud-platform")
        {
            http.Response.StatusCode = 400;
            await http.Response.WriteAsync("""{"error":"invalid_grant","error_description":"Invalid JWT: claims are wrong."}""", http.RequestAborted).ConfigureAwait(false);
            return;
        }
        var token = tokenPrefix + Interlocked.Increment(ref _count);
        _issued[token] = true;
        http.Response.ContentType = "application/json; charset=utf-8";
        await http.Response.WriteAsync($$"""{"access_token":"{{token}}","expires_in":3600,"token_type":"Bearer"}""", http.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Google's error body: <c>{"error":{"code","message","status"}}</c>.</summary>
    public static async Task GoogleErrorAsync(HttpContext http, int status, string rpcStatus, string message)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json; charset=UTF-8";
        var body = new JsonObject { ["error"] = new JsonObject { ["code"] = status, ["message"] = message, ["status"] = rpcStatus } };
        await http.Response.WriteAsync(body.ToJsonString(), http.RequestAborted).ConfigureAwait(false);
    }
}
