using LLMux.Emulators;
using LLMux.Tests.Infrastructure;
using OpenAI.Responses;

#pragma warning disable OPENAI001 // the SDK marks its Responses client as evaluation-only

namespace LLMux.Tests.Responses;

/// <summary>
/// The official OpenAI .NET SDK's Responses client through the chat bridge onto the two providers with their own
/// chat APIs that the other Responses tests leave out: Cohere v2 (<c>/v2/chat</c>, SSE) and Ollama's native
/// <c>/api/chat</c> (NDJSON). Text, usage, a streamed answer and a function call come back as the SDK expects.
/// </summary>
public sealed class ResponsesOverCohereAndOllamaTests : IAsyncLifetime
{
    private CohereEmulator _cohere = null!;
    private OllamaEmulator _ollama = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _cohere = await CohereEmulator.StartNewAsync();
        _ollama = await OllamaEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync($"""
            router_settings:
              num_retries: 0
            model_list:
              - model_name: command
                litellm_params:
                  model: cohere/command-r-plus
                  api_base: {_cohere.ApiBase}
                  api_key: co-test-key
              - model_name: llama
                litellm_params:
                  model: ollama_chat/llama3.2
                  api_base: {_ollama.ApiBase}
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _cohere.DisposeAsync();
        await _ollama.DisposeAsync();
    }

    private ResponsesClient Client() => _gateway.OpenAI().GetResponsesClient();

    private static CreateResponseOptions Ask(string model, bool stream = false, bool tools = false)
    {
        var options = new CreateResponseOptions(model, [ResponseItem.CreateUserMessageItem("weather in Paris?")]) { StreamingEnabled = stream };
        if (tools) options.Tools.Add(ResponseTool.CreateFunctionTool("get_weather", BinaryData.FromString("""{"type":"object","properties":{"location":{"type":"string"}}}"""), strictModeEnabled: false));
        return options;
    }

    [Theory]
    [InlineData("command", "Hello from Cohere.", 11, 5)]
    [InlineData("llama", "Hello from Ollama.", 9, 4)]
    public async Task A_text_answer_and_its_usage(string model, string text, int input, int output)
    {
        ResponseResult response = await Client().CreateResponseAsync(Ask(model));
        Assert.Equal(text, response.GetOutputText());
        Assert.Equal(ResponseStatus.Completed, response.Status);
        Assert.Equal(input, response.Usage.InputTokenCount);
        Assert.Equal(output, response.Usage.OutputTokenCount);
        Assert.Equal(input + output, response.Usage.TotalTokenCount);
    }

    [Theory]
    [InlineData("command", "Hello from Cohere.")]
    [InlineData("llama", "Hello from Ollama.")]
    public async Task A_streamed_answer_ends_completed_with_the_same_text(string model, string text)
    {
        var deltas = new System.Text.StringBuilder();
        ResponseResult? completed = null;
        await foreach (var update in await Client().CreateResponseStreamingAsync(Ask(model, stream: true)))
        {
            if (update is StreamingResponseOutputTextDeltaUpdate d) deltas.Append(d.Delta);
            if (update is StreamingResponseCompletedUpdate c) completed = c.Response;
        }
        Assert.Equal(text, deltas.ToString());
        Assert.NotNull(completed);
        Assert.Equal(text, completed!.GetOutputText());
        Assert.True(completed.Usage.TotalTokenCount > 0);
    }

    [Fact]
    public async Task A_cohere_tool_call_is_a_function_call_item()
    {
        _cohere.Scripts.Enqueue(new CohereScript { ToolCall = ("call_co_1", "get_weather", """{"location":"Paris"}""") });
        ResponseResult response = await Client().CreateResponseAsync(Ask("command", tools: true));
        var call = Assert.IsAssignableFrom<FunctionCallResponseItem>(Assert.Single(response.OutputItems));
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal("call_co_1", call.CallId);
        Assert.Equal("""{"location":"Paris"}""", call.FunctionArguments.ToString());
        using var sent = _cohere.Requests.Last(static r => r.Path == "/v2/chat").Json();
        Assert.Equal("get_weather", sent.RootElement.GetProperty("tools")[0].GetProperty("function").GetProperty("name").GetString());
    }

    [Fact]
    public async Task An_ollama_tool_call_is_a_function_call_item_with_an_id()
    {
        _ollama.Scripts.Enqueue(new OllamaScript { ToolCall = ("get_weather", """{"location":"Paris"}""") });
        ResponseResult response = await Client().CreateResponseAsync(Ask("llama", tools: true));
        // The emulator answers text beside the call, as Ollama may: a message item, then the function call item.
        Assert.Equal("Hello from Ollama.", response.GetOutputText());
        var call = Assert.Single(response.OutputItems.OfType<FunctionCallResponseItem>());
        Assert.Equal("get_weather", call.FunctionName);
        Assert.False(string.IsNullOrEmpty(call.CallId)); // Ollama gives none: the bridge synthesises one
        using var args = System.Text.Json.JsonDocument.Parse(call.FunctionArguments.ToString());
        Assert.Equal("Paris", args.RootElement.GetProperty("location").GetString());
        using var sent = _ollama.Requests.Last(static r => r.Path == "/api/chat").Json();
        Assert.False(sent.RootElement.GetProperty("stream").GetBoolean());
    }
}
