using System.ClientModel;
using System.Text.Json;
using LLMux.Tests.Infrastructure;
using OpenAI.Responses;

#pragma warning disable OPENAI001

namespace LLMux.Tests.Responses;

/// <summary>The official OpenAI .NET SDK's Responses client against the built-in mock provider, through the chat bridge.</summary>
public sealed class ResponsesOverMockTests : IAsyncLifetime
{
    private const string Key = "sk-responses-test";
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _gateway = await GatewayHost.StartAsync($"""
            general_settings:
              master_key: {Key}
            router_settings:
              num_retries: 0
            model_list:
              - model_name: mock-gpt
                litellm_params:
                  model: mock/mock-gpt
              - model_name: mock-tool
                litellm_params:
                  model: mock/mock-gpt
                  mock_tool_call: get_weather
              - model_name: mock-failing
                litellm_params:
                  model: mock/mock-gpt
                  mock_error_status: 429
              - model_name: mock-breaks
                litellm_params:
                  model: mock/mock-gpt
                  mock_error_after_chunks: 3
            """);
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private ResponsesClient Client() => _gateway.OpenAI(Key).GetResponsesClient();

    private static CreateResponseOptions Ask(string model, string text) => new(model, [ResponseItem.CreateUserMessageItem(text)]);

    private static CreateResponseOptions Streamed(CreateResponseOptions options)
    {
        options.StreamingEnabled = true;
        return options;
    }

    [Fact]
    public async Task Sdk_reads_a_non_stream_response()
    {
        ResponseResult response = await Client().CreateResponseAsync(Ask("mock-gpt", "ping pong"));
        Assert.StartsWith("resp_", response.Id);
        Assert.Equal("This is LLMux's mock model. You said: ping pong", response.GetOutputText());
        Assert.Equal(ResponseStatus.Completed, response.Status);
        Assert.True(response.Usage.InputTokenCount > 0);
        Assert.Equal(9, response.Usage.OutputTokenCount);
        Assert.Equal(response.Usage.InputTokenCount + 9, response.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task Sdk_stream_gives_the_same_text_and_one_id()
    {
        var text = new System.Text.StringBuilder();
        ResponseResult? completed = null;
        var ids = new HashSet<string>();
        await foreach (var update in await Client().CreateResponseStreamingAsync(Streamed(Ask("mock-gpt", "ping pong"))))
        {
            if (update is StreamingResponseOutputTextDeltaUpdate delta) text.Append(delta.Delta);
            if (update is StreamingResponseCreatedUpdate created) ids.Add(created.Response.Id);
            if (update is StreamingResponseCompletedUpdate done) { completed = done.Response; ids.Add(done.Response.Id); }
        }
        Assert.Equal("This is LLMux's mock model. You said: ping pong", text.ToString());
        Assert.NotNull(completed);
        Assert.Single(ids);
        Assert.Equal(text.ToString(), completed!.GetOutputText());
        Assert.Equal(9, completed.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task Sdk_function_tool_call_and_its_output_through_previous_response_id()
    {
        var client = Client();
        var tool = ResponseTool.CreateFunctionTool("get_weather", BinaryData.FromString("""{"type":"object","properties":{"location":{"type":"string"},"unit":{"type":"string"}}}"""), strictModeEnabled: false, functionDescription: "Weather for a place");
        var options = new CreateResponseOptions("mock-tool", [ResponseItem.CreateUserMessageItem("weather in Paris?")]);
        options.Tools.Add(tool);
        ResponseResult first = await client.CreateResponseAsync(options);
        var call = Assert.IsAssignableFrom<FunctionCallResponseItem>(Assert.Single(first.OutputItems));
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal("{\"location\":\"Paris\",\"unit\":\"celsius\"}", call.FunctionArguments.ToString());
        Assert.False(string.IsNullOrEmpty(call.CallId));

        var next = new CreateResponseOptions("mock-gpt", [ResponseItem.CreateFunctionCallOutputItem(call.CallId, "sunny")]) { PreviousResponseId = first.Id };
        ResponseResult second = await client.CreateResponseAsync(next);
        Assert.Equal(ResponseStatus.Completed, second.Status);
        Assert.Equal(first.Id, second.PreviousResponseId);
        Assert.Equal("This is LLMux's mock model. You said: weather in Paris?", second.GetOutputText()); // the chain's user turn reached the model

        // Streamed, the same call arrives as function_call events the SDK assembles.
        options.StreamingEnabled = true;
        FunctionCallResponseItem? streamed = null;
        await foreach (var update in await client.CreateResponseStreamingAsync(options))
            if (update is StreamingResponseOutputItemDoneUpdate { Item: FunctionCallResponseItem f }) streamed = f;
        Assert.Equal("get_weather", streamed!.FunctionName);
    }

    [Fact]
    public async Task Sdk_sees_an_upstream_429_as_a_client_error()
    {
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Client().CreateResponseAsync(Ask("mock-failing", "hi")));
        Assert.Equal(429, ex.Status);
    }
}
