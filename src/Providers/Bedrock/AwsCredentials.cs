namespace LLMux.Providers.Bedrock;

/// <summary>An AWS access key pair, with the session token of temporary credentials. <see cref="ToString"/> never shows the secret.</summary>
internal sealed record AwsCredentials(string AccessKeyId, string SecretAccessKey, string? SessionToken = null)
{
    public override string ToString() => $"AwsCredentials {{ AccessKeyId = {AccessKeyId}, SecretAccessKey = [redacted] }}";
}
