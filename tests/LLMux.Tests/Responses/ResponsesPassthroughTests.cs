using System.Net;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;
using OpenAI.Responses;

#pragma warning disable OPENAI001

namespace LLMux.Tests.Responses;

/// <summary>Native Responses passthrough to OpenAI, Azure (v1 and dated paths) and xAI, against the Responses emulator.</summary>
public sealed class ResponsesPassthroughTests : IAsyncLifetime
{
    private OpenAIResponsesEmulator _upstream = null!;
    private OpenAIEmulator _chat = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await OpenAIResponsesEmulator.StartNewAsync();
        _chat = await OpenAIEmulator.StartNewAsync();
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
                  input_cost_per_token: 0.001
                  output_cost_per_token: 0.002
              - model_name: azure-v1
                litellm_params:
                  model: azure/my-gpt5-deployment
                  api_base: {root}
                  api_key: az-key
              - model_name: azure-dated
                litellm_params:
                  model: azure/my-gpt5-deployment
                  api_base: {root}
                  api_key: az-key
                  api_version: 2025-03-01-preview
              - model_name: grok
                litellm_params:
                  model: xai/grok-4
                  api_base: {_upstream.ApiBase}
                  api_key: xai-key
                  responses_api: native
              - model_name: openai-custom-base
                litellm_params:
                  model: openai/some-local-model
                  api_base: {_chat.ApiBase}
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        await _chat.DisposeAsync();
    }

    private async Task<HttpResponseMessage> PostAsync(string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        return await _gateway.Http.PostAsync("/v1/responses", content);
    }

    private const string FullBody = """
        {"model":"gpt-5","input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]}],"instructions":"be brief",
         "store":false,"include":["reasoning.encrypted_content"],"reasoning":{"effort":"high","summary":"auto"},"prompt_cache_key":"conv-1",
         "client_metadata":{"x":"y"},"text":{"verbosity":"low"},"truncation":"auto","tools":[{"type":"web_search"}],"future_field":{"a":1}}
        """;

    [Fact]
    public async Task Body_is_forwarded_with_only_the_model_rewritten()
    {
        using var response = await PostAsync(FullBody);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = _upstream.Requests.Last();
        Assert.Equal("/v1/responses", sent.Path);
        Assert.Equal("Bearer sk-upstream", sent.Headers["authorization"]);
        using var original = JsonDocument.Parse(FullBody);
        using var forwarded = sent.Json();
        Assert.Equal("gpt-5", forwarded.RootElement.GetProperty("model").GetString());
        foreach (var p in original.RootElement.EnumerateObject())
            Assert.Equal(p.Value.GetRawText(), forwarded.RootElement.GetProperty(p.Name).GetRawText());
        Assert.Equal(original.RootElement.EnumerateObject().Count(), forwarded.RootElement.EnumerateObject().Count());

        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(OpenAIResponsesEmulator.ResponseId, doc.RootElement.GetProperty("id").GetString());
        Assert.Equal("0.031", response.Headers.GetValues("x-llmux-response-cost").Single()); // 13 × 0.001 + 9 × 0.002, from the Responses usage
        Assert.Equal("openai", response.Headers.GetValues("x-llmux-provider").Single());
    }

    [Fact]
    public async Task Stream_frames_reach_the_client_as_the_upstream_sent_them()
    {
        var script = new OpenAIResponsesScript { Reasoning = ("Thinking about it.", "gAAAAABopaque=="), ToolCall = ("lookup", "{\"q\":\"cats\"}") };
        _upstream.Enqueue(script);
        using var response = await PostAsync("""{"model":"gpt-5","input":"hi","stream":true,"include":["reasoning.encrypted_content"]}""");
        var viaGateway = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // The same script straight from the emulator, with the body the gateway sent.
        _upstream.Enqueue(script);
        using var direct = new HttpClient();
        using var content = new ByteArrayContent(_upstream.Requests.Last().Body);
        content.Headers.ContentType = new("application/json");
        using var directResponse = await direct.PostAsync(new Uri(_upstream.Root, "/v1/responses"), content);
        Assert.Equal(await directResponse.Content.ReadAsStringAsync(), viaGateway);
        var events = ResponsesEventStream.Parse(viaGateway);
        events.AssertWellFormed();
        Assert.Equal("gAAAAABopaque==", events.Terminal.GetProperty("response").GetProperty("output")[0].GetProperty("encrypted_content").GetString());
    }

    [Fact]
    public async Task Sdk_streams_and_reads_natively()
    {
        var client = _gateway.OpenAI().GetResponsesClient();
        var options = new CreateResponseOptions("gpt-5", [ResponseItem.CreateUserMessageItem("hi")]) { StreamingEnabled = true };
        var text = new StringBuilder();
        ResponseResult? done = null;
        await foreach (var update in await client.CreateResponseStreamingAsync(options))
        {
            if (update is StreamingResponseOutputTextDeltaUpdate d) text.Append(d.Delta);
            if (update is StreamingResponseCompletedUpdate c) done = c.Response;
        }
        Assert.Equal("Hello from the Responses emulator.", text.ToString());
        Assert.Equal(13, done!.Usage.InputTokenCount);
        ResponseResult whole = await client.CreateResponseAsync(new CreateResponseOptions("gpt-5", [ResponseItem.CreateUserMessageItem("hi")]));
        Assert.Equal("Hello from the Responses emulator.", whole.GetOutputText());
    }

    [Theory]
    [InlineData("azure-v1", "/openai/v1/responses", "")]
    [InlineData("azure-dated", "/openai/responses", "?api-version=2025-03-01-preview")]
    [InlineData("grok", "/v1/responses", "")]
    public async Task Azure_and_xai_paths(string model, string path, string query)
    {
        using var response = await PostAsync($$"""{"model":"{{model}}","input":"hi"}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = _upstream.Requests.Last();
        Assert.Equal(path, sent.Path);
        Assert.Equal(query, sent.Query);
        using var body = sent.Json();
        Assert.Equal(model == "grok" ? "grok-4" : "my-gpt5-deployment", body.RootElement.GetProperty("model").GetString());
        if (model.StartsWith("azure", StringComparison.Ordinal)) Assert.Equal("az-key", sent.Headers["api-key"]);
    }

    [Fact]
    public async Task Upstream_http_error_keeps_its_status_and_code()
    {
        _upstream.Enqueue(new OpenAIResponsesScript { ErrorStatus = 429 });
        using var response = await PostAsync("""{"model":"gpt-5","input":"hi","stream":true}""");
        Assert.Equal((HttpStatusCode)429, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("rate_limit_exceeded", doc.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Mid_stream_failure_is_forwarded_and_a_cut_stream_is_an_error()
    {
        _upstream.Enqueue(new OpenAIResponsesScript { FailAfter = 2 });
        using (var response = await PostAsync("""{"model":"gpt-5","input":"hi","stream":true}"""))
        {
            var events = ResponsesEventStream.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal("response.failed", events.Events[^1].Event);
            Assert.DoesNotContain("response.completed", events.Types);
        }
        _upstream.Enqueue(new OpenAIResponsesScript { TruncateAfter = 2 });
        using (var response = await PostAsync("""{"model":"gpt-5","input":"hi","stream":true}"""))
        {
            var text = await response.Content.ReadAsStringAsync();
            Assert.DoesNotContain("event: response.completed", text);
            Assert.EndsWith("\n\n", text);
            var last = text.TrimEnd('\n').Split("\n\n")[^1];
            Assert.StartsWith("event: error\ndata: ", last);
        }
    }

    [Fact]
    public async Task Openai_with_a_custom_api_base_is_bridged_onto_chat()
    {
        using var response = await PostAsync("""{"model":"openai-custom-base","input":"hi"}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/v1/chat/completions", _chat.Requests.Last().Path);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Hello from the emulator.", doc.RootElement.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString());
    }
}
