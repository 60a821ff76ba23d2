using System.Text;
using Amazon.Runtime;
using Amazon.Runtime.Endpoints;
using Amazon.Runtime.Internal;
using Amazon.Runtime.Internal.Auth;
using LLMux.Providers.Bedrock;

namespace LLMux.Tests.Bedrock;

/// <summary>The signer against the AWS SDK for .NET's own AWS4Signer (AWSSDK.Core) on random Bedrock requests.</summary>
public sealed class SigV4SdkOracleTests
{
    private const string Region = "us-east-1";

    [Fact]
    public void Signatures_match_the_aws_sdk_for_random_model_ids_bodies_and_times()
    {
        var random = new Random(20240601);
        const string idChars = "abcdefghijklmnopqrstuvwxyz0123456789.-_:/";
        for (var i = 0; i < 200; i++)
        {
            var id = "us.anthropic." + new string(Enumerable.Range(0, random.Next(1, 40)).Select(_ => idChars[random.Next(idChars.Length)]).ToArray()) + ":0";
            var body = Encoding.UTF8.GetBytes("{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"" + random.Next() + " é\"}]}]}");
            var time = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(random.Next(0, 200_000_000));
            var token = i % 3 == 0 ? "FwoGZXIvYXdzE" + random.Next() + "/+=" : null;
            var operation = i % 2 == 0 ? "converse" : "converse-stream";

            var (sdkAuthorization, sdkHeaders) = SdkSign(id, operation, body, time, token);

            var path = "/model/" + Uri.EscapeDataString(id) + "/" + operation;
            var headers = sdkHeaders.Where(static h => h.Key is not ("Authorization" or "User-Agent")).ToList();
            var ours = SigV4Signer.Authorization("POST", path, null, headers, SigV4Signer.PayloadHash(body),
                new AwsCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token), Region, "bedrock", new DateTimeOffset(time));
            Assert.Equal(sdkAuthorization, ours);
        }
    }

    private static (string Authorization, IDictionary<string, string> Headers) SdkSign(string modelId, string operation, byte[] body, DateTime time, string? token)
    {
        var request = new DefaultRequest(new OracleRequest(), "BedrockRuntime")
        {
            Endpoint = new Uri("https://bedrock-runtime.us-east-1.amazonaws.com"),
            ResourcePath = "/model/{modelId}/" + operation,
            HttpMethod = "POST",
            Content = body,
        };
        request.AddPathResource("{modelId}", modelId);
        request.Headers["Content-Type"] = "application/json";
        if (token is not null) request.Headers["X-Amz-Security-Token"] = token;
        var config = new OracleConfig { AuthenticationRegion = Region, AuthenticationServiceName = "bedrock" };
        var result = new AWS4Signer().SignRequest(request, config, null, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", time);
        return (result.ForAuthorizationHeader, request.Headers);
    }

    private sealed class OracleRequest : AmazonWebServiceRequest;

    private sealed class OracleConfig() : ClientConfig(new OracleDefaults())
    {
        public override string ServiceVersion => "2023-09-30";
        public override string UserAgent => "oracle";
        public override string RegionEndpointServiceName => "bedrock-runtime";
        public override Amazon.Runtime.Endpoints.Endpoint DetermineServiceOperationEndpoint(ServiceOperationEndpointParameters parameters) => new("https://bedrock-runtime.us-east-1.amazonaws.com");
    }

    private sealed class OracleDefaults : IDefaultConfigurationProvider
    {
        public IDefaultConfiguration GetDefaultConfiguration(Amazon.RegionEndpoint clientRegion, DefaultConfigurationMode? requestedConfigurationMode = null) => new DefaultConfiguration();
    }
}
