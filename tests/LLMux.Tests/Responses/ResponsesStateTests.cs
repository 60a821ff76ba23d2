using System.ClientModel;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Stages.Responses;
using LLMux.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using OpenAI.Responses;

#pragma warning disable OPENAI001

namespace LLMux.Tests.Responses;

/// <summary>Stored responses on the bridge: previous_response_id chains, GET, DELETE, input_items, input_tokens, owner scoping, store bounds.</summary>
public sealed class ResponsesStateTests : IAsyncLifetime
{
    private OpenAIEmulator _upstream = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await OpenAIEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync($"""
            router_settings:
              num_retries: 0
            model_list:
              - model_name: chat-only
                litellm_params:
                  model: hosted_vllm/qwen3
                  api_base: {_upstream.ApiBase}
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpMethod method, string path, string? body = null, string key = "sk-alice")
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await _gateway.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (text.StartsWith("event:", StringComparison.Ordinal))
        {
            var events = ResponsesEventStream.Parse(text);
            return (response.StatusCode, events.Terminal.GetProperty("response"));
        }
        using var doc = JsonDocument.Parse(text);
        return (response.StatusCode, doc.RootElement.Clone());
    }

    private JsonElement LastUpstreamMessages() => _upstream.Requests.Last().Json().RootElement.GetProperty("messages").Clone();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Previous_response_id_prepends_the_earlier_input_and_output(bool stream)
    {
        _upstream.Enqueue(new OpenAIScript { ToolCall = ("get_time", "{\"tz\":\"UTC\"}") });
        var s = stream ? "true" : "false";
        var (status, first) = await SendAsync(HttpMethod.Post, "/v1/responses",
            """{"model":"chat-only","instructions":"first instructions","input":"what time is it?","stream":""" + s
            + ""","tools":[{"type":"function","name":"get_time","parameters":{"type":"object","properties":{"tz":{"type":"string"}}}}]}""");
        Assert.Equal(HttpStatusCode.OK, status);
        var id = first.GetProperty("id").GetString()!;
        var callId = first.GetProperty("output")[0].GetProperty("call_id").GetString();

        _upstream.Enqueue(new OpenAIScript { Content = "It is noon." });
        var (status2, second) = await SendAsync(HttpMethod.Post, "/v1/responses", $$"""
            {"model":"chat-only","previous_response_id":"{{id}}","stream":{{s}},
             "input":[{"type":"function_call_output","call_id":"{{callId}}","output":"12:00"}]}
            """);
        Assert.Equal(HttpStatusCode.OK, status2);
        Assert.Equal(id, second.GetProperty("previous_response_id").GetString());
        var messages = LastUpstreamMessages();
        // instructions are not inherited; the earlier user turn, the call and its output are.
        Assert.Equal(3, messages.GetArrayLength());
        Assert.Equal("user", messages[0].GetProperty("role").GetString());
        Assert.Equal("what time is it?", messages[0].GetProperty("content").GetString());
        Assert.Equal(callId, messages[1].GetProperty("tool_calls")[0].GetProperty("id").GetString());
        Assert.Equal("tool", messages[2].GetProperty("role").GetString());

        // A third turn chains through both.
        var (_, third) = await SendAsync(HttpMethod.Post, "/v1/responses", $$"""{"model":"chat-only","previous_response_id":"{{second.GetProperty("id").GetString()}}","input":"thanks"}""");
        var all = LastUpstreamMessages();
        Assert.Equal(5, all.GetArrayLength());
        Assert.Equal("It is noon.", all[3].GetProperty("content").GetString());
        Assert.Equal("thanks", all[4].GetProperty("content").GetString());
        Assert.Equal("completed", third.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Store_false_responses_are_not_retrievable_nor_chainable()
    {
        var (_, r) = await SendAsync(HttpMethod.Post, "/v1/responses", """{"model":"chat-only","input":"hi","store":false}""");
        var id = r.GetProperty("id").GetString();
        Assert.False(r.GetProperty("store").GetBoolean());
        var (status, _) = await SendAsync(HttpMethod.Get, $"/v1/responses/{id}");
        Assert.Equal(HttpStatusCode.NotFound, status);
        var (status2, error) = await SendAsync(HttpMethod.Post, "/v1/responses", $$"""{"model":"chat-only","input":"again","previous_response_id":"{{id}}"}""");
        Assert.Equal(HttpStatusCode.BadRequest, status2);
        Assert.Equal("previous_response_not_found", error.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Get_delete_and_owner_scoping()
    {
        var (_, created) = await SendAsync(HttpMethod.Post, "/v1/responses", """{"model":"chat-only","input":"keep me"}""");
        var id = created.GetProperty("id").GetString();
        var (status, got) = await SendAsync(HttpMethod.Get, $"/v1/responses/{id}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(created.GetRawText(), got.GetRawText());

        // Another key sees nothing: not found, not forbidden, and cannot chain or delete.
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, $"/v1/responses/{id}", key: "sk-mallory")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Delete, $"/v1/responses/{id}", key: "sk-mallory")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await SendAsync(HttpMethod.Post, "/v1/responses", $$"""{"model":"chat-only","input":"x","previous_response_id":"{{id}}"}""", key: "sk-mallory")).Status);

        var (deleted, body) = await SendAsync(HttpMethod.Delete, $"/v1/responses/{id}");
        Assert.Equal(HttpStatusCode.OK, deleted);
        Assert.Equal(id, body.GetProperty("id").GetString());
        Assert.True(body.GetProperty("deleted").GetBoolean());
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, $"/v1/responses/{id}")).Status);
        var (missing, error) = await SendAsync(HttpMethod.Delete, $"/v1/responses/{id}");
        Assert.Equal(HttpStatusCode.NotFound, missing);
        Assert.Equal($"Response with id '{id}' not found.", error.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Input_items_are_listed_newest_first_and_paged()
    {
        var (_, created) = await SendAsync(HttpMethod.Post, "/v1/responses", """
            {"model":"chat-only","input":[
              {"role":"user","content":"one"},{"role":"assistant","content":"two"},{"role":"user","content":"three"}]}
            """);
        var id = created.GetProperty("id").GetString();
        var (_, page1) = await SendAsync(HttpMethod.Get, $"/v1/responses/{id}/input_items?limit=2");
        Assert.Equal("list", page1.GetProperty("object").GetString());
        Assert.Equal(2, page1.GetProperty("data").GetArrayLength());
        Assert.True(page1.GetProperty("has_more").GetBoolean());
        Assert.Equal("three", page1.GetProperty("data")[0].GetProperty("content").GetString());
        Assert.StartsWith("msg_", page1.GetProperty("first_id").GetString());
        var (_, page2) = await SendAsync(HttpMethod.Get, $"/v1/responses/{id}/input_items?limit=2&after={page1.GetProperty("last_id").GetString()}");
        Assert.Single(page2.GetProperty("data").EnumerateArray());
        Assert.Equal("one", page2.GetProperty("data")[0].GetProperty("content").GetString());
        Assert.False(page2.GetProperty("has_more").GetBoolean());
        var (_, asc) = await SendAsync(HttpMethod.Get, $"/v1/responses/{id}/input_items?order=asc");
        Assert.Equal("one", asc.GetProperty("data")[0].GetProperty("content").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, (await SendAsync(HttpMethod.Get, $"/v1/responses/{id}/input_items?limit=0")).Status);
    }

    [Fact]
    public async Task Input_tokens_are_estimated_without_an_upstream_call()
    {
        var before = _upstream.Requests.Count;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses/input_tokens") { Content = new StringContent("""{"model":"chat-only","instructions":"You are terse.","input":"Count the tokens in this sentence, please."}""", Encoding.UTF8, "application/json") };
        using var response = await _gateway.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("estimate:o200k_base", response.Headers.GetValues("x-llmux-token-count").Single());
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("response.input_tokens", doc.RootElement.GetProperty("object").GetString());
        var tokens = doc.RootElement.GetProperty("input_tokens").GetInt64();
        Assert.InRange(tokens, 10, 30);
        Assert.Equal(before, _upstream.Requests.Count);
    }

    [Fact]
    public async Task Sdk_retrieves_deletes_and_lists_input_items()
    {
        var client = _gateway.OpenAI("sk-alice").GetResponsesClient();
        ResponseResult created = await client.CreateResponseAsync(new CreateResponseOptions("chat-only", [ResponseItem.CreateUserMessageItem("remember this")]));
        ResponseResult got = await client.GetResponseAsync(created.Id);
        Assert.Equal(created.Id, got.Id);
        Assert.Equal("Hello from the emulator.", got.GetOutputText());
        var items = new List<ResponseItem>();
        await foreach (var item in client.GetResponseInputItemsAsync(created.Id)) items.Add(item);
        Assert.Single(items);
        Assert.IsAssignableFrom<MessageResponseItem>(items[0]);
        var deleted = await client.DeleteResponseAsync(created.Id);
        Assert.True(deleted.Value.Deleted);
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => client.GetResponseAsync(created.Id));
        Assert.Equal(404, ex.Status);
    }

    [Fact]
    public async Task Store_evicts_the_oldest_past_its_count_and_forgets_after_its_ttl()
    {
        var time = new FakeTimeProvider();
        var store = new InMemoryResponseStore(new ResponseStoreOptions { MaxResponses = 2, TimeToLive = TimeSpan.FromMinutes(10) }, time);
        StoredResponse Make(string id) => new(id, "owner", time.GetUtcNow(), null, null, [1], [2], [3]);
        await store.PutAsync(Make("a"), default);
        await store.PutAsync(Make("b"), default);
        await store.PutAsync(Make("c"), default);
        Assert.Null(await store.GetAsync("owner", "a", default));
        Assert.NotNull(await store.GetAsync("owner", "b", default));
        Assert.Null(await store.GetAsync("someone-else", "b", default));
        time.Advance(TimeSpan.FromMinutes(11));
        Assert.Null(await store.GetAsync("owner", "c", default));
        Assert.Equal(1, store.Count); // b was dropped on its expired read; c is still counted until touched

        var small = new InMemoryResponseStore(new ResponseStoreOptions { MaxBytes = 1000 }, time);
        await small.PutAsync(new StoredResponse("big", "o", time.GetUtcNow(), null, null, new byte[2000], [], []), default);
        Assert.Null(await small.GetAsync("o", "big", default));
    }
}
