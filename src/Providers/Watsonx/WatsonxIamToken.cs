using LLMux.Providers.Common;

namespace LLMux.Providers.Watsonx;

/// <summary>
/// IBM Cloud IAM: an API key is exchanged for a bearer token (<c>POST {iam}/identity/token</c>, form
/// <c>grant_type=urn:ibm:params:oauth:grant-type:apikey&amp;apikey=...</c>), which lives an hour and is kept until a
/// minute before it expires.
/// </summary>
internal sealed class WatsonxIamToken(string apiKey, Uri iamUrl, HttpMessageInvoker http, TimeProvider time) : CachedAccessToken(time)
{
    public const string GrantType = "urn:ibm:params:oauth:grant-type:apikey";

    protected override Task<(string Token, TimeSpan Lifetime)> FetchAsync(CancellationToken cancellationToken) =>
        PostFormAsync(http, iamUrl, [new("grant_type", GrantType), new("apikey", apiKey)], null, WatsonxSpec.Name, "IBM Cloud IAM",
            "check this deployment's api_key (an IBM Cloud API key) or WATSONX_APIKEY, and WATSONX_IAM_URL", cancellationToken);
}
