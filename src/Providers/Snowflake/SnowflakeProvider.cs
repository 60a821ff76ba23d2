using System.Collections.Concurrent;
using System.Net.Http.Headers;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Streaming;
using LLMux.Providers.Common;

namespace LLMux.Providers.Snowflake;

/// <summary>
/// <c>snowflake/&lt;model&gt;</c>: Snowflake Cortex's <c>inference:complete</c>. The key-pair JWT is signed here (no
/// token endpoint is involved), one cached token per account, user and key.
/// </summary>
internal sealed class SnowflakeProvider : LlmProvider, IDisposable
{
    private readonly TimeProvider _time;
    private readonly Func<string, string?> _env;
    private readonly ConcurrentDictionary<(string Account, string User, string Key), Lazy<SnowflakeKeyPairJwt>> _jwts = new();

    public SnowflakeProvider(TimeProvider? time = null, Func<string, string?>? environment = null)
    {
        _time = time ?? TimeProvider.System;
        _env = environment ?? Environment.GetEnvironmentVariable;
    }

    public override ProviderSpec Spec => SnowflakeSpec.Spec;

    public override HttpRequestMessage CreateRequest(LlmContext context)
    {
        var deployment = context.Deployment!;
        if (context.Mode != LlmMode.Chat)
            throw LlmError.Invalid($"{SnowflakeSpec.Name} serves chat only; `{deployment.ModelName}` cannot answer {context.Mode}", "model").ToException();
        var settings = SnowflakeDeploymentSettings.Resolve(deployment, _env);
        var credential = Credential(deployment, settings);
        var body = new PooledBuffer(Math.Max(1024, context.Body.Length + 256));
        try
        {
            SnowflakeRequestWriter.Write(context, body);
        }
        catch
        {
            body.Dispose();
            throw;
        }
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(settings.ApiBase + "/cortex/inference:complete", UriKind.Absolute))
        {
            Content = new PooledContent(body),
            Version = System.Net.HttpVersion.Version11,
        };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + credential.Bearer);
        request.Headers.TryAddWithoutValidation("X-Snowflake-Authorization-Token-Type", credential.TokenType);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(context.IsStream ? "text/event-stream" : "application/json"));
        return request;
    }

    /// <summary>A token written in the config (LiteLLM's way) wins; else a JWT signed with the configured key pair.</summary>
    private SnowflakeCredential Credential(Deployment deployment, SnowflakeDeploymentSettings settings)
    {
        if (settings.ApiKey is { } token) return SnowflakeDeploymentSettings.FromToken(token);
        if (settings.PrivateKey is not { } pem)
            throw SnowflakeDeploymentSettings.Missing(deployment, "api_key", "has no credentials; set litellm_params.api_key to a key-pair JWT or `pat/<programmatic access token>`, or snowflake_private_key with snowflake_user and account_id so that LLMux signs the JWT");
        if (settings.User is not { } user) throw SnowflakeDeploymentSettings.Missing(deployment, "snowflake_user", "has a private key but no user; set litellm_params.snowflake_user (or SNOWFLAKE_USER)");
        if (settings.Account is not { } account) throw SnowflakeDeploymentSettings.Missing(deployment, "account_id", "has a private key but no account; set litellm_params.account_id (or SNOWFLAKE_ACCOUNT_ID)");
        var jwt = _jwts.GetOrAdd((account, user, pem), static (k, state) => new Lazy<SnowflakeKeyPairJwt>(
            () => new SnowflakeKeyPairJwt(k.Account, k.User, k.Key, state.passphrase, state.time)), (passphrase: settings.Passphrase, time: _time));
        return new SnowflakeCredential(jwt.Value.Token(), SnowflakeCredential.KeyPairJwt);
    }

    public override async ValueTask ReadResponseAsync(LlmContext context, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        using var body = await ResponseBodyReader.ReadAsync(response, Spec.Name, cancellationToken).ConfigureAwait(false);
        ChatCompletionResponse.Write(context, SnowflakeResponseReader.Read(body.Span, context.Deployment!.UpstreamModel, context.TimeProvider.GetUtcNow().ToUnixTimeSeconds()));
    }

    public override StreamTranslator CreateStreamTranslator(LlmContext context) => new SnowflakeStreamTranslator(context);

    public override LlmError MapError(LlmContext context, int status, ReadOnlySpan<byte> body, HttpResponseHeaders headers) =>
        SnowflakeErrorMapper.FromHttp(status, body, headers);

    public void Dispose()
    {
        foreach (var jwt in _jwts.Values) if (jwt.IsValueCreated) jwt.Value.Dispose();
    }
}
