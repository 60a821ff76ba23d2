using System.ClientModel;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Providers.Replicate;
using LLMux.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using OpenAI.Chat;
using ChatMessage = LLMux.Pipeline.Wire.ChatMessage;
using ChatRequest = LLMux.Pipeline.Wire.ChatRequest;

namespace LLMux.Tests.Replicate;

/// <summary>
/// The OpenAI SDK → LLMux → the Replicate emulator: predictions created with the prompt LiteLLM would build, waited
/// for or polled on a fake clock, streamed from <c>urls.stream</c>, and canceled when the client goes away.
/// </summary>
public sealed class ReplicateTests : IAsyncLifetime
{
    private const string Version = "02e509c789964a7ea8736978a43525956ef40397be9033abf9fd2badfe68c9e3";
    private ReplicateEmulator _upstream = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await ReplicateEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync($"""
            router_settings:
              num_retries: 0
            model_list:
              - model_name: llama3
                litellm_params:
                  model: replicate/meta/llama-3-8b-instruct
                  api_base: {_upstream.ApiBase}
                  api_key: {ReplicateEmulator.Token}
              - model_name: llama2-pinned
                litellm_params:
                  model: replicate/meta/llama-2-70b-chat:{Version}
                  api_base: {_upstream.ApiBase}
                  api_key: {ReplicateEmulator.Token}
              - model_name: granite
                litellm_params:
                  model: replicate/ibm-granite/granite-3.3-8b-instruct
                  api_base: {_upstream.ApiBase}
                  api_key: {ReplicateEmulator.Token}
                  supports_system_prompt: true
              - model_name: wrong-token
                litellm_params:
                  model: replicate/meta/llama-3-8b-instruct
                  api_base: {_upstream.ApiBase}
                  api_key: r8_wrong
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private ChatClient Chat(string model) => _gateway.OpenAI().GetChatClient(model);

    [Fact]
    public async Task A_chat_creates_a_waited_prediction_with_the_llama3_prompt_and_is_priced_by_its_metrics()
    {
        _upstream.Enqueue(new ReplicateScript { Output = ["Bon", "jour", "."], InputTokens = 8, OutputTokens = 3 });
        using var response = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"llama3","max_tokens":40,"temperature":0.5,"stop":["END","STOP"],"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}]}"""));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        using var answer = JsonDocument.Parse(text);
        Assert.Equal("Bonjour.", answer.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(8, answer.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        // 8 × 5e-8 + 3 × 2.5e-7 from the price table's replicate/meta/llama-3-8b-instruct.
        Assert.Equal(0.00000115m, decimal.Parse(response.Headers.GetValues("x-llmux-response-cost").Single(), System.Globalization.CultureInfo.InvariantCulture));

        var create = _upstream.Requests.First();
        Assert.Equal("/v1/models/meta/llama-3-8b-instruct/predictions", create.Path);
        Assert.Equal("wait", create.Headers["prefer"]);
        var input = Assert.Single(_upstream.Inputs);
        Assert.Equal("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n", input.GetProperty("prompt").GetString());
        Assert.Equal(40, input.GetProperty("max_new_tokens").GetInt32());
        Assert.Equal("END,STOP", input.GetProperty("stop_sequences").GetString());
        Assert.Equal(0.5, input.GetProperty("temperature").GetDouble(), 3);
        Clear();
    }

    [Fact]
    public async Task A_pinned_version_creates_at_predictions_with_the_version_and_the_llama2_chat_prompt()
    {
        ChatCompletion completion = await Chat("llama2-pinned").CompleteChatAsync([new SystemChatMessage("Be kind."), new UserChatMessage("hello")]);
        Assert.Equal("Hello from Replicate.", completion.Content[0].Text);
        var create = _upstream.Requests.First();
        Assert.Equal("/v1/predictions", create.Path);
        using var body = create.Json();
        Assert.Equal(Version, body.RootElement.GetProperty("version").GetString());
        Assert.Equal("<s>[INST] <<SYS>>\nBe kind.\n<</SYS>>\n [/INST]\n[INST] hello [/INST]\n</s>", body.RootElement.GetProperty("input").GetProperty("prompt").GetString());
        Clear();
    }

    [Fact]
    public async Task Supports_system_prompt_sends_the_system_message_as_system_prompt_and_the_rest_joined()
    {
        await Chat("granite").CompleteChatAsync([new SystemChatMessage("You are Granite."), new UserChatMessage("one"), new AssistantChatMessage("two"), new UserChatMessage("three")]);
        var input = Assert.Single(_upstream.Inputs);
        Assert.Equal("You are Granite.", input.GetProperty("system_prompt").GetString());
        Assert.Equal("one two three", input.GetProperty("prompt").GetString());
        Clear();
    }

    [Fact]
    public async Task A_stream_reads_urls_stream_and_ends_with_the_predictions_usage()
    {
        _upstream.Enqueue(new ReplicateScript { Output = ["Line one", "\nline two", " é 東京"], InputTokens = 5, OutputTokens = 7 });
        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        await foreach (var update in Chat("llama3").CompleteChatStreamingAsync([new UserChatMessage("hello")]))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            usage ??= update.Usage;
            finish ??= update.FinishReason;
        }
        Assert.Equal("Line one\nline two é 東京", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.Equal(7, usage?.OutputTokenCount);
        Assert.Contains(_upstream.Requests, static r => r.Path.StartsWith("/v1/streams/", StringComparison.Ordinal));
        using var body = _upstream.Requests.First().Json();
        Assert.True(body.RootElement.GetProperty("stream").GetBoolean());
        Assert.False(_upstream.Requests.First().Headers.ContainsKey("prefer"));
        Clear();
    }

    [Fact]
    public async Task A_client_that_goes_away_mid_stream_cancels_the_prediction()
    {
        _upstream.Enqueue(new ReplicateScript { Output = ["first", "second", "third"], HangAfter = 1 });
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json("""{"model":"llama3","stream":true,"messages":[{"role":"user","content":"hi"}]}""") })
        using (var response = await _gateway.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            var stream = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[4096];
            var seen = new StringBuilder();
            while (!seen.ToString().Contains("first"))
            {
                var n = await stream.ReadAsync(buffer);
                Assert.True(n > 0, "the stream ended before its first output");
                seen.Append(Encoding.UTF8.GetString(buffer, 0, n));
            }
        }
        for (var i = 0; i < 200 && _upstream.Cancelled == 0; i++) await Task.Delay(25);
        Assert.Equal(1, _upstream.Cancelled);
        Assert.Contains(_upstream.Requests, static r => r.Method == "POST" && r.Path.EndsWith("/cancel", StringComparison.Ordinal));
        Clear();
    }

    [Fact]
    public async Task An_error_event_after_content_is_a_final_error_frame()
    {
        _upstream.Enqueue(new ReplicateScript { Output = ["abc", "def"], ErrorAfter = 1 });
        using var response = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"llama3","stream":true,"messages":[{"role":"user","content":"hi"}]}"""));
        var sse = await TranslatorFeed.ReadToEndOrAbortAsync(response);
        Assert.Contains("\"content\":\"abc\"", sse);
        Assert.Contains("CUDA out of memory", sse);
        Assert.DoesNotContain("[DONE]", sse);
        Clear();
    }

    [Fact]
    public async Task A_failed_prediction_is_a_400_with_its_error()
    {
        _upstream.Enqueue(new ReplicateScript { Fail = "prompt is too long for this model" });
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Chat("llama3").CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(400, ex.Status);
        Assert.Contains("prompt is too long", ex.Message);
        Clear();
    }

    [Theory]
    [InlineData(422, "Input validation failed", "input.max_new_tokens: Must be less than or equal to 4096", 400)]
    [InlineData(429, "Too Many Requests", "Request was throttled.", 429)]
    [InlineData(404, "Not found", "The requested resource could not be found.", 404)]
    public async Task Replicate_problems_map_to_litellms_status(int status, string title, string detail, int expected)
    {
        _upstream.Enqueue(new ReplicateScript { Problem = (status, title, detail) });
        using var response = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"llama3","messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal(expected, (int)response.StatusCode);
        Assert.Contains(detail, await response.Content.ReadAsStringAsync());
        Clear();
    }

    [Fact]
    public async Task A_wrong_token_is_a_401_that_names_the_setting()
    {
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Chat("wrong-token").CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(401, ex.Status);
        Assert.Contains("api_key", ex.Message);
        Clear();
    }

    [Fact]
    public async Task Tools_are_refused_unless_drop_params_since_no_prompt_model_calls_them()
    {
        using var response = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"llama3","tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal(400, (int)response.StatusCode);
        Assert.Contains("tools", await response.Content.ReadAsStringAsync());
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task A_prediction_that_is_not_done_is_polled_on_the_clock_until_it_succeeds()
    {
        var time = new FakeTimeProvider();
        using var provider = new ReplicateProvider(time);
        _upstream.Enqueue(new ReplicateScript { Polls = 3, Output = ["done"] });
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(new Uri(_upstream.ApiBase + "/"), "models/meta/llama-3-8b-instruct/predictions"))
        {
            Content = new StringContent("""{"input":{"prompt":"hi"}}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ReplicateEmulator.Token);
        var send = provider.Transport!.SendAsync(request, CancellationToken.None);
        // Each poll waits for one interval of the fake clock: the answer comes only as the clock moves.
        for (var i = 0; i < 2000 && !send.IsCompleted; i++)
        {
            time.Advance(ReplicateTransport.DefaultPollInterval);
            await Task.WhenAny(send, Task.Delay(5));
        }
        using var response = await send;
        using var prediction = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("succeeded", prediction.RootElement.GetProperty("status").GetString());
        Assert.Equal(4, _upstream.Requests.Count(static r => r.Method == "GET"));
        Clear();
    }

    [Theory]
    [InlineData("meta/llama-3-8b-instruct", "models/meta/llama-3-8b-instruct/predictions", null)]
    [InlineData("meta/llama-2-70b-chat:abc123", "predictions", "abc123")]
    [InlineData("deployments/acme/my-llama", "deployments/acme/my-llama/predictions", null)]
    [InlineData("5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa", "predictions", "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa")]
    public void Model_ids_name_their_prediction_endpoint(string model, string path, string? version)
    {
        var target = ReplicateModelRef.Parse(model);
        Assert.Equal(path, target.Path);
        Assert.Equal(version, target.Version);
    }

    // ---- the translator alone, every byte split ----

    private static string Translate(byte[] data, IReadOnlyList<int> cuts)
    {
        var context = new LlmContext
        {
            TimeProvider = new FakeTimeProvider(new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero)),
            Chat = new ChatRequest { Stream = true, StreamOptions = new LLMux.Pipeline.Wire.StreamOptions { IncludeUsage = true } },
            IsStream = true,
        };
        using var translator = new ReplicateStreamTranslator(context);
        var text = TranslatorFeed.Run(translator, data, cuts);
        Assert.Equal(4, context.Usage?.PromptTokens);
        return text;
    }

    [Fact]
    public void Stream_output_is_identical_at_every_split_position()
    {
        var script = new ReplicateScript { Output = ["Grüße", " aus\nKöln", " — 東京"] };
        var data = Encoding.UTF8.GetBytes(ReplicateEmulator.StreamText(script) + "event: metrics\ndata: {\"input_token_count\":4,\"output_token_count\":6}\n\n");
        var whole = Translate(data, []);
        Assert.Contains("\"content\":\"Grüße\"", whole);
        Assert.Contains("\"content\":\" aus\\nKöln\"", whole);
        Assert.EndsWith("data: [DONE]\n\n", whole);
        for (var cut = 1; cut < data.Length; cut++)
        {
            var split = Translate(data, [cut]);
            Assert.Equal(whole, split.Replace(Id(split), Id(whole)));
        }
    }

    [Fact]
    public void A_stream_without_its_done_event_is_an_error()
    {
        var data = Encoding.UTF8.GetBytes(ReplicateEmulator.Frame("output", "1", "partial"));
        var context = new LlmContext { TimeProvider = new FakeTimeProvider(), Chat = new ChatRequest { Stream = true }, IsStream = true };
        using var translator = new ReplicateStreamTranslator(context);
        var ex = Assert.Throws<LlmException>(() => TranslatorFeed.Run(translator, data, []));
        Assert.Equal(ErrorKind.BadGateway, ex.Error.Kind);
    }

    [Fact]
    public void Prompts_are_built_as_litellm_builds_them()
    {
        ChatMessage M(string role, string text) => new() { Role = role, Content = JsonDocument.Parse(JsonSerializer.Serialize(text)).RootElement.Clone() };
        Assert.Equal("sys hi there", ReplicatePrompt.Build("mistralai/mistral-7b-v0.1", [M("system", "sys"), M("user", "hi"), M("assistant", "there")]));
        Assert.Equal("<s>[INST] hi [/INST]\nthere\n[INST] again [/INST]\n</s>", ReplicatePrompt.Build("meta/llama-2-13b-chat", [M("user", "hi"), M("assistant", "there"), M("user", "again")]));
    }

    private static string Id(string sse)
    {
        var at = sse.IndexOf("\"id\":\"", StringComparison.Ordinal) + 6;
        return sse[at..sse.IndexOf('"', at)];
    }

    private void Clear()
    {
        _upstream.Requests.Clear();
        while (_upstream.Inputs.TryDequeue(out _)) { }
    }

    private static StringContent Json(string s) => new(s, Encoding.UTF8, "application/json");
}
