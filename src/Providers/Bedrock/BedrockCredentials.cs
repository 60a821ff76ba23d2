using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;

namespace LLMux.Providers.Bedrock;

/// <summary>
/// How a Bedrock call authenticates: SigV4 with an access key pair (config first, then the AWS environment
/// variables), or a Bedrock API key as a bearer token. The region decides the default endpoint and the scope.
/// </summary>
internal sealed record BedrockCredentials(AwsCredentials? Keys, string? BearerToken, string Region)
{
    public const string DefaultRegion = "us-west-2";

    public static BedrockCredentials Resolve(Deployment deployment, BedrockModel model, Func<string, string?> env)
    {
        var region = NonEmpty(deployment.Setting("aws_region_name")) ?? model.ArnRegion() ?? NonEmpty(env("AWS_REGION_NAME"))
            ?? NonEmpty(env("AWS_REGION")) ?? NonEmpty(env("AWS_DEFAULT_REGION")) ?? DefaultRegion;

        var bearer = deployment.ApiKey?.Reveal();
        if (!string.IsNullOrEmpty(bearer)) return new BedrockCredentials(null, bearer, region);

        var keyId = NonEmpty(deployment.Setting("aws_access_key_id"));
        var secret = NonEmpty(deployment.Setting("aws_secret_access_key"));
        var token = NonEmpty(deployment.Setting("aws_session_token"));
        if (keyId is not null || secret is not null)
        {
            // A key pair written in the config is used as a pair: never half config, half environment.
            if (keyId is null || secret is null)
                throw Missing(deployment, keyId is null ? "aws_access_key_id" : "aws_secret_access_key", "it is set without its pair");
            return new BedrockCredentials(new AwsCredentials(keyId, secret, token), null, region);
        }

        keyId = NonEmpty(env("AWS_ACCESS_KEY_ID"));
        secret = NonEmpty(env("AWS_SECRET_ACCESS_KEY"));
        if (keyId is not null && secret is not null)
            return new BedrockCredentials(new AwsCredentials(keyId, secret, NonEmpty(env("AWS_SESSION_TOKEN"))), null, region);

        var envBearer = NonEmpty(env("AWS_BEARER_TOKEN_BEDROCK"));
        if (envBearer is not null) return new BedrockCredentials(null, envBearer, region);

        throw Missing(deployment, "aws_access_key_id", "no AWS credentials were found");
    }

    private static LlmException Missing(Deployment deployment, string setting, string why) => new LlmError
    {
        Kind = ErrorKind.Auth,
        Message = $"bedrock deployment `{deployment.ModelName}` cannot sign its request: {why}; set litellm_params.aws_access_key_id and " +
                  $"aws_secret_access_key (optionally aws_session_token and aws_region_name), or the AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY " +
                  $"environment variables (missing: {setting})",
        Param = setting,
        Code = "missing_credentials",
        Provider = "bedrock",
    }.ToException();

    private static string? NonEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
