using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace LLMux.Tests.Governance;

/// <summary>
/// Virtual keys on <c>/v1/responses</c>: the same model access, rate limits and spend as chat completions, and
/// stored responses that only the key which stored them can read, chain on or delete.
/// </summary>
public sealed class ResponsesGovernanceTests : IAsyncLifetime
{
    private GovernanceGateway _g = null!;

    public async Task InitializeAsync() => _g = await GovernanceGateway.StartAsync();
    public async Task DisposeAsync() => await _g.DisposeAsync();

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string key, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        return await _g.Host.Http.SendAsync(request);
    }

    private Task<HttpResponseMessage> CreateAsync(string key, string model = "gpt-test", string? previous = null) =>
        SendAsync(HttpMethod.Post, "/v1/responses", key,
            $$"""{"model":"{{model}}","input":"hello"{{(previous is null ? "" : $",\"previous_response_id\":\"{previous}\"")}}}""");

    [Fact]
    public async Task A_keys_rpm_limit_holds_on_responses()
    {
        var raw = await _g.NewKeyAsync("""{"rpm_limit":1}""");
        using (var ok = await CreateAsync(raw)) Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var calls = _g.Upstream.Requests.Count;
        using var refused = await CreateAsync(raw);
        Assert.Equal((HttpStatusCode)429, refused.StatusCode);
        Assert.Contains("Rate limit exceeded for api_key", await refused.Content.ReadAsStringAsync());
        Assert.Equal(calls, _g.Upstream.Requests.Count);
    }

    [Fact]
    public async Task A_model_outside_the_keys_models_is_refused_before_any_upstream_call()
    {
        var raw = await _g.NewKeyAsync("""{"models":["gpt-other"]}""");
        var calls = _g.Upstream.Requests.Count;
        using var refused = await CreateAsync(raw, "gpt-test");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(calls, _g.Upstream.Requests.Count);
    }

    [Fact]
    public async Task An_unknown_key_is_refused_in_openai_error_json()
    {
        using var refused = await CreateAsync("sk-not-a-key");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        using var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
        Assert.True(error.RootElement.GetProperty("error").TryGetProperty("type", out _));
        Assert.Empty(_g.Upstream.Requests);
    }

    [Fact]
    public async Task A_stored_response_belongs_to_the_key_that_stored_it()
    {
        var alice = await _g.NewKeyAsync();
        var bob = await _g.NewKeyAsync();
        string id;
        using (var created = await CreateAsync(alice))
        {
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
            using var doc = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
            id = doc.RootElement.GetProperty("id").GetString()!;
        }
        using (var mine = await SendAsync(HttpMethod.Get, "/v1/responses/" + id, alice)) Assert.Equal(HttpStatusCode.OK, mine.StatusCode);
        using (var theirs = await SendAsync(HttpMethod.Get, "/v1/responses/" + id, bob)) Assert.Equal(HttpStatusCode.NotFound, theirs.StatusCode);
        using (var chained = await CreateAsync(bob, previous: id)) Assert.Equal(HttpStatusCode.BadRequest, chained.StatusCode);
        using (var deleted = await SendAsync(HttpMethod.Delete, "/v1/responses/" + id, bob)) Assert.Equal(HttpStatusCode.NotFound, deleted.StatusCode);
        using (var still = await SendAsync(HttpMethod.Get, "/v1/responses/" + id, alice)) Assert.Equal(HttpStatusCode.OK, still.StatusCode);
    }
}
