using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using ChatRequest = LLMux.Pipeline.Wire.ChatRequest;
using LLMux.Providers.SageMaker;
using LLMux.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using OpenAI.Chat;

namespace LLMux.Tests.ProviderRows;

/// <summary>
/// The OpenAI SDK → LLMux → the SageMaker Runtime emulator (a Messages API container behind InvokeEndpoint and
/// InvokeEndpointWithResponseStream), and the eventstream translator fed bytes split at every position.
/// </summary>
public sealed class SageMakerTests : IAsyncLifetime
{
    private const string KeyId = "AKIDSAGEMAKEREXAMPLE";
    private SageMakerEmulator _upstream = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await SageMakerEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync($"""
            router_settings:
              num_retries: 0
            model_list:
              - model_name: sm
                litellm_params:
                  model: sagemaker_chat/my-llama-endpoint
                  api_base: {_upstream.ApiBase}
                  aws_access_key_id: {KeyId}
                  aws_secret_access_key: wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
                  aws_region_name: eu-west-1
              - model_name: sm-no-creds
                litellm_params:
                  model: sagemaker_chat/other
                  api_base: {_upstream.ApiBase}
                  aws_access_key_id: {KeyId}
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private ChatClient Chat() => _gateway.OpenAI().GetChatClient("sm");

    private RecordedRequest TakeSingle()
    {
        var sent = Assert.Single(_upstream.Requests);
        _upstream.Requests.Clear();
        return sent;
    }

    [Fact]
    public async Task Chat_is_a_signed_invoke_endpoint_call_with_the_openai_body()
    {
        _upstream.Enqueue(new SageMakerScript { Content = "Bonjour.", PromptTokens = 12, CompletionTokens = 3 });
        ChatCompletion completion = await Chat().CompleteChatAsync([new UserChatMessage("hello")], new ChatCompletionOptions { Temperature = 0.2f });

        Assert.Equal("Bonjour.", completion.Content[0].Text);
        Assert.Equal(12, completion.Usage.InputTokenCount);
        Assert.Equal(3, completion.Usage.OutputTokenCount);
        var sent = TakeSingle();
        Assert.Equal("/endpoints/my-llama-endpoint/invocations", sent.Path);
        var auth = sent.Headers["authorization"];
        Assert.Matches(@"^AWS4-HMAC-SHA256 Credential=AKIDSAGEMAKEREXAMPLE/\d{8}/eu-west-1/sagemaker/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$", auth);
        Assert.Equal("application/json", sent.Headers["accept"]);
        using var body = sent.Json();
        Assert.Equal("my-llama-endpoint", body.RootElement.GetProperty("model").GetString());
        Assert.Equal(0.2, body.RootElement.GetProperty("temperature").GetDouble(), 3);
        Assert.False(body.RootElement.TryGetProperty("stream_options", out _));
    }

    [Fact]
    public async Task Stream_is_reframed_from_payload_parts_into_openai_sse()
    {
        _upstream.Enqueue(new SageMakerScript { Content = "Streaming through SageMaker, é and ü too.", Chunks = 5, PartSize = 7 });
        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in Chat().CompleteChatStreamingAsync([new UserChatMessage("hello")]))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            finish ??= update.FinishReason;
        }
        Assert.Equal("Streaming through SageMaker, é and ü too.", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        var sent = TakeSingle();
        Assert.Equal("/endpoints/my-llama-endpoint/invocations-response-stream", sent.Path);
        Assert.Equal("application/vnd.amazon.eventstream", sent.Headers["accept"]);
        using var body = sent.Json();
        Assert.True(body.RootElement.GetProperty("stream").GetBoolean());
    }

    [Fact]
    public async Task The_stream_ends_with_done_and_the_containers_usage()
    {
        _upstream.Enqueue(new SageMakerScript { Content = "abc", Chunks = 3, PartSize = 5, PromptTokens = 4, CompletionTokens = 2 });
        using var response = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"sm","stream":true,"messages":[{"role":"user","content":"hi"}]}"""));
        var sse = await response.Content.ReadAsStringAsync();
        Assert.Contains("\"prompt_tokens\":4", sse);
        Assert.EndsWith("data: [DONE]\n\n", sse);
        _upstream.Requests.Clear();
    }

    [Theory]
    [InlineData(400, "ValidationError", """{"message":"Endpoint my-llama-endpoint of account 123456789012 not found."}""", 400, "Endpoint my-llama-endpoint")]
    [InlineData(403, "AccessDeniedException", """{"message":"User is not authorized to perform: sagemaker:InvokeEndpoint"}""", 403, "sagemaker:InvokeEndpoint on the endpoint")]
    [InlineData(429, "ThrottlingException", """{"message":"Rate exceeded"}""", 429, "throttled by SageMaker")]
    [InlineData(424, "ModelError", """{"ErrorCode":"CLIENT_ERROR_FROM_MODEL","OriginalStatusCode":422,"OriginalMessage":"Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096","Message":"Received client error (422) from primary"}""", 400, "`inputs` tokens + `max_new_tokens`")]
    [InlineData(424, "ModelError", """{"ErrorCode":"SERVER_ERROR_FROM_MODEL","OriginalStatusCode":500,"OriginalMessage":"CUDA out of memory","Message":"Received server error (500) from primary"}""", 503, "CUDA out of memory")]
    public async Task Aws_and_container_errors_map_to_litellms_status(int status, string type, string body, int expected, string text)
    {
        _upstream.Enqueue(new SageMakerScript { ErrorStatus = status, ErrorType = type, ErrorBody = body });
        using var response = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"sm","messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal(expected, (int)response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = doc.RootElement.GetProperty("error");
        Assert.Contains(text, error.GetProperty("message").GetString());
        Assert.StartsWith("sm-req-", error.GetProperty("upstream_request_id").GetString());
        _upstream.Requests.Clear();
    }

    [Fact]
    public async Task A_context_window_error_from_the_container_is_recognised()
    {
        _upstream.Enqueue(new SageMakerScript { ErrorStatus = 424, ErrorType = "ModelError", ErrorBody = """{"OriginalStatusCode":422,"OriginalMessage":"Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: 5000"}""" });
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Chat().CompleteChatAsync([new UserChatMessage("long")]));
        Assert.Equal(400, ex.Status);
        Assert.Contains("context window", ex.Message);
        _upstream.Requests.Clear();
    }

    [Fact]
    public async Task A_model_stream_error_after_content_is_a_final_error_frame()
    {
        _upstream.Enqueue(new SageMakerScript { Content = "abcdefghijkl", Chunks = 4, PartSize = 300, StreamErrorAfter = 1 });
        using var response = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"sm","stream":true,"messages":[{"role":"user","content":"hi"}]}"""));
        var sse = await TranslatorFeed.ReadToEndOrAbortAsync(response);
        Assert.Contains("\"content\":\"abc\"", sse);
        Assert.Contains("\"error\"", sse);
        Assert.Contains("the container stopped answering", sse);
        Assert.DoesNotContain("[DONE]", sse);
        _upstream.Requests.Clear();
    }

    [Fact]
    public async Task A_key_id_without_its_secret_is_a_401_naming_the_setting_and_never_reaches_aws()
    {
        using var response = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"sm-no-creds","messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("aws_secret_access_key", await response.Content.ReadAsStringAsync());
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Embeddings_are_refused_before_any_call()
    {
        using var response = await _gateway.Http.PostAsync("/v1/embeddings", Json("""{"model":"sm","input":"hi"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(_upstream.Requests);
    }

    // ---- the translator alone, fed the emulator's bytes ----

    private static LlmContext StreamContext() => new()
    {
        TimeProvider = new FakeTimeProvider(new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero)),
        Chat = new ChatRequest { Stream = true },
        IsStream = true,
    };

    private static string Translate(byte[] data, IReadOnlyList<int> cuts)
    {
        using var translator = new SageMakerStreamTranslator(StreamContext());
        return TranslatorFeed.Run(translator, data, cuts);
    }

    private static readonly SageMakerScript Rich = new() { Content = "Grüße aus Köln — 東京 too.", Chunks = 6, PartSize = 11 };

    private static byte[] Bytes(SageMakerScript s) => SageMakerEmulator.StreamMessages(s).SelectMany(static m => m).ToArray();

    [Fact]
    public void The_client_gets_each_container_frame_once_as_openai_sse()
    {
        var expected = new StringBuilder();
        foreach (var frame in SageMakerEmulator.ContainerSse(Rich).Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
            expected.Append("data: ").Append(frame["data:".Length..]).Append("\n\n");
        Assert.Equal(expected.ToString(), Translate(Bytes(Rich), []));
    }

    [Fact]
    public void Stream_output_is_identical_at_every_split_position()
    {
        var data = Bytes(Rich);
        var whole = Translate(data, []);
        for (var cut = 1; cut < data.Length; cut++)
            Assert.Equal(whole, Translate(data, [cut]));
    }

    [Fact]
    public void Stream_output_is_identical_whatever_size_the_payload_parts_are()
    {
        var whole = Translate(Bytes(Rich), []);
        for (var size = 1; size <= 64; size++)
            Assert.Equal(whole, Translate(Bytes(Rich with { PartSize = size }), []));
    }

    [Fact]
    public void A_stream_cut_inside_a_message_is_an_error_never_a_clean_end()
    {
        var data = Bytes(Rich);
        Assert.ThrowsAny<Exception>(() => Translate(data[..^5], []));
    }

    [Fact]
    public void A_stream_that_stops_before_its_last_chunk_is_an_error()
    {
        var ex = Assert.Throws<LlmException>(() => Translate(Bytes(Rich with { TruncateAfter = 3 }), []));
        Assert.Equal(ErrorKind.BadGateway, ex.Error.Kind);
    }

    private static StringContent Json(string s) => new(s, Encoding.UTF8, "application/json");
}
