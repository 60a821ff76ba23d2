using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Providers.Bedrock;

namespace LLMux.Providers.SageMaker;

/// <summary>The key pair and region a SageMaker call is signed with: the deployment's aws_* settings, else the AWS environment.</summary>
internal static class SageMakerCredentials
{
    public const string DefaultRegion = "us-west-2";

    public static (AwsCredentials Keys, string Region) Resolve(Deployment deployment, Func<string, string?> env)
    {
        var region = NonEmpty(deployment.Setting("aws_region_name")) ?? NonEmpty(env("AWS_REGION_NAME")) ?? NonEmpty(env("AWS_REGION"))
            ?? NonEmpty(env("AWS_DEFAULT_REGION")) ?? DefaultRegion;
        var keyId = NonEmpty(deployment.Setting("aws_access_key_id"));
        var secret = NonEmpty(deployment.Setting("aws_secret_access_key"));
        if (keyId is not null || secret is not null)
        {
            // A pair written in the config is used as a pair: never half config, half environment.
            if (keyId is null || secret is null) throw Missing(deployment, keyId is null ? "aws_access_key_id" : "aws_secret_access_key", "it is set without its pair");
            return (new AwsCredentials(keyId, secret, NonEmpty(deployment.Setting("aws_session_token"))), region);
        }
        keyId = NonEmpty(env("AWS_ACCESS_KEY_ID"));
        secret = NonEmpty(env("AWS_SECRET_ACCESS_KEY"));
        if (keyId is not null && secret is not null) return (new AwsCredentials(keyId, secret, NonEmpty(env("AWS_SESSION_TOKEN"))), region);
        throw Missing(deployment, "aws_access_key_id", "no AWS credentials were found");
    }

    private static LlmException Missing(Deployment deployment, string setting, string why) => new LlmError
    {
        Kind = ErrorKind.Auth,
        Message = $"{SageMakerSpec.Name} deployment `{deployment.ModelName}` cannot sign its request: {why}; set litellm_params.aws_access_key_id and " +
                  "aws_secret_access_key (optionally aws_session_token and aws_region_name), or the AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY " +
                  $"environment variables (missing: {setting})",
        Param = setting,
        Code = "missing_credentials",
        Provider = SageMakerSpec.Name,
    }.ToException();

    private static string? NonEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
