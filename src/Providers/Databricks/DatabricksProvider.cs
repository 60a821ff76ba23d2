using System.Collections.Concurrent;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Providers.Common;
using LLMux.Providers.OpenAICompatible;

namespace LLMux.Providers.Databricks;

/// <summary>
/// <c>databricks/&lt;serving endpoint&gt;</c>: the OpenAI-compatible Databricks row (its URLs, parameters and PAT auth),
/// with OAuth M2M beside the PAT. Which one a call uses: an api_key written for the deployment (a PAT); else a
/// service principal's client id and secret (the deployment's, then DATABRICKS_CLIENT_ID / DATABRICKS_CLIENT_SECRET);
/// else DATABRICKS_API_KEY. OAuth tokens are added by the transport's <see cref="AccessTokenHandler"/>.
/// </summary>
internal sealed class DatabricksProvider : CompatibleProvider, IDisposable
{
    public const string Name = "databricks";

    private readonly TimeProvider _time;
    private readonly Func<string, string?> _env;
    private readonly SocketsHttpHandler _socket;
    private readonly HttpMessageInvoker _tokenHttp;
    private readonly HttpMessageInvoker _transport;
    private readonly ConcurrentDictionary<(string Id, string Secret, Uri Url), DatabricksOAuthToken> _tokens = new();

    public DatabricksProvider(TimeProvider? time = null, Func<string, string?>? environment = null) : base(HostedCompatibleRows.Databricks)
    {
        _time = time ?? TimeProvider.System;
        _env = environment ?? Environment.GetEnvironmentVariable;
        _socket = UpstreamHandler.Create();
        _tokenHttp = new HttpMessageInvoker(_socket, disposeHandler: false);
        _transport = new HttpMessageInvoker(new AccessTokenHandler(_socket), disposeHandler: false);
    }

    public override HttpMessageInvoker? Transport => _transport;

    protected override void ApplyAuth(HttpRequestMessage request, Deployment deployment)
    {
        if (deployment.ApiKey?.Reveal() is { Length: > 0 })
        {
            base.ApplyAuth(request, deployment);
            return;
        }
        var (id, secret) = ClientCredentials(deployment);
        if (id is null || secret is null)
        {
            base.ApplyAuth(request, deployment);
            return;
        }
        var apiBase = ResolveApiBase(deployment);
        var url = DatabricksOAuthToken.For(apiBase);
        request.Options.Set(AccessTokenHandler.Source, _tokens.GetOrAdd((id, secret, url), static (k, self) => new DatabricksOAuthToken(k.Id, k.Secret, k.Url, self._tokenHttp, self._time), this));
    }

    /// <summary>The deployment's pair, else the environment's; half a pair in the config is an error, not a mix.</summary>
    private (string? Id, string? Secret) ClientCredentials(Deployment deployment)
    {
        static string? NonEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
        var id = NonEmpty(deployment.Setting("databricks_client_id")) ?? NonEmpty(deployment.Setting("client_id"));
        var secret = NonEmpty(deployment.Setting("databricks_client_secret")) ?? NonEmpty(deployment.Setting("client_secret"));
        if (id is not null || secret is not null)
        {
            if (id is null || secret is null)
                throw new LlmError
                {
                    Kind = ErrorKind.Auth,
                    Provider = Name,
                    Message = $"{Name}: deployment `{deployment.ModelName}` sets {(id is null ? "databricks_client_secret without databricks_client_id" : "databricks_client_id without databricks_client_secret")}; OAuth M2M needs both",
                    Param = id is null ? "databricks_client_id" : "databricks_client_secret",
                    Code = "missing_credentials",
                }.ToException();
            return (id, secret);
        }
        return (NonEmpty(_env("DATABRICKS_CLIENT_ID")), NonEmpty(_env("DATABRICKS_CLIENT_SECRET")));
    }

    public void Dispose()
    {
        foreach (var token in _tokens.Values) token.Dispose();
        _transport.Dispose();
        _tokenHttp.Dispose();
        _socket.Dispose();
    }
}
