using System.ComponentModel;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Stages.Hosting;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace LLMux.Tests.Library;

/// <summary>M.E.AI's own middleware drives LLMux: IChatClient and IEmbeddingGenerator against the emulator and the built-in mock.</summary>
public sealed class ChatClientTests : IAsyncLifetime
{
    private OpenAIEmulator _upstream = null!;
    private ServiceProvider _services = null!;
    private readonly List<string> _weatherCalls = [];

    public async Task InitializeAsync()
    {
        _upstream = await OpenAIEmulator.StartNewAsync();
        _services = LibraryHost.Build(b => b
            .AddDeployment("gpt-test", "openai/gpt-4o-mini", _upstream.ApiBase, "sk-up")
            .AddDeployment("mock-gpt", "mock/mock-gpt")
            .AddDeployment("embed-test", "openai/text-embedding-3-small", _upstream.ApiBase, "sk-up"));
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Description("Gets the weather for a location")]
    private string GetWeather([Description("city")] string location, string unit = "celsius")
    {
        _weatherCalls.Add(location);
        return $"21 degrees {unit} and sunny in {location}";
    }

    private IChatClient ToolLoopClient() => new ChatClientBuilder(_services.GetRequiredService<IChatClient>()).UseFunctionInvocation().Build();

    private ChatOptions Tools(string model, ChatToolMode? mode = null) => new()
    {
        ModelId = model,
        Tools = [AIFunctionFactory.Create(GetWeather, "get_weather")],
        ToolMode = mode,
    };

