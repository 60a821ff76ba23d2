using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Host;
using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Streaming;
using LLMux.Tests.Governance;
using LLMux.Tests.Infrastructure;

namespace LLMux.Tests.EndToEnd;

/// <summary>
/// A bug (an exception that is not an LlmException) on any LLM endpoint: a 500 in the API's error shape naming the
/// request id, never the exception's text, logged once; after a stream started, the API's final error frame.
/// The failure is injected by a stage before send: model `boom` throws there, `boom-stream` breaks the stream translator.
/// </summary>
public sealed class UnexpectedErrorTests : IAsyncLifetime
{
    private const string Secret = "sk-secret-in-the-exception-42";
    private OpenAIEmulator _upstream = null!;
    private GatewayHost _gateway = null!;
    private readonly ConcurrentQueue<string> _logs = new();

    public async Task InitializeAsync()
    {
        _upstream = await OpenAIEmulator.StartNewAsync();
        var yaml = $"""
            router_settings:
              num_retries: 0
            model_list:
              - model_name: boom
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: {_upstream.ApiBase}
                  api_key: sk-up
              - model_name: boom-stream
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: {_upstream.ApiBase}
                  api_key: sk-up
              - model_name: fine
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: {_upstream.ApiBase}
                  api_key: sk-up
            """;
        _gateway = await GatewayHost.StartAsync(TestApp.Build(new LlmuxHostOptions
        {
            ConfigYaml = yaml,
            Port = 0,
            ConfigureLogging = l => l.AddProvider(new CapturingLoggerProvider(_logs)),
            ConfigureLLMux = b => b.AddStageBeforeSend(new FaultStage()),
        }));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(string path, string json)
    {
        using var response = await _gateway.Http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The one log line for the failure: it names the request id the client saw and carries the exception.</summary>
    private void AssertLoggedOnce(string message)
    {
        var id = message[(message.IndexOf("request id ", StringComparison.Ordinal) + "request id ".Length)..message.IndexOf(')', StringComparison.Ordinal)];
        Assert.False(string.IsNullOrWhiteSpace(id));
        var lines = _logs.Where(l => l.Contains("unexpected failure", StringComparison.Ordinal)).ToList();
        var line = Assert.Single(lines);
        Assert.Contains("(request " + id + ")", line, StringComparison.Ordinal);
        Assert.Contains(Secret, line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/v1/chat/completions", """{"model":"boom","messages":[{"role":"user","content":"hi"}]}""")]
    [InlineData("/v1/embeddings", """{"model":"boom","input":"hi"}""")]
    [InlineData("/v1/responses", """{"model":"boom","input":"hi"}""")]
    [InlineData("/v1/completions", """{"model":"boom","prompt":"hi"}""")]
    public async Task A_bug_before_the_answer_is_a_500_in_openai_error_json_naming_the_request_id(string path, string json)
    {
        var (status, body) = await PostAsync(path, json);
        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.DoesNotContain(Secret, body, StringComparison.Ordinal);
        Assert.DoesNotContain(nameof(InvalidOperationException), body, StringComparison.Ordinal);
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
        Assert.Equal("server_error", error.GetProperty("type").GetString());
        Assert.Equal("internal_error", error.GetProperty("code").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
        AssertLoggedOnce(error.GetProperty("message").GetString()!);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task A_bug_on_messages_is_a_500_in_anthropic_error_json()
    {
        var (status, body) = await PostAsync("/v1/messages", """{"model":"boom","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.DoesNotContain(Secret, body, StringComparison.Ordinal);
        var root = JsonDocument.Parse(body).RootElement;
        Assert.Equal("error", root.GetProperty("type").GetString());
        Assert.Equal("api_error", root.GetProperty("error").GetProperty("type").GetString());
        AssertLoggedOnce(root.GetProperty("error").GetProperty("message").GetString()!);
    }

    [Fact]
    public async Task A_bug_mid_stream_ends_the_chat_stream_with_an_error_frame_never_done()
    {
        var (status, body) = await PostAsync("/v1/chat/completions", """{"model":"boom-stream","stream":true,"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.DoesNotContain(Secret, body, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", body, StringComparison.Ordinal);
        var frames = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("data: {\"id\"", frames[0], StringComparison.Ordinal);
        var last = frames[^1];
        Assert.StartsWith("data: ", last, StringComparison.Ordinal);
        var error = JsonDocument.Parse(last["data: ".Length..]).RootElement.GetProperty("error");
        Assert.Equal("server_error", error.GetProperty("type").GetString());
        AssertLoggedOnce(error.GetProperty("message").GetString()!);
    }

    [Fact]
    public async Task A_bug_mid_stream_on_messages_ends_with_an_anthropic_error_event()
    {
        var (status, body) = await PostAsync("/v1/messages", """{"model":"boom-stream","stream":true,"max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.DoesNotContain(Secret, body, StringComparison.Ordinal);
        var last = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)[^1];
        Assert.StartsWith("event: error\ndata: ", last, StringComparison.Ordinal);
        var root = JsonDocument.Parse(last["event: error\ndata: ".Length..]).RootElement;
        Assert.Equal("api_error", root.GetProperty("error").GetProperty("type").GetString());
        AssertLoggedOnce(root.GetProperty("error").GetProperty("message").GetString()!);
    }

    [Fact]
    public async Task A_bug_mid_stream_on_responses_ends_with_the_responses_failure_events()
    {
        var (status, body) = await PostAsync("/v1/responses", """{"model":"boom-stream","stream":true,"input":"hi"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.DoesNotContain(Secret, body, StringComparison.Ordinal);
        var error = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Single(static f => f.StartsWith("event: error\n", StringComparison.Ordinal));
        var root = JsonDocument.Parse(error["event: error\ndata: ".Length..]).RootElement;
        Assert.Equal("error", root.GetProperty("type").GetString());
        Assert.Contains("event: response.failed", body, StringComparison.Ordinal);
        Assert.DoesNotContain("response.completed", body, StringComparison.Ordinal);
        AssertLoggedOnce(root.GetProperty("message").GetString()!);
    }

    [Fact]
    public async Task Other_calls_are_untouched()
    {
        var (status, body) = await PostAsync("/v1/chat/completions", """{"model":"fine","messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("chat.completion", body, StringComparison.Ordinal);
        Assert.DoesNotContain(_logs, l => l.Contains("unexpected failure", StringComparison.Ordinal));
    }

    /// <summary>The injected bug: `boom` throws before send; `boom-stream` gets a translator that writes one frame, then throws.</summary>
    private sealed class FaultStage : ILlmStage
    {
        public ValueTask InvokeAsync(LlmContext context, StageDelegate next)
        {
            if (context.RequestedModel == "boom") throw new InvalidOperationException("a bug whose text holds " + Secret);
            if (context.RequestedModel == "boom-stream")
            {
                var prior = context.StreamTranslatorDecorator;
                context.StreamTranslatorDecorator = (translator, c) => new BrokenTranslator(prior is null ? translator : prior(translator, c), c.ClientProtocol);
            }
            return next(context);
        }
    }

    private sealed class BrokenTranslator(StreamTranslator inner, ClientProtocol protocol) : StreamTranslator
    {
        public override void Decode(ref ReadOnlySequence<byte> buffer, IBufferWriter<byte> output)
        {
            output.Write(protocol == ClientProtocol.Anthropic
                ? "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[]}}\n\n"u8
                : "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n"u8);
            ContentStarted = true;
            throw new InvalidOperationException("a translator bug whose text holds " + Secret);
        }

        public override void Complete(ReadOnlySequence<byte> remaining, IBufferWriter<byte> output) => inner.Complete(remaining, output);

        public override void Dispose()
        {
            inner.Dispose();
            base.Dispose();
        }
    }
}
