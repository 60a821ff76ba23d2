using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Errors;
using LLMux.Pipeline.Wire;
using LLMux.Stages.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace LLMux.Tests.Library;

/// <summary>ILlmClient against the OpenAI emulator: typed chat, streams, embeddings, raw bytes, errors, cancellation.</summary>
public sealed class LlmClientTests : IAsyncLifetime
{
    private OpenAIEmulator _upstream = null!;
    private ServiceProvider _services = null!;
    private ILlmClient _client = null!;

    public async Task InitializeAsync()
    {
        _upstream = await OpenAIEmulator.StartNewAsync();
        _services = LibraryHost.Build(b => b
            .AddDeployment("gpt-test", "openai/gpt-4o-mini", _upstream.ApiBase, "sk-up", d => d with { Timeout = TimeSpan.FromSeconds(5) })
            .AddDeployment("embed-test", "openai/text-embedding-3-small", _upstream.ApiBase, "sk-up"));
        _client = _services.GetRequiredService<ILlmClient>();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private static ChatRequest Hello(bool includeUsage = false) => new()
    {
        Model = "gpt-test",
        Messages = [new ChatMessage { Role = "user", Content = ChatRequestJson.String("hi") }],
        StreamOptions = includeUsage ? new StreamOptions { IncludeUsage = true } : null,
    };

    [Fact]
    public async Task Complete_returns_the_typed_completion_with_usage_and_leaves_the_request_unchanged()
    {
        _upstream.Enqueue(new OpenAIScript { Content = "typed", PromptTokens = 3, CompletionTokens = 2 });
        var request = Hello();
        var completion = await _client.CompleteAsync(request);

        Assert.Equal("typed", completion.Choices[0].Message.TextContent());
        Assert.Equal("stop", completion.Choices[0].FinishReason);
        Assert.Equal(5, completion.Usage!.TotalTokens);
        Assert.Null(request.Stream);
        using var sent = Assert.Single(_upstream.Requests).Json();
        Assert.False(sent.RootElement.TryGetProperty("stream", out var s) && s.GetBoolean());
    }

    [Fact]
    public async Task Stream_yields_chunks_in_order_and_a_final_usage_chunk()
    {
        _upstream.Enqueue(new OpenAIScript { Content = "one two three four five", Chunks = 5, PromptTokens = 4, CompletionTokens = 5 });
        var text = new StringBuilder();
        string? finish = null;
        Usage? usage = null;
        await foreach (var chunk in _client.StreamAsync(Hello(includeUsage: true)))
        {
            foreach (var c in chunk.Choices)
            {
                text.Append(c.Delta.Content);
                finish ??= c.FinishReason;
            }
            usage ??= chunk.Usage;
        }
        Assert.Equal("one two three four five", text.ToString());
        Assert.Equal("stop", finish);
        Assert.Equal(9, usage!.TotalTokens);
    }

    [Fact]
    public async Task Stream_tool_call_fragments_arrive_with_their_index()
    {
        _upstream.Enqueue(new OpenAIScript { ToolCall = ("get_weather", """{"city":"Paris"}""") });
        var args = new StringBuilder();
        string? name = null;
        await foreach (var chunk in _client.StreamAsync(Hello()))
        {
            foreach (var c in chunk.Choices)
            {
                foreach (var call in c.Delta.ToolCalls ?? [])
                {
                    name ??= call.Function?.Name;
                    args.Append(call.Function?.Arguments);
                }
            }
        }
        Assert.Equal("get_weather", name);
        Assert.Equal("""{"city":"Paris"}""", args.ToString());
    }

    [Fact]
    public async Task An_upstream_error_before_content_throws_from_the_first_move()
    {
        _upstream.Enqueue(new OpenAIScript { ErrorStatus = 429, ErrorBody = """{"error":{"message":"slow down","type":"rate_limit_error","param":null,"code":"rate_limit_exceeded"}}""" });
        var ex = await Assert.ThrowsAsync<LlmException>(async () => { await foreach (var _ in _client.StreamAsync(Hello())) { } });
        Assert.Equal(ErrorKind.RateLimit, ex.Error.Kind);
        Assert.Equal(429, ex.Error.HttpStatus);
    }

    [Fact]
    public async Task An_error_after_content_throws_after_the_chunks_that_came_first()
    {
        _upstream.Enqueue(new OpenAIScript { Content = "a b c d", Chunks = 4, ResetAfter = 2 });
        var seen = 0;
        var ex = await Assert.ThrowsAsync<LlmException>(async () =>
        {
            await foreach (var chunk in _client.StreamAsync(Hello()))
                foreach (var c in chunk.Choices) if (!string.IsNullOrEmpty(c.Delta.Content)) seen++;
        });
        Assert.True(seen >= 1);
        Assert.Equal(ErrorKind.BadGateway, ex.Error.Kind);
    }

    [Fact]
    public async Task Embeddings_come_back_as_vectors_with_usage()
    {
        var response = await _client.EmbedAsync(new EmbeddingRequest { Model = "embed-test", Input = ChatRequestJson.String("hello"), EncodingFormat = "float" });
        var item = Assert.Single(response.Data);
        Assert.Equal(JsonValueKind.Array, item.Embedding.ValueKind);
        Assert.True(item.Embedding.GetArrayLength() > 0);
        Assert.Equal("/v1/embeddings", Assert.Single(_upstream.Requests).Path);
    }

    [Fact]
    public async Task Raw_path_returns_the_upstream_json_bytes_and_metadata()
    {
        _upstream.Enqueue(new OpenAIScript { Content = "raw answer" });
        var body = """{"model":"gpt-test","messages":[{"role":"user","content":"hi"}],"x_vendor":{"k":1}}"""u8.ToArray();
        await using var response = await _client.SendRawAsync(body);

        Assert.False(response.IsStream);
        using var doc = JsonDocument.Parse(response.Body);
        Assert.Equal("raw answer", doc.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("openai", response.ProviderName);
        Assert.Equal(1, response.Attempts);
        Assert.NotNull(response.Cost);
        Assert.Contains("\"x_vendor\":{\"k\":1}", Assert.Single(_upstream.Requests).BodyText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Raw_stream_copies_sse_frames_ending_with_done()
    {
        _upstream.Enqueue(new OpenAIScript { Content = "x y", Chunks = 2 });
        var body = """{"model":"gpt-test","stream":true,"messages":[{"role":"user","content":"hi"}]}"""u8.ToArray();
        await using var response = await _client.SendRawAsync(body, LlmMode.Chat);
        Assert.True(response.IsStream);
        using var copy = new MemoryStream();
        await response.CopyToAsync(copy);
        var text = Encoding.UTF8.GetString(copy.ToArray());
        Assert.StartsWith("data: {", text, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Raw_stream_error_after_content_is_a_final_error_frame_not_done()
    {
        _upstream.Enqueue(new OpenAIScript { Content = "a b c d", Chunks = 4, ResetAfter = 2 });
        var body = """{"model":"gpt-test","stream":true,"messages":[{"role":"user","content":"hi"}]}"""u8.ToArray();
        await using var response = await _client.SendRawAsync(body);
        using var copy = new MemoryStream();
        await response.CopyToAsync(copy);
        var text = Encoding.UTF8.GetString(copy.ToArray());
        Assert.DoesNotContain("[DONE]", text, StringComparison.Ordinal);
        Assert.Contains("data: {\"error\":", text, StringComparison.Ordinal);
        Assert.NotNull(response.StreamError);
    }

    [Fact]
    public async Task Cancelling_a_call_cancels_the_upstream_request()
    {
        _upstream.Enqueue(new OpenAIScript { HeaderDelay = TimeSpan.FromSeconds(30) });
        using var cts = new CancellationTokenSource();
        var call = _client.CompleteAsync(Hello(), cts.Token);
        while (_upstream.InFlight == 0 && !call.IsCompleted) await Task.Delay(10);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.True(await _upstream.WaitForCancelledAsync(1, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Leaving_a_stream_early_closes_the_upstream_stream()
    {
        _upstream.Enqueue(new OpenAIScript { Content = "a b c d e f", Chunks = 6, HangAfter = 1 });
        await foreach (var chunk in _client.StreamAsync(Hello()))
        {
            if (chunk.Choices.Count > 0 && !string.IsNullOrEmpty(chunk.Choices[0].Delta.Content)) break;
        }
        Assert.True(await _upstream.WaitForCancelledAsync(1, TimeSpan.FromSeconds(5)));
    }
}