    [Fact]
    public async Task Function_invocation_runs_a_tool_loop_through_the_emulator()
    {
        _upstream.Enqueue(new OpenAIScript { ToolCall = ("get_weather", """{"location":"Lyon"}""") });
        _upstream.Enqueue(new OpenAIScript { Content = "It is sunny in Lyon." });

        var response = await ToolLoopClient().GetResponseAsync("Weather in Lyon?", Tools("gpt-test"));

        Assert.Equal(["Lyon"], _weatherCalls);
        Assert.Equal("It is sunny in Lyon.", response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        var requests = _upstream.Requests.ToArray();
        Assert.Equal(2, requests.Length);
        using var first = requests[0].Json();
        var tool = first.RootElement.GetProperty("tools")[0];
        Assert.Equal("get_weather", tool.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("object", tool.GetProperty("function").GetProperty("parameters").GetProperty("type").GetString());
        using var second = requests[1].Json();
        var messages = second.RootElement.GetProperty("messages");
        var assistant = messages[1];
        Assert.Equal("assistant", assistant.GetProperty("role").GetString());
        var callId = assistant.GetProperty("tool_calls")[0].GetProperty("id").GetString();
        var toolMessage = messages[2];
        Assert.Equal("tool", toolMessage.GetProperty("role").GetString());
        Assert.Equal(callId, toolMessage.GetProperty("tool_call_id").GetString());
        Assert.Contains("sunny in Lyon", toolMessage.GetProperty("content").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Function_invocation_runs_a_tool_loop_through_the_builtin_mock_with_a_required_tool()
    {
        var response = await ToolLoopClient().GetResponseAsync("Weather?", Tools("mock-gpt", ChatToolMode.RequireSpecific("get_weather")));

        Assert.Equal(["Paris"], _weatherCalls);
        Assert.StartsWith("This is LLMux's mock model.", response.Text, StringComparison.Ordinal);
        Assert.NotNull(response.Usage);
    }

    [Fact]
    public async Task Streaming_tool_loop_joins_argument_fragments_into_one_call()
    {
        _upstream.Enqueue(new OpenAIScript { ToolCall = ("get_weather", """{"location":"Nice","unit":"fahrenheit"}""") });
        _upstream.Enqueue(new OpenAIScript { Content = "Done streaming.", Chunks = 3 });

        var updates = new List<ChatResponseUpdate>();
        await foreach (var u in ToolLoopClient().GetStreamingResponseAsync("Weather in Nice?", Tools("gpt-test"))) updates.Add(u);

        Assert.Equal(["Nice"], _weatherCalls);
        Assert.Equal("Done streaming.", string.Concat(updates.Select(static u => u.Text)));
        var call = Assert.Single(updates.SelectMany(static u => u.Contents).OfType<FunctionCallContent>());
        Assert.Equal("fahrenheit", call.Arguments!["unit"]?.ToString());
        Assert.Contains(updates, static u => u.Contents.OfType<UsageContent>().Any());
    }

    [Fact]
    public async Task Usage_finish_reason_and_unknown_fields_map_to_meai_types()
    {
        _upstream.Enqueue(new OpenAIScript { Content = "ok", PromptTokens = 10, CompletionTokens = 6, CachedTokens = 4, ReasoningTokens = 2 });
        var response = await _services.GetRequiredService<IChatClient>().GetResponseAsync("hi", new ChatOptions { ModelId = "gpt-test" });

        Assert.Equal(10, response.Usage!.InputTokenCount);
        Assert.Equal(6, response.Usage.OutputTokenCount);
        Assert.Equal(4, response.Usage.CachedInputTokenCount);
        Assert.Equal(2, response.Usage.ReasoningTokenCount);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.IsType<LLMux.Pipeline.Wire.ChatCompletion>(response.RawRepresentation);
        Assert.Equal("chatcmpl-emu123", response.ResponseId);
    }

    [Fact]
    public void Unknown_finish_reasons_survive_as_their_own_value()
    {
        var reason = ChatResponseMapper.FinishReason("eos_token");
        Assert.Equal("eos_token", reason!.Value.Value);
        Assert.Equal(ChatFinishReason.ToolCalls, ChatResponseMapper.FinishReason("function_call"));
    }

    [Fact]
    public async Task Options_become_openai_fields_and_additional_properties_pass_through()
    {
        var schema = JsonDocument.Parse("""{"type":"object","properties":{"a":{"type":"integer"}}}""").RootElement;
        await _services.GetRequiredService<IChatClient>().GetResponseAsync(
            [new Microsoft.Extensions.AI.ChatMessage(ChatRole.System, "be brief"), new Microsoft.Extensions.AI.ChatMessage(ChatRole.User, "hi")],
            new ChatOptions
            {
                ModelId = "gpt-test",
                Temperature = 0.5f,
                MaxOutputTokens = 42,
                StopSequences = ["END"],
                Seed = 7,
                ResponseFormat = ChatResponseFormat.ForJsonSchema(schema, "answer"),
                AdditionalProperties = new AdditionalPropertiesDictionary { ["user"] = "u-1", ["x_vendor"] = 3 },
            });
        using var sent = Assert.Single(_upstream.Requests).Json();
        var r = sent.RootElement;
        Assert.Equal(0.5, r.GetProperty("temperature").GetDouble(), 3);
        Assert.Equal(42, r.GetProperty("max_tokens").GetInt32());
        Assert.Equal("END", r.GetProperty("stop")[0].GetString());
        Assert.Equal(7, r.GetProperty("seed").GetInt64());
        Assert.Equal("json_schema", r.GetProperty("response_format").GetProperty("type").GetString());
        Assert.Equal("answer", r.GetProperty("response_format").GetProperty("json_schema").GetProperty("name").GetString());
        Assert.Equal("integer", r.GetProperty("response_format").GetProperty("json_schema").GetProperty("schema").GetProperty("properties").GetProperty("a").GetProperty("type").GetString());
        Assert.Equal(3, r.GetProperty("x_vendor").GetInt32());
        Assert.Equal("system", r.GetProperty("messages")[0].GetProperty("role").GetString());
    }

    [Fact]
    public async Task Embedding_generator_returns_float_vectors_and_usage()
    {
        var generator = _services.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();
        var result = await generator.GenerateAsync(["one", "two"], new EmbeddingGenerationOptions { ModelId = "embed-test" });
        Assert.Equal(2, result.Count);
        Assert.True(result[0].Vector.Length > 0);
        Assert.NotNull(result.Usage);
        using var sent = Assert.Single(_upstream.Requests).Json();
        Assert.Equal("float", sent.RootElement.GetProperty("encoding_format").GetString());
    }
}
