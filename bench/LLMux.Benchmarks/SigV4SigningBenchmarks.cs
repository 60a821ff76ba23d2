using System.Text;
using Amazon.Runtime;
using Amazon.Runtime.Internal;
using Amazon.Runtime.Internal.Auth;
using BenchmarkDotNet.Attributes;
using LLMux.Providers.Bedrock;

namespace LLMux.Benchmarks;

/// <summary>Signing one Bedrock Converse request: LLMux's SigV4 signer against the AWS SDK for .NET's AWS4Signer.</summary>
[MemoryDiagnoser]
public class SigV4SigningBenchmarks
{
    private const string ModelId = "us.anthropic.claude-3-5-sonnet-20241022-v2:0";
    private static readonly DateTime SignedAt = new(2025, 6, 1, 12, 0, 0, DateTimeKind.Utc);
    private readonly AwsCredentials _credentials = new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    private readonly BenchConfig _config = new() { AuthenticationRegion = "us-east-1", AuthenticationServiceName = "bedrock" };
    private byte[] _body = [];

    [GlobalSetup]
    public void Setup() => _body = Encoding.UTF8.GetBytes("{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"" + new string('x', 2000) + "\"}]}],\"inferenceConfig\":{\"maxTokens\":512}}");

    [Benchmark(Baseline = true)]
    public string AwsSdkAws4Signer()
    {
        var request = new DefaultRequest(new BenchRequest(), "BedrockRuntime")
        {
            Endpoint = new Uri("https://bedrock-runtime.us-east-1.amazonaws.com"),
            ResourcePath = "/model/{modelId}/converse",
            HttpMethod = "POST",
            Content = _body,
        };
        request.AddPathResource("{modelId}", ModelId);
        request.Headers["Content-Type"] = "application/json";
        return new AWS4Signer().SignRequest(request, _config, null, _credentials.AccessKeyId, _credentials.SecretAccessKey, SignedAt).ForAuthorizationHeader;
    }

    [Benchmark]
    public string LlmuxSigV4Signer()
    {
        var payloadHash = SigV4Signer.PayloadHash(_body);
        var amzDate = SigV4Signer.AmzDate(SignedAt);
        List<KeyValuePair<string, string>> headers =
        [
            new("host", "bedrock-runtime.us-east-1.amazonaws.com"),
            new("content-type", "application/json"),
            new("x-amz-date", amzDate),
            new("x-amz-content-sha256", payloadHash),
        ];
        return SigV4Signer.Authorization("POST", "/model/us.anthropic.claude-3-5-sonnet-20241022-v2%3A0/converse", null, headers, payloadHash, _credentials, "us-east-1", "bedrock", SignedAt);
    }

    private sealed class BenchRequest : AmazonWebServiceRequest;

    private sealed class BenchConfig() : ClientConfig(new BenchDefaults())
    {
        public override string ServiceVersion => "2023-09-30";
        public override string UserAgent => "bench";
        public override string RegionEndpointServiceName => "bedrock-runtime";
        public override Amazon.Runtime.Endpoints.Endpoint DetermineServiceOperationEndpoint(Amazon.Runtime.Endpoints.ServiceOperationEndpointParameters parameters) => new("https://bedrock-runtime.us-east-1.amazonaws.com");
    }

    private sealed class BenchDefaults : IDefaultConfigurationProvider
    {
        public IDefaultConfiguration GetDefaultConfiguration(Amazon.RegionEndpoint clientRegion, DefaultConfigurationMode? requestedConfigurationMode = null) => new DefaultConfiguration();
    }
}
