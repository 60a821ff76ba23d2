using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;

namespace LLMux.Providers.Snowflake;

/// <summary>What a Snowflake deployment sends: a bearer value and its <c>X-Snowflake-Authorization-Token-Type</c>.</summary>
internal readonly record struct SnowflakeCredential(string Bearer, string TokenType)
{
    public const string KeyPairJwt = "KEYPAIR_JWT";
    public const string ProgrammaticAccessToken = "PROGRAMMATIC_ACCESS_TOKEN";
    public const string PatPrefix = "pat/";

    public override string ToString() => TokenType;
}

/// <summary>
/// A deployment's Snowflake account, base URL and credential, as LiteLLM reads them (<c>account_id</c> /
/// SNOWFLAKE_ACCOUNT_ID, api_base, <c>api_key</c> / SNOWFLAKE_JWT with LiteLLM's <c>pat/</c> prefix), plus the key pair
/// LLMux can sign a JWT with when no token is given.
/// </summary>
internal sealed record SnowflakeDeploymentSettings(string ApiBase, string? Account, string? ApiKey, string? User, string? PrivateKey, string? Passphrase)
{
    public static SnowflakeDeploymentSettings Resolve(Deployment deployment, Func<string, string?> env)
    {
        static string? NonEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
        var account = NonEmpty(deployment.Setting("account_id")) ?? NonEmpty(deployment.Setting("snowflake_account")) ?? NonEmpty(env("SNOWFLAKE_ACCOUNT_ID"));
        var apiBase = NonEmpty(deployment.ApiBase);
        if (apiBase is null)
        {
            if (account is null) throw Missing(deployment, "account_id", "has no account; set litellm_params.account_id (or SNOWFLAKE_ACCOUNT_ID), or api_base (https://<account>.snowflakecomputing.com)");
            apiBase = $"https://{account}.snowflakecomputing.com/api/v2";
        }
        apiBase = apiBase.TrimEnd('/');
        if (!apiBase.EndsWith("/api/v2", StringComparison.Ordinal)) apiBase += "/api/v2";
        var key = NonEmpty(deployment.ApiKey?.Reveal()) ?? NonEmpty(env("SNOWFLAKE_JWT"));
        var user = NonEmpty(deployment.Setting("snowflake_user")) ?? NonEmpty(env("SNOWFLAKE_USER"));
        var pem = NonEmpty(deployment.Setting("snowflake_private_key")) ?? NonEmpty(env("SNOWFLAKE_PRIVATE_KEY"));
        var path = NonEmpty(deployment.Setting("snowflake_private_key_path")) ?? NonEmpty(env("SNOWFLAKE_PRIVATE_KEY_PATH"));
        if (pem is not null && !pem.Contains("-----BEGIN", StringComparison.Ordinal)) (path, pem) = (pem, null);
        if (pem is null && path is not null)
        {
            try
            {
                pem = File.ReadAllText(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw Missing(deployment, "snowflake_private_key", $"cannot read its private key file ({ex.GetType().Name}); check snowflake_private_key_path");
            }
        }
        var passphrase = NonEmpty(deployment.Setting("snowflake_private_key_passphrase")) ?? NonEmpty(env("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE"));
        return new SnowflakeDeploymentSettings(apiBase, account, key, user, pem, passphrase);
    }

    /// <summary>The credential a given token means: LiteLLM's <c>pat/</c> prefix marks a programmatic access token.</summary>
    public static SnowflakeCredential FromToken(string token) =>
        token.StartsWith(SnowflakeCredential.PatPrefix, StringComparison.Ordinal)
            ? new SnowflakeCredential(token[SnowflakeCredential.PatPrefix.Length..], SnowflakeCredential.ProgrammaticAccessToken)
            : new SnowflakeCredential(token, SnowflakeCredential.KeyPairJwt);

    internal static LlmException Missing(Deployment deployment, string param, string what) => new LlmError
    {
        Kind = ErrorKind.Auth,
        Message = $"{SnowflakeSpec.Name}: deployment `{deployment.ModelName}` {what}",
        Param = param,
        Code = "missing_credentials",
        Provider = SnowflakeSpec.Name,
    }.ToException();

    /// <summary>Never print the key (records print their members).</summary>
    public override string ToString() => $"snowflake {ApiBase}";
}
