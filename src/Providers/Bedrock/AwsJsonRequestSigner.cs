using System.Globalization;

namespace LLMux.Providers.Bedrock;

/// <summary>
/// Signs a JSON <c>POST</c> to an AWS runtime (Bedrock, SageMaker) with SigV4: <c>host</c>, <c>content-type</c>,
/// <c>x-amz-date</c>, <c>x-amz-content-sha256</c> and, for temporary credentials, <c>x-amz-security-token</c>.
/// </summary>
internal static class AwsJsonRequestSigner
{
    public static void Sign(HttpRequestMessage request, Uri uri, ReadOnlySpan<byte> body, AwsCredentials keys, string region, string service, DateTimeOffset now)
    {
        var amzDate = SigV4Signer.AmzDate(now);
        var payloadHash = SigV4Signer.PayloadHash(body);
        var headers = new List<KeyValuePair<string, string>>(5)
        {
            new("host", uri.IsDefaultPort ? uri.IdnHost : uri.IdnHost + ":" + uri.Port.ToString(CultureInfo.InvariantCulture)),
            new("content-type", "application/json"),
            new("x-amz-date", amzDate),
            new("x-amz-content-sha256", payloadHash),
        };
        if (keys.SessionToken is { } session) headers.Add(new("x-amz-security-token", session));
        var authorization = SigV4Signer.Authorization("POST", uri.AbsolutePath, null, headers, payloadHash, keys, region, service, now);

        request.Headers.TryAddWithoutValidation("x-amz-date", amzDate);
        request.Headers.TryAddWithoutValidation("x-amz-content-sha256", payloadHash);
        if (keys.SessionToken is { } token) request.Headers.TryAddWithoutValidation("x-amz-security-token", token);
        request.Headers.TryAddWithoutValidation("Authorization", authorization);
    }
}
