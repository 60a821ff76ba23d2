using System.ClientModel;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;
using OpenAI.Responses;

#pragma warning disable OPENAI001

namespace LLMux.Tests.Responses;

/// <summary>GET / DELETE / cancel / input_items of natively served response ids go to the deployment that made them.</summary>
public sealed class ResponsesNativeStateTests : IAsyncLifetime
{
    private OpenAIResponsesEmulator _upstream = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await OpenAIResponsesEmulator.StartNewAsync();
        var root = _upstream.Root.ToString().TrimEnd('/');
        _gateway = await GatewayHost.StartAsync($"""
            router_settings:
              num_retries: 0
            model_list:
              - model_name: gpt-5
                litellm_params:
                  model: openai/gpt-5
                  api_base: {_upstream.ApiBase}
                  api_key: sk-upstream
                  responses_api: native
              - model_name: azure-dated
                litellm_params:
                  model: azure/my-gpt5-deployment
                  api_base: {root}
                  api_key: az-key
                  api_version: 2025-03-01-preview
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private ResponsesClient Client(string key = "sk-alice") => _gateway.OpenAI(key).GetResponsesClient();

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? body = null, string key = "sk-alice")
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        return await _gateway.Http.SendAsync(request);
    }

    [Fact]
    public async Task GET_of_a_native_id_is_proxied_to_the_deployment_that_made_it()
    {
        var client = Client();
        ResponseResult created = await client.CreateResponseAsync(new CreateResponseOptions("gpt-5", [ResponseItem.CreateUserMessageItem("hi")]));
        Assert.Equal(OpenAIResponsesEmulator.ResponseId, created.Id);

        ResponseResult got = await client.GetResponseAsync(created.Id);
        Assert.Equal("stored upstream", got.GetOutputText()); // the provider's stored copy, not one of ours
        var sent = _upstream.Requests.Last();
        Assert.Equal("GET", sent.Method);
        Assert.Equal($"/v1/responses/{created.Id}", sent.Path);
        Assert.Equal("Bearer sk-upstream", sent.Headers["authorization"]);

        // Another key never reaches the provider's copy through LLMux.
        var before = _upstream.Requests.Count;
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Client("sk-bob").GetResponseAsync(created.Id));
        Assert.Equal(404, ex.Status);
        Assert.Equal(before, _upstream.Requests.Count);
    }

    [Fact]
    public async Task Streamed_native_id_is_recorded_and_DELETE_is_proxied_then_forgotten()
    {
        using (var stream = await SendAsync(HttpMethod.Post, "/v1/responses", """{"model":"gpt-5","input":"hi","stream":true}"""))
        {
            Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
            var events = ResponsesEventStream.Parse(await stream.Content.ReadAsStringAsync());
            Assert.Equal(OpenAIResponsesEmulator.ResponseId, events.Terminal.GetProperty("response").GetProperty("id").GetString());
        }
        var deleted = await Client().DeleteResponseAsync(OpenAIResponsesEmulator.ResponseId);
        Assert.True(deleted.Value.Deleted);
        var sent = _upstream.Requests.Last();
        Assert.Equal("DELETE", sent.Method);
        Assert.Equal($"/v1/responses/{OpenAIResponsesEmulator.ResponseId}", sent.Path);

        var before = _upstream.Requests.Count;
        using var again = await SendAsync(HttpMethod.Get, $"/v1/responses/{OpenAIResponsesEmulator.ResponseId}");
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal(before, _upstream.Requests.Count);
    }

    [Fact]
    public async Task Azure_dated_cancel_and_input_items_keep_the_api_version_after_the_path()
    {
        using (var created = await SendAsync(HttpMethod.Post, "/v1/responses", """{"model":"azure-dated","input":"hi","background":true}"""))
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        var id = OpenAIResponsesEmulator.ResponseId;

        ResponseResult cancelled = await Client().CancelResponseAsync(id);
        Assert.Equal(ResponseStatus.Cancelled, cancelled.Status);
        var sent = _upstream.Requests.Last();
        Assert.Equal("POST", sent.Method);
        Assert.Equal($"/openai/responses/{id}/cancel", sent.Path);
        Assert.Equal("?api-version=2025-03-01-preview", sent.Query);
        Assert.Equal("az-key", sent.Headers["api-key"]);

        using var items = await SendAsync(HttpMethod.Get, $"/v1/responses/{id}/input_items?limit=5&order=asc");
        Assert.Equal(HttpStatusCode.OK, items.StatusCode);
        using var doc = JsonDocument.Parse(await items.Content.ReadAsStringAsync());
        Assert.Equal("msg_in_1", doc.RootElement.GetProperty("first_id").GetString());
        sent = _upstream.Requests.Last();
        Assert.Equal($"/openai/responses/{id}/input_items", sent.Path);
        Assert.Equal("?api-version=2025-03-01-preview&limit=5&order=asc", sent.Query);
    }

    [Fact]
    public async Task A_native_response_with_store_false_is_not_recorded()
    {
        using (var created = await SendAsync(HttpMethod.Post, "/v1/responses", """{"model":"gpt-5","input":"hi","store":false}"""))
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        var before = _upstream.Requests.Count;
        using var got = await SendAsync(HttpMethod.Get, $"/v1/responses/{OpenAIResponsesEmulator.ResponseId}");
        Assert.Equal(HttpStatusCode.NotFound, got.StatusCode);
        Assert.Equal(before, _upstream.Requests.Count);
    }

    [Fact]
    public async Task Conversation_and_prompt_reach_a_native_provider_unchanged()
    {
        using var created = await SendAsync(HttpMethod.Post, "/v1/responses", """{"model":"gpt-5","input":"hi","conversation":{"id":"conv_42"},"prompt":{"id":"pmpt_1","variables":{"x":"y"}}}""");
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        using var sent = JsonDocument.Parse(_upstream.Requests.Last().Body);
        Assert.Equal("conv_42", sent.RootElement.GetProperty("conversation").GetProperty("id").GetString());
        Assert.Equal("y", sent.RootElement.GetProperty("prompt").GetProperty("variables").GetProperty("x").GetString());
    }
}
