using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace LLMux.Providers.Oci;

/// <summary>
/// OCI's HTTP request signature (draft-cavage-http-signatures, version 1, rsa-sha256) for a POST with a JSON body:
/// the signing string is the lines <c>date</c>, <c>(request-target)</c>, <c>host</c>, <c>content-length</c>,
/// <c>content-type</c>, <c>x-content-sha256</c> joined by <c>\n</c>, each <c>name: value</c>; the signature is
/// RSASSA-PKCS1-v1_5 over SHA-256 of it, base64.
/// </summary>
internal static class OciRequestSigner
{
    public const string SignedHeaders = "date (request-target) host content-length content-type x-content-sha256";
    public const string ContentType = "application/json";

    public static void Sign(HttpRequestMessage request, ReadOnlySpan<byte> body, OciCredentials credentials, DateTimeOffset now)
    {
        var uri = request.RequestUri!;
        var date = now.UtcDateTime.ToString("r", CultureInfo.InvariantCulture); // "Tue, 02 Dec 2026 05:00:00 GMT"
        var host = uri.IsDefaultPort ? uri.Host : uri.Host + ":" + uri.Port.ToString(CultureInfo.InvariantCulture);
        var length = body.Length.ToString(CultureInfo.InvariantCulture);
        var sha = Convert.ToBase64String(SHA256.HashData(body));
        var target = request.Method.Method.ToLowerInvariant() + " " + uri.PathAndQuery;
        var signing = SigningString(date, target, host, length, ContentType, sha);
        var signature = Convert.ToBase64String(credentials.Key.SignData(Encoding.UTF8.GetBytes(signing), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));

        request.Headers.TryAddWithoutValidation("date", date);
        request.Headers.Host = host;
        request.Headers.TryAddWithoutValidation("x-content-sha256", sha);
        request.Content!.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(ContentType);
        request.Content.Headers.ContentLength = body.Length;
        request.Headers.TryAddWithoutValidation("authorization",
            $"Signature version=\"1\",keyId=\"{credentials.KeyId}\",algorithm=\"rsa-sha256\",headers=\"{SignedHeaders}\",signature=\"{signature}\"");
    }

    /// <summary>The string that is signed, in <see cref="SignedHeaders"/> order.</summary>
    public static string SigningString(string date, string requestTarget, string host, string contentLength, string contentType, string contentSha256) =>
        string.Concat("date: ", date, "\n(request-target): ", requestTarget, "\nhost: ", host, "\ncontent-length: ", contentLength,
            "\ncontent-type: ", contentType, "\nx-content-sha256: ", contentSha256);
}
