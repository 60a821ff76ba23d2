using System.Collections.Frozen;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Providers.Bedrock;

namespace LLMux.Tests.Bedrock;

/// <summary>Where credentials, region and endpoint come from: the deployment first, the AWS environment second.</summary>
public sealed class BedrockCredentialsTests
{
    private static Deployment Deployment(Dictionary<string, string>? settings = null, string? apiBase = null, string? apiKey = null) => new()
    {
        ModelName = "claude",
        Model = "bedrock/anthropic.claude-3-haiku-20240307-v1:0",
        ProviderName = "bedrock",
        UpstreamModel = "anthropic.claude-3-haiku-20240307-v1:0",
        Provider = new BedrockProvider(),
        Id = "d1",
        ApiBase = apiBase,
        ApiKey = Secret.From(apiKey),
        Settings = (settings ?? []).ToFrozenDictionary(StringComparer.Ordinal),
    };

    private static readonly BedrockModel Model = BedrockModel.Parse("anthropic.claude-3-haiku-20240307-v1:0", null);

    private static Func<string, string?> Env(params (string Name, string Value)[] vars) => name =>
    {
        foreach (var (n, v) in vars) if (n == name) return v;
        return null;
    };

    [Fact]
    public void Config_credentials_win_over_the_environment()
    {
        var d = Deployment(new() { ["aws_access_key_id"] = "AKIDCONFIG", ["aws_secret_access_key"] = "s", ["aws_session_token"] = "tok", ["aws_region_name"] = "eu-west-3" });
        var c = BedrockCredentials.Resolve(d, Model, Env(("AWS_ACCESS_KEY_ID", "AKIDENV"), ("AWS_SECRET_ACCESS_KEY", "e"), ("AWS_REGION", "us-east-2")));
        Assert.Equal("AKIDCONFIG", c.Keys!.AccessKeyId);
        Assert.Equal("tok", c.Keys.SessionToken);
        Assert.Equal("eu-west-3", c.Region);
    }

    [Fact]
    public void Environment_is_the_fallback_for_keys_and_region()
    {
        var c = BedrockCredentials.Resolve(Deployment(), Model, Env(("AWS_ACCESS_KEY_ID", "AKIDENV"), ("AWS_SECRET_ACCESS_KEY", "e"), ("AWS_SESSION_TOKEN", "t"), ("AWS_DEFAULT_REGION", "ap-south-1")));
        Assert.Equal("AKIDENV", c.Keys!.AccessKeyId);
        Assert.Equal("t", c.Keys.SessionToken);
        Assert.Equal("ap-south-1", c.Region);
        Assert.Equal("us-east-2", BedrockCredentials.Resolve(Deployment(), Model, Env(("AWS_ACCESS_KEY_ID", "A"), ("AWS_SECRET_ACCESS_KEY", "e"), ("AWS_REGION", "us-east-2"), ("AWS_DEFAULT_REGION", "x"))).Region);
        Assert.Equal("us-west-2", BedrockCredentials.Resolve(Deployment(), Model, Env(("AWS_ACCESS_KEY_ID", "A"), ("AWS_SECRET_ACCESS_KEY", "e"))).Region);
    }

    [Fact]
    public void Arn_names_the_region_when_the_config_does_not()
    {
        var arn = BedrockModel.Parse("arn:aws:bedrock:eu-central-1:123456789012:inference-profile/eu.anthropic.claude-3-haiku-20240307-v1:0", null);
        Assert.Equal("eu-central-1", BedrockCredentials.Resolve(Deployment(), arn, Env(("AWS_ACCESS_KEY_ID", "A"), ("AWS_SECRET_ACCESS_KEY", "e"), ("AWS_REGION", "us-east-2"))).Region);
    }

    [Fact]
    public void Missing_credentials_are_an_auth_error_naming_the_settings()
    {
        var ex = Assert.Throws<LlmException>(() => BedrockCredentials.Resolve(Deployment(), Model, Env()));
        Assert.Equal(ErrorKind.Auth, ex.Error.Kind);
        Assert.Contains("aws_access_key_id", ex.Error.Message);
        Assert.Contains("AWS_ACCESS_KEY_ID", ex.Error.Message);
    }

    [Fact]
    public void Half_a_key_pair_in_the_config_is_refused_rather_than_mixed_with_the_environment()
    {
        var ex = Assert.Throws<LlmException>(() => BedrockCredentials.Resolve(Deployment(new() { ["aws_access_key_id"] = "A" }), Model, Env(("AWS_SECRET_ACCESS_KEY", "e"))));
        Assert.Equal("aws_secret_access_key", ex.Error.Param);
    }

    [Fact]
    public void Api_key_or_bedrock_bearer_token_means_bearer_auth()
    {
        Assert.Equal("k1", BedrockCredentials.Resolve(Deployment(apiKey: "k1"), Model, Env()).BearerToken);
        Assert.Equal("k2", BedrockCredentials.Resolve(Deployment(), Model, Env(("AWS_BEARER_TOKEN_BEDROCK", "k2"))).BearerToken);
    }

    [Fact]
    public void Default_endpoint_is_regional_and_api_base_replaces_the_host_root()
    {
        var provider = new BedrockProvider(environment: Env());
        Assert.Equal("https://bedrock-runtime.eu-west-1.amazonaws.com/model/us.anthropic.claude-3-5-sonnet-20241022-v2%3A0/converse",
            provider.Endpoint(Deployment(), "eu-west-1", "us.anthropic.claude-3-5-sonnet-20241022-v2:0", "converse").AbsoluteUri);
        Assert.Equal("http://proxy.local:8080/root/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Aapplication-inference-profile%2Fabc/converse-stream",
            provider.Endpoint(Deployment(apiBase: "http://proxy.local:8080/root/"), "us-east-1", "arn:aws:bedrock:us-east-1:1:application-inference-profile/abc", "converse-stream").AbsoluteUri);
    }
}
