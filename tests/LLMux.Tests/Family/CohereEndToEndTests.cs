using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;
using OpenAI.Chat;
using OpenAI.Embeddings;

namespace LLMux.Tests.Family;

/// <summary>The OpenAI SDK → LLMux → the Cohere emulator on its v2 API (<c>/v2/chat</c>, <c>/v2/embed</c>).</summary>
public sealed class CohereEndToEndTests : IAsyncLifetime
{
    private CohereEmulator _upstream = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await CohereEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync($"""
            router_settings:
              num_retries: 0
            model_list:
              - model_name: command
                litellm_params:
                  model: cohere/command-r-plus
                  api_base: {_upstream.ApiBase}
                  api_key: co-test-key
              - model_name: embed
                litellm_params:
                  model: cohere/embed-english-v3.0
                  api_base: {_upstream.ApiBase}
                  api_key: co-test-key
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private ChatClient Chat => _gateway.OpenAI().GetChatClient("command");

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Non_stream_chat_reads_text_finish_reason_and_token_usage()
    {
        _upstream.Scripts.Enqueue(new CohereScript { Content = "Bonjour", FinishReason = "MAX_TOKENS", InputTokens = 7, OutputTokens = 3 });
        ChatCompletion completion = await Chat.CompleteChatAsync(
            [new SystemChatMessage("be brief"), new UserChatMessage("hi")],
            new ChatCompletionOptions { MaxOutputTokenCount = 64, TopP = 0.5f, StopSequences = { "END" } });

        Assert.Equal("Bonjour", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(7, completion.Usage.InputTokenCount);
        Assert.Equal(3, completion.Usage.OutputTokenCount);

        var sent = Assert.Single(_upstream.Requests);
        Assert.Equal("/v2/chat", sent.Path);
        Assert.Equal("Bearer co-test-key", sent.Headers["authorization"]);
        using var body = sent.Json();
        var root = body.RootElement;
        Assert.Equal("command-r-plus", root.GetProperty("model").GetString());
        Assert.Equal("system", root.GetProperty("messages")[0].GetProperty("role").GetString());
        Assert.Equal(64, root.GetProperty("max_tokens").GetInt32());
        Assert.Equal(0.5, root.GetProperty("p").GetDouble(), 3);
        Assert.Equal("END", root.GetProperty("stop_sequences")[0].GetString());
        Assert.False(root.TryGetProperty("top_p", out _));
    }

    [Fact]
    public async Task Streamed_text_arrives_as_openai_chunks_with_usage()
    {
        _upstream.Scripts.Enqueue(new CohereScript { Content = "Streaming from Cohere ✓", Chunks = 4 });
        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in Chat.CompleteChatStreamingAsync([new UserChatMessage("hi")]))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }
        Assert.Equal("Streaming from Cohere ✓", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.Equal(16, usage?.TotalTokenCount);
        using var body = Assert.Single(_upstream.Requests).Json();
        Assert.True(body.RootElement.GetProperty("stream").GetBoolean());
    }

    [Fact]
    public async Task Streamed_tool_call_is_reassembled_from_its_fragments()
    {
        _upstream.Scripts.Enqueue(new CohereScript { ToolCall = ("call_42", "get_weather", "{\"city\":\"Paris\",\"unit\":\"C\"}"), Chunks = 5, FinishReason = "TOOL_CALL" });
        var tool = ChatTool.CreateFunctionTool("get_weather", "weather", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}}}"""));
        string? id = null, name = null;
        var args = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in Chat.CompleteChatStreamingAsync([new UserChatMessage("weather?")], new ChatCompletionOptions { Tools = { tool } }))
        {
            foreach (var call in update.ToolCallUpdates)
            {
                id ??= call.ToolCallId;
                name ??= call.FunctionName;
                if (call.FunctionArgumentsUpdate is { } a) args.Append(a.ToString());
            }
            finish ??= update.FinishReason;
        }
        Assert.Equal("call_42", id);
        Assert.Equal("get_weather", name);
        Assert.Equal("{\"city\":\"Paris\",\"unit\":\"C\"}", args.ToString());
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        using var body = Assert.Single(_upstream.Requests).Json();
        Assert.Equal("get_weather", body.RootElement.GetProperty("tools")[0].GetProperty("function").GetProperty("name").GetString());
    }

    [Fact]
    public async Task Non_stream_tool_call_is_returned_with_tool_calls_finish()
    {
        _upstream.Scripts.Enqueue(new CohereScript { ToolCall = ("call_7", "lookup", "{\"q\":1}"), FinishReason = "TOOL_CALL" });
        ChatCompletion completion = await Chat.CompleteChatAsync([new UserChatMessage("look")]);
        Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
        var call = Assert.Single(completion.ToolCalls);
        Assert.Equal("call_7", call.Id);
        Assert.Equal("lookup", call.FunctionName);
        Assert.Equal("{\"q\":1}", call.FunctionArguments.ToString());
    }

    [Fact]
    public async Task Embeddings_come_back_as_floats_and_as_base64()
    {
        var client = _gateway.OpenAI().GetEmbeddingClient("embed");
        OpenAIEmbeddingCollection result = await client.GenerateEmbeddingsAsync(["first", "second"]); // the SDK asks for base64
        Assert.Equal(2, result.Count);
        Assert.Equal([0.5f, 0.125f, -2f], result[1].ToFloats().ToArray());
        Assert.Equal(11, result.Usage.InputTokenCount);
        using (var body = _upstream.Requests.Last().Json())
        {
            var root = body.RootElement;
            Assert.Equal("/v2/embed", _upstream.Requests.Last().Path);
            Assert.Equal("embed-english-v3.0", root.GetProperty("model").GetString());
            Assert.Equal("second", root.GetProperty("texts")[1].GetString());
            Assert.Equal("search_document", root.GetProperty("input_type").GetString());
            Assert.Equal("float", root.GetProperty("embedding_types")[0].GetString());
        }

        using var raw = await _gateway.Http.PostAsync("/v1/embeddings", Json("""{"model":"embed","input":["a","b"],"encoding_format":"float","input_type":"search_query"}"""));
        Assert.Equal(HttpStatusCode.OK, raw.StatusCode);
        using var answer = JsonDocument.Parse(await raw.Content.ReadAsStringAsync());
        var embedding = answer.RootElement.GetProperty("data")[0].GetProperty("embedding");
        Assert.Equal(JsonValueKind.Array, embedding.ValueKind);
        Assert.Equal(-1.5, embedding[1].GetDouble(), 6);
        using var sent = _upstream.Requests.Last().Json();
        Assert.Equal("search_query", sent.RootElement.GetProperty("input_type").GetString());
    }

    [Fact]
    public async Task Upstream_401_becomes_an_authentication_error_with_cohere_message()
    {
        _upstream.Scripts.Enqueue(new CohereScript { ErrorStatus = 401, ErrorMessage = "invalid api token" });
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Chat.CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(401, ex.Status);
        Assert.Contains("invalid api token", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("co-test-key", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upstream_429_is_a_rate_limit()
    {
        _upstream.Scripts.Enqueue(new CohereScript { ErrorStatus = 429, ErrorMessage = "You are using a Trial key, which is limited" });
        using var raw = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"command","messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal(HttpStatusCode.TooManyRequests, raw.StatusCode);
    }
}
