using System.ClientModel;
using System.Text;
using LLMux.Emulators;
using LLMux.Host;
using LLMux.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using OpenAI.Chat;

namespace LLMux.Tests.ProviderRows;

/// <summary>The OpenAI SDK → LLMux → a Databricks workspace emulator: OAuth M2M beside the PAT, the token kept on the TimeProvider.</summary>
public sealed class DatabricksOAuthTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero));
    private DatabricksEmulator _upstream = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await DatabricksEmulator.StartNewAsync();
        _upstream.Clients["sp-client-1"] = "sp-secret/with:chars";
        _upstream.Pats["dapi-pat-1"] = true;
        _gateway = await GatewayHost.StartAsync(TestApp.Build(new LlmuxHostOptions { Port = 0, TimeProvider = _time, ConfigYaml = $"""
            router_settings:
              num_retries: 0
            model_list:
              - model_name: dbx-oauth
                litellm_params:
                  model: databricks/databricks-meta-llama-3-3-70b-instruct
                  api_base: {_upstream.ApiBase}
                  databricks_client_id: sp-client-1
                  databricks_client_secret: sp-secret/with:chars
              - model_name: dbx-pat
                litellm_params:
                  model: databricks/databricks-meta-llama-3-3-70b-instruct
                  api_base: {_upstream.ApiBase}
                  api_key: dapi-pat-1
                  databricks_client_id: sp-client-1
                  databricks_client_secret: sp-secret/with:chars
              - model_name: dbx-wrong
                litellm_params:
                  model: databricks/databricks-meta-llama-3-3-70b-instruct
                  api_base: {_upstream.ApiBase}
                  databricks_client_id: sp-client-1
                  databricks_client_secret: s3cr3t-bad-XYZ
              - model_name: dbx-half
                litellm_params:
                  model: databricks/databricks-meta-llama-3-3-70b-instruct
                  api_base: {_upstream.ApiBase}
                  databricks_client_id: sp-client-1
            """ }));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private List<RecordedRequest> Take()
    {
        var all = _upstream.Requests.ToList();
        _upstream.Requests.Clear();
        return all;
    }

    [Fact]
    public async Task Client_credentials_are_exchanged_at_the_workspace_and_the_token_is_kept_until_near_expiry()
    {
        var chat = _gateway.OpenAI().GetChatClient("dbx-oauth");
        ChatCompletion first = await chat.CompleteChatAsync([new UserChatMessage("hi")]);
        Assert.Equal("Hi from Databricks.", first.Content[0].Text);
        var sent = Take();
        Assert.Equal(["/oidc/v1/token", "/serving-endpoints/chat/completions"], sent.Select(static r => r.Path));
        Assert.Equal("grant_type=client_credentials&scope=all-apis", sent[0].BodyText);
        Assert.StartsWith("Basic ", sent[0].Headers["authorization"]);
        Assert.Equal("Bearer dbx-oauth-1", sent[1].Headers["authorization"]);

        _time.Advance(TimeSpan.FromMinutes(58));
        await chat.CompleteChatAsync([new UserChatMessage("again")]);
        Assert.Equal(1, _upstream.TokensIssued);
        _time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        var text = new StringBuilder();
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("stream")]))
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
        Assert.Equal("Hi from Databricks.", text.ToString());
        Assert.Equal(2, _upstream.TokensIssued);
        Assert.Equal("Bearer dbx-oauth-2", Take()[^1].Headers["authorization"]);
    }

    [Fact]
    public async Task A_pat_written_for_the_deployment_wins_and_no_token_is_fetched()
    {
        await _gateway.OpenAI().GetChatClient("dbx-pat").CompleteChatAsync([new UserChatMessage("hi")]);
        var sent = Assert.Single(Take());
        Assert.Equal("Bearer dapi-pat-1", sent.Headers["authorization"]);
        Assert.Equal(0, _upstream.TokensIssued);
    }

    [Fact]
    public async Task A_secret_the_workspace_refuses_is_a_401_that_names_the_settings_and_not_the_secret()
    {
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => _gateway.OpenAI().GetChatClient("dbx-wrong").CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(401, ex.Status);
        Assert.Contains("invalid_client", ex.Message);
        Assert.Contains("databricks_client_secret", ex.Message);
        Assert.DoesNotContain("s3cr3t-bad-XYZ", ex.Message);
        Assert.Equal(["/oidc/v1/token"], Take().Select(static r => r.Path));
    }

    [Fact]
    public async Task Half_a_client_pair_is_refused_before_any_call()
    {
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => _gateway.OpenAI().GetChatClient("dbx-half").CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(401, ex.Status);
        Assert.Contains("databricks_client_secret", ex.Message);
        Assert.Empty(Take());
    }
}
