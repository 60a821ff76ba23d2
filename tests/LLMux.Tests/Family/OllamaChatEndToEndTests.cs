using System.Net;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;
using OpenAI.Chat;

namespace LLMux.Tests.Family;

/// <summary>The OpenAI SDK → LLMux → the Ollama emulator on its native <c>/api/chat</c> (NDJSON streams).</summary>
public sealed class OllamaChatEndToEndTests : IAsyncLifetime
{
    private OllamaEmulator _upstream = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await OllamaEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync($"""
            router_settings:
              num_retries: 0
            model_list:
              - model_name: llama
                litellm_params:
                  model: ollama_chat/llama3.2
                  api_base: {_upstream.ApiBase}
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private ChatClient Chat => _gateway.OpenAI().GetChatClient("llama");

    [Fact]
    public async Task Non_stream_chat_says_stream_false_and_maps_options()
    {
        _upstream.Scripts.Enqueue(new OllamaScript { Content = "Bonjour", PromptEvalCount = 5, EvalCount = 2 });
        ChatCompletion completion = await Chat.CompleteChatAsync(
            [new SystemChatMessage("be brief"), new UserChatMessage("hi")],
            new ChatCompletionOptions { MaxOutputTokenCount = 64, Temperature = 0.2f, StopSequences = { "END" } });

        Assert.Equal("Bonjour", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(5, completion.Usage.InputTokenCount);
        Assert.Equal(2, completion.Usage.OutputTokenCount);

        var sent = Assert.Single(_upstream.Requests);
        Assert.Equal("/api/chat", sent.Path);
        Assert.False(sent.Headers.ContainsKey("authorization"));
        using var body = sent.Json();
        var root = body.RootElement;
        Assert.Equal("llama3.2", root.GetProperty("model").GetString());
        Assert.Equal(JsonValueKind.False, root.GetProperty("stream").ValueKind);
        Assert.Equal("system", root.GetProperty("messages")[0].GetProperty("role").GetString());
        Assert.Equal("hi", root.GetProperty("messages")[1].GetProperty("content").GetString());
        var options = root.GetProperty("options");
        Assert.Equal(64, options.GetProperty("num_predict").GetInt32());
        Assert.Equal(0.2, options.GetProperty("temperature").GetDouble(), 3);
        Assert.Equal("END", options.GetProperty("stop")[0].GetString());
        Assert.False(root.TryGetProperty("max_completion_tokens", out _));
    }

    [Fact]
    public async Task Ndjson_stream_arrives_as_openai_chunks_with_usage()
    {
        _upstream.Scripts.Enqueue(new OllamaScript { Content = "Streaming from Ollama ✓", Chunks = 4 });
        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in Chat.CompleteChatStreamingAsync([new UserChatMessage("hi")]))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }
        Assert.Equal("Streaming from Ollama ✓", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.Equal(13, usage?.TotalTokenCount);
        using var body = Assert.Single(_upstream.Requests).Json();
        Assert.True(body.RootElement.GetProperty("stream").GetBoolean());
        Assert.False(body.RootElement.TryGetProperty("stream_options", out _));
    }

    [Fact]
    public async Task Tool_calls_and_thinking_are_mapped_in_streams_and_answers()
    {
        _upstream.Scripts.Enqueue(new OllamaScript { Thinking = "hmm", ToolCall = ("get_weather", "{\"city\":\"Paris\"}") });
        using var response = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"llama","messages":[{"role":"user","content":"w?"}],"stream":true,"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]}"""));
        var sse = await response.Content.ReadAsStringAsync();
        Assert.Contains("\"reasoning_content\":\"hmm\"", sse);
        Assert.Contains("\"name\":\"get_weather\"", sse);
        Assert.Equal("{\"city\":\"Paris\"}", StreamedArguments(sse));
        Assert.Contains("\"finish_reason\":\"tool_calls\"", sse);
        Assert.EndsWith("data: [DONE]\n\n", sse);
        using (var sent = Assert.Single(_upstream.Requests).Json())
            Assert.Equal("get_weather", sent.RootElement.GetProperty("tools")[0].GetProperty("function").GetProperty("name").GetString());

        _upstream.Scripts.Enqueue(new OllamaScript { ToolCall = ("get_weather", "{\"city\":\"Oslo\"}") });
        ChatCompletion completion = await Chat.CompleteChatAsync([new UserChatMessage("w?")]);
        Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
        var call = Assert.Single(completion.ToolCalls);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.StartsWith("call_", call.Id, StringComparison.Ordinal);
        using var args = JsonDocument.Parse(call.FunctionArguments.ToString());
        Assert.Equal("Oslo", args.RootElement.GetProperty("city").GetString());
    }

    [Fact]
    public async Task A_stream_without_its_done_line_is_an_error_not_a_clean_end()
    {
        _upstream.Scripts.Enqueue(new OllamaScript { Content = "cut short", OmitDone = true });
        using var response = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"llama","messages":[{"role":"user","content":"hi"}],"stream":true}"""));
        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("[DONE]", text);
        Assert.Contains("error", text);
    }

    [Fact]
    public async Task An_unknown_model_answers_404_with_ollamas_message()
    {
        _upstream.Scripts.Enqueue(new OllamaScript { ErrorStatus = 404 });
        using var response = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"llama","messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("try pulling it first", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Tool_choice_is_refused_without_drop_params_because_ollama_has_none()
    {
        using var response = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"llama","messages":[{"role":"user","content":"hi"}],"tool_choice":"auto"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("tool_choice", await response.Content.ReadAsStringAsync());
        Assert.Empty(_upstream.Requests);
    }

    private static string StreamedArguments(string sse)
    {
        var args = new StringBuilder();
        foreach (var line in sse.Split('\n'))
        {
            if (!line.StartsWith("data: {", StringComparison.Ordinal)) continue;
            using var chunk = JsonDocument.Parse(line[6..]);
            foreach (var choice in chunk.RootElement.GetProperty("choices").EnumerateArray())
                if (choice.GetProperty("delta").TryGetProperty("tool_calls", out var calls))
                    foreach (var call in calls.EnumerateArray()) args.Append(call.GetProperty("function").GetProperty("arguments").GetString());
        }
        return args.ToString();
    }

    private static StringContent Json(string s) => new(s, Encoding.UTF8, "application/json");
}
