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

/// <summary>Bridged <c>background: true</c> responses: queued at once, polled with GET, cancelled with POST /cancel (the upstream call ends with it).</summary>
public sealed class ResponsesBackgroundTests : IAsyncLifetime
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

    private ResponsesClient Client(string key = "sk-alice") => _gateway.OpenAI(key).GetResponsesClient();

    private static CreateResponseOptions Background(string text) => new("chat-only", [ResponseItem.CreateUserMessageItem(text)]) { BackgroundModeEnabled = true };

    /// <summary>Polls until the response leaves queued/in_progress (bounded; no timing is asserted).</summary>
    private static async Task<ResponseResult> PollAsync(ResponsesClient client, string id)
    {
        ResponseResult current = await client.GetResponseAsync(id);
        for (var i = 0; i < 500 && current.Status is ResponseStatus.Queued or ResponseStatus.InProgress; i++)
        {
            await Task.Delay(20);
            current = await client.GetResponseAsync(id);
        }
        return current;
    }

    [Fact]
    public async Task Background_response_is_queued_then_completes_and_GET_returns_the_answer()
    {
        _upstream.Enqueue(new OpenAIScript { Content = "Done in the background." });
        var client = Client();
        ResponseResult queued = await client.CreateResponseAsync(Background("take your time"));
        Assert.Equal(ResponseStatus.Queued, queued.Status);
        Assert.True(queued.BackgroundModeEnabled);
        Assert.Empty(queued.OutputItems);

        var done = await PollAsync(client, queued.Id);
        Assert.Equal(ResponseStatus.Completed, done.Status);
        Assert.Equal(queued.Id, done.Id);
        Assert.Equal("Done in the background.", done.GetOutputText());
        Assert.True(done.BackgroundModeEnabled);
        Assert.Single(_upstream.Requests);

        // Cancelling a finished background response answers its final object again (OpenAI: idempotent).
        ResponseResult again = await client.CancelResponseAsync(queued.Id);
        Assert.Equal(ResponseStatus.Completed, again.Status);

        // Another key sees nothing.
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Client("sk-bob").GetResponseAsync(queued.Id));
        Assert.Equal(404, ex.Status);
    }

    [Fact]
    public async Task Cancel_stops_the_upstream_call_and_the_response_ends_cancelled()
    {
        _upstream.Enqueue(new OpenAIScript { HeaderDelay = TimeSpan.FromMinutes(5) });
        var client = Client();
        ResponseResult queued = await client.CreateResponseAsync(Background("a very long task"));
        Assert.Equal(ResponseStatus.Queued, queued.Status);

        // Wait until the upstream call is under way, so that cancel has something to stop.
        for (var i = 0; i < 500 && _upstream.Requests.IsEmpty; i++) await Task.Delay(20);
        Assert.Single(_upstream.Requests);
        ResponseResult running = await client.GetResponseAsync(queued.Id);
        Assert.Equal(ResponseStatus.InProgress, running.Status);

        ResponseResult cancelled = await client.CancelResponseAsync(queued.Id);
        Assert.Equal(ResponseStatus.Cancelled, cancelled.Status);
        Assert.True(await _upstream.WaitForCancelledAsync(1, TimeSpan.FromSeconds(10)));
        ResponseResult after = await client.GetResponseAsync(queued.Id);
        Assert.Equal(ResponseStatus.Cancelled, after.Status);
        Assert.Empty(after.OutputItems);
    }

    [Fact]
    public async Task Upstream_failure_of_a_background_response_ends_failed_with_the_error_code()
    {
        _upstream.Enqueue(new OpenAIScript { ErrorStatus = 429, ErrorBody = """{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}""" });
        var client = Client();
        ResponseResult queued = await client.CreateResponseAsync(Background("hi"));
        var failed = await PollAsync(client, queued.Id);
        Assert.Equal(ResponseStatus.Failed, failed.Status);
        Assert.Equal("rate_limit_exceeded", failed.Error.Code.ToString());
    }

    [Theory]
    [InlineData("""{"model":"chat-only","input":"hi","background":true,"stream":true}""", "stream", "unsupported_parameter")]
    [InlineData("""{"model":"chat-only","input":"hi","background":true,"store":false}""", "store", "invalid_value")]
    public async Task Background_with_stream_or_without_store_is_a_clear_400(string body, string param, string code)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "sk-alice");
        using var response = await _gateway.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(param, doc.RootElement.GetProperty("error").GetProperty("param").GetString());
        Assert.Equal(code, doc.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Cancel_of_a_synchronous_response_is_400_and_of_an_unknown_id_404()
    {
        var client = Client();
        ResponseResult sync = await client.CreateResponseAsync(new CreateResponseOptions("chat-only", [ResponseItem.CreateUserMessageItem("hi")]));
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => client.CancelResponseAsync(sync.Id));
        Assert.Equal(400, ex.Status);
        var missing = await Assert.ThrowsAsync<ClientResultException>(() => client.CancelResponseAsync("resp_unknown"));
        Assert.Equal(404, missing.Status);
    }
}
