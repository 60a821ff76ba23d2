using System.Net;
using System.Text;
using LLMux.Emulators;

namespace LLMux.Tests.Governance;

/// <summary>An end user's <c>allowed_model_region</c>: its calls reach only deployments in that region.</summary>
public sealed class RegionTests : IAsyncLifetime
{
    private GovernanceGateway _g = null!;
    private OpenAIEmulator _eu = null!;
    private OpenAIEmulator _us = null!;

    public async Task InitializeAsync()
    {
        _eu = await OpenAIEmulator.StartNewAsync();
        _us = await OpenAIEmulator.StartNewAsync();
        _g = await GovernanceGateway.StartAsync(extraModels: $"""
              - model_name: regional
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: {_us.ApiBase}
                  api_key: sk-upstream
                  region_name: us
              - model_name: regional
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: {_eu.ApiBase}
                  api_key: sk-upstream
                  region_name: eu-west-1
              - model_name: us-only
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: {_us.ApiBase}
                  api_key: sk-upstream
                  region_name: eastus2
            """);
    }

    public async Task DisposeAsync()
    {
        await _g.DisposeAsync();
        await _eu.DisposeAsync();
        await _us.DisposeAsync();
    }

    private async Task<HttpResponseMessage> ChatAs(string key, string? user, string model)
    {
        var field = user is null ? "" : $$""","user":"{{user}}" """;
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent($$"""{"model":"{{model}}"{{field}},"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        return await _g.Host.Http.SendAsync(request);
    }

    [Fact]
    public async Task An_eu_end_user_reaches_only_the_eu_deployment_of_a_group()
    {
        var (status, created) = await _g.PostAsync("/customer/new", """{"user_id":"berlin","allowed_model_region":"eu"}""");
        Assert.Equal(200, status);
        Assert.Equal("eu", created.GetProperty("allowed_model_region").GetString());
        var key = await _g.NewKeyAsync();
        for (var i = 0; i < 6; i++)
            using (var r = await ChatAs(key, "berlin", "regional")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(6, _eu.Requests.Count);
        Assert.Empty(_us.Requests);
        // Others are routed as before, over both deployments.
        for (var i = 0; i < 6; i++)
            using (var r = await ChatAs(key, "someone", "regional")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.NotEmpty(_us.Requests);
    }

    [Fact]
    public async Task A_group_with_no_deployment_in_the_region_is_refused_before_any_call()
    {
        await _g.PostAsync("/customer/new", """{"user_id":"paris","allowed_model_region":"eu"}""");
        var key = await _g.NewKeyAsync();
        using (var r = await ChatAs(key, "paris", "us-only"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Contains("No deployments available for selected model", await r.Content.ReadAsStringAsync());
        }
        // gpt-test names no region at all: an end user held to a region cannot use it either.
        using (var none = await ChatAs(key, "paris", "gpt-test")) Assert.Equal(HttpStatusCode.BadRequest, none.StatusCode);
        Assert.Empty(_us.Requests);
        Assert.Empty(_g.Upstream.Requests);
        // A US end user may (Azure's eastus2 is in the US).
        await _g.PostAsync("/customer/new", """{"user_id":"nyc","allowed_model_region":"us"}""");
        using (var us = await ChatAs(key, "nyc", "us-only")) Assert.Equal(HttpStatusCode.OK, us.StatusCode);
        // Clearing the region lifts it.
        Assert.Equal(200, (await _g.PostAsync("/customer/update", """{"user_id":"paris","allowed_model_region":null}""")).Status);
        using (var lifted = await ChatAs(key, "paris", "us-only")) Assert.Equal(HttpStatusCode.OK, lifted.StatusCode);
    }

    [Fact]
    public async Task An_end_users_default_model_serves_calls_whose_model_has_no_deployment_in_its_region()
    {
        // LiteLLM's check: the default model must be one the gateway serves (422, nothing written).
        var (bad, body) = await _g.PostAsync("/customer/new", """{"user_id":"lyon","allowed_model_region":"eu","default_model":"no-such-model"}""");
        Assert.Equal(422, bad);
        Assert.Contains("Default Model not on proxy", body.ToString());
        Assert.Equal(404, (await _g.GetAsync("/customer/info?end_user_id=lyon")).Status);

        var (status, created) = await _g.PostAsync("/customer/new", """{"user_id":"lyon","allowed_model_region":"eu","default_model":"regional"}""");
        Assert.Equal(200, status);
        Assert.Equal("regional", created.GetProperty("default_model").GetString());
        var key = await _g.NewKeyAsync();
        // us-only has no EU deployment: the call goes to the default model's EU deployment instead of a 400.
        using (var r = await ChatAs(key, "lyon", "us-only")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Single(_eu.Requests);
        Assert.Empty(_us.Requests);
        // A model with an EU deployment is served as asked (the default stands in only when needed).
        using (var asked = await ChatAs(key, "lyon", "regional")) Assert.Equal(HttpStatusCode.OK, asked.StatusCode);
        Assert.Equal(2, _eu.Requests.Count);

        // A key that may not call the default model is not let through by it.
        var narrow = await _g.NewKeyAsync("""{"models":["us-only"]}""");
        using (var refused = await ChatAs(narrow, "lyon", "us-only"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("No deployments available for selected model", await refused.Content.ReadAsStringAsync());
        }
        // A default model that has no deployment in the region either leaves the refusal as it was.
        Assert.Equal(200, (await _g.PostAsync("/customer/update", """{"user_id":"lyon","default_model":"us-only"}""")).Status);
        using (var none = await ChatAs(key, "lyon", "gpt-test")) Assert.Equal(HttpStatusCode.BadRequest, none.StatusCode);
        Assert.Equal(422, (await _g.PostAsync("/customer/update", """{"user_id":"lyon","default_model":"nope"}""")).Status);
        // Cleared with null; kept across a restart otherwise.
        Assert.Equal(200, (await _g.PostAsync("/customer/update", """{"user_id":"lyon","default_model":"regional"}""")).Status);
        await _g.RestartAsync();
        Assert.Equal("regional", (await _g.GetAsync("/customer/info?end_user_id=lyon")).Body.GetProperty("default_model").GetString());
        using (var again = await ChatAs(key, "lyon", "us-only")) Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(200, (await _g.PostAsync("/customer/update", """{"user_id":"lyon","default_model":null}""")).Status);
        using (var cleared = await ChatAs(key, "lyon", "us-only")) Assert.Equal(HttpStatusCode.BadRequest, cleared.StatusCode);
        Assert.Empty(_us.Requests);
    }

    [Theory]
    [InlineData("eu", "eu-west-1", "aws_region_name")]
    [InlineData("eu", "europe-west4", "vertex_location")]
    [InlineData("eu", "swedencentral", "region_name")]
    [InlineData("us", "us-east-1", "aws_region_name")]
    [InlineData("us", "us-central1", "vertex_location")]
    [InlineData("us", "southcentralus", "region_name")]
    [InlineData(null, "ap-south-1", "aws_region_name")]
    public void A_deployments_region_is_read_from_its_cloud_region(string? expected, string value, string setting)
    {
        var d = new LLMux.Pipeline.Context.Deployment
        {
            ModelName = "m", Model = "openai/x", ProviderName = "openai", UpstreamModel = "x", Provider = null!, Id = "d",
            Settings = System.Collections.Frozen.FrozenDictionary.ToFrozenDictionary(new Dictionary<string, string> { [setting] = value }),
        };
        Assert.Equal(expected, LLMux.Stages.Routing.DeploymentRegion.Of(d));
    }
}
