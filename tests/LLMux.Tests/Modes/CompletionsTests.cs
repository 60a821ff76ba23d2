using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Stages.Accounting;
using LLMux.Tests.Infrastructure;

namespace LLMux.Tests.Modes;

/// <summary>
/// <c>POST /v1/completions</c> over raw HTTP (the OpenAI .NET SDK has no completions client any more): native
/// passthrough to text-completion APIs, Mistral FIM, and the chat bridge (one chat call per prompt) onto chat-only providers.
/// </summary>
public sealed class CompletionsTests : IAsyncLifetime
{
    private TextCompletionEmulator _text = null!;
    private OpenAIEmulator _chat = null!;
    private AnthropicEmulator _anthropic = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _text = await TextCompletionEmulator.StartNewAsync();
        _chat = await OpenAIEmulator.StartNewAsync();
        _anthropic = await AnthropicEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync($"""
            router_settings:
              num_retries: 0
            model_list:
              - model_name: instruct
                litellm_params:
                  model: openai/gpt-3.5-turbo-instruct
                  api_base: {_text.ApiBase}
                  api_key: sk-text
              - model_name: text-openai
                litellm_params:
                  model: text-completion-openai/davinci-002
                  api_base: {_text.ApiBase}
                  api_key: sk-text
              - model_name: vllm
                litellm_params:
                  model: hosted_vllm/Qwen/Qwen2.5-Coder-7B
                  api_base: {_text.ApiBase}
              - model_name: ollama-coder
                litellm_params:
                  model: ollama/qwen2.5-coder
                  api_base: {_text.Root.ToString().TrimEnd('/')}
              - model_name: codestral
                litellm_params:
                  model: mistral/codestral-latest
                  api_base: {_text.ApiBase}
                  api_key: mistral-key
              - model_name: fim
                litellm_params:
                  model: text-completion-codestral/codestral-latest
                  api_base: {_text.ApiBase}
                  api_key: codestral-key
              - model_name: mini
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: {_chat.ApiBase}
                  api_key: sk-chat
              - model_name: haiku
                litellm_params:
                  model: anthropic/claude-3-5-haiku-20241022
                  api_base: {_anthropic.ApiBase}
                  api_key: sk-ant
              - model_name: haiku-lenient
                litellm_params:
                  model: anthropic/claude-3-5-haiku-20241022
                  api_base: {_anthropic.ApiBase}
                  api_key: sk-ant
                  drop_params: true
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _anthropic.DisposeAsync();
        await _chat.DisposeAsync();
        await _text.DisposeAsync();
    }

    private Task<HttpResponseMessage> PostAsync(string json) =>
        _gateway.Http.PostAsync("/v1/completions", new StringContent(json, Encoding.UTF8, "application/json"));

    private static async Task<JsonElement> JsonOf(HttpResponseMessage response) => JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    private static decimal CostHeader(HttpResponseMessage response) =>
        decimal.Parse(response.Headers.GetValues("x-llmux-response-cost").Single(), CultureInfo.InvariantCulture);

    private static decimal Expected(string provider, string model, long prompt, long completion)
    {
        var price = PriceTable.Default.Find(provider, model)!;
        return prompt * price.InputPerToken + completion * price.OutputPerToken;
    }

    [Fact]
    public async Task Instruct_model_gets_the_body_as_it_is_and_the_text_completion_back_with_its_cost()
    {
        const string body = """{"model":"instruct","prompt":["def add(a, b):","def sub(a, b):"],"max_tokens":32,"n":2,"logprobs":1,"echo":false,"stop":["\n\n"],"temperature":0.2,"user":"u-1"}""";
        using var response = await PostAsync(body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var root = await JsonOf(response);
        Assert.Equal("text_completion", root.GetProperty("object").GetString());
        Assert.Equal("cmpl-emu456", root.GetProperty("id").GetString());
        var choices = root.GetProperty("choices");
        Assert.Equal(4, choices.GetArrayLength());
        Assert.Equal(TextCompletionEmulator.TextOf(_text.Default, 1, 1), choices[3].GetProperty("text").GetString());
        Assert.Equal(3, choices[3].GetProperty("index").GetInt32());
        Assert.Equal(-0.25, choices[0].GetProperty("logprobs").GetProperty("token_logprobs")[0].GetDouble());
        Assert.Equal(Expected("openai", "gpt-3.5-turbo-instruct", 9, 5), CostHeader(response));

        var sent = Assert.Single(_text.Requests);
        Assert.Equal("/v1/completions", sent.Path);
        Assert.Equal("Bearer sk-text", sent.Headers["authorization"]);
        // Byte for byte the client's body, only `model` rewritten to the upstream id.
        Assert.Equal(body.Replace("\"model\":\"instruct\"", "\"model\":\"gpt-3.5-turbo-instruct\"", StringComparison.Ordinal), sent.BodyText);
    }

    [Fact]
    public async Task Native_stream_passes_text_completion_chunks_through_with_one_done()
    {
        using var response = await PostAsync("""{"model":"text-openai","prompt":"SELECT","stream":true,"stream_options":{"include_usage":true}}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        var data = SseFrames.Data(text);
        Assert.Equal("[DONE]", data[^1]);
        Assert.Single(data, static d => d == "[DONE]");
        var chunks = SseFrames.Json(text);
        Assert.All(chunks, static c => Assert.Equal("text_completion", c.GetProperty("object").GetString()));
        var joined = string.Concat(chunks.Where(static c => c.GetProperty("choices").GetArrayLength() > 0).Select(static c => c.GetProperty("choices")[0].GetProperty("text").GetString()));
        Assert.Equal(TextCompletionEmulator.TextOf(_text.Default, 0, 0), joined);
        var usage = chunks[^1];
        Assert.Equal(0, usage.GetProperty("choices").GetArrayLength());
        Assert.Equal(5, usage.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal("davinci-002", Assert.Single(_text.Requests).Json().RootElement.GetProperty("model").GetString());
    }

    [Fact]
    public async Task Vllm_takes_token_prompts_echo_and_best_of_natively()
    {
        using var response = await PostAsync("""{"model":"vllm","prompt":[[1,2,3],[4,5]],"echo":true,"best_of":2,"max_tokens":8}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var choices = (await JsonOf(response)).GetProperty("choices");
        Assert.Equal(2, choices.GetArrayLength());
        Assert.StartsWith("4 5", choices[1].GetProperty("text").GetString(), StringComparison.Ordinal);
        var sent = Assert.Single(_text.Requests).Json().RootElement;
        Assert.Equal("Qwen/Qwen2.5-Coder-7B", sent.GetProperty("model").GetString());
        Assert.Equal(2, sent.GetProperty("best_of").GetInt32());
        Assert.Equal(4, sent.GetProperty("prompt")[1][0].GetInt32());
        Assert.Equal("Bearer fake-api-key", Assert.Single(_text.Requests).Headers["authorization"]);
    }

    [Fact]
    public async Task Ollama_gets_suffix_on_its_openai_completions_api()
    {
        using var response = await PostAsync("""{"model":"ollama-coder","prompt":"def add(a, b):\n    ","suffix":"\n\nprint(add(1, 2))"}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = Assert.Single(_text.Requests);
        Assert.Equal("/v1/completions", sent.Path);
        Assert.Equal("\n\nprint(add(1, 2))", sent.Json().RootElement.GetProperty("suffix").GetString());
    }

    [Fact]
    public async Task Codestral_fill_in_the_middle_goes_to_fim_and_comes_back_as_text_completion()
    {
        using var response = await PostAsync("""{"model":"codestral","prompt":"def add(a, b):","suffix":"print(add(1, 2))","max_tokens":40,"seed":7}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var root = await JsonOf(response);
        Assert.Equal("text_completion", root.GetProperty("object").GetString());
        Assert.Equal("cmpl-fim-emu789", root.GetProperty("id").GetString());
        var choice = Assert.Single(root.GetProperty("choices").EnumerateArray());
        Assert.Equal(TextCompletionEmulator.TextOf(_text.Default, 0, 0), choice.GetProperty("text").GetString());
        Assert.Equal(JsonValueKind.Null, choice.GetProperty("logprobs").ValueKind);
        Assert.Equal(14, root.GetProperty("usage").GetProperty("total_tokens").GetInt32());
        Assert.Equal(Expected("mistral", "codestral-latest", 9, 5), CostHeader(response));

        var sent = Assert.Single(_text.Requests);
        Assert.Equal("/v1/fim/completions", sent.Path);
        Assert.Equal("Bearer mistral-key", sent.Headers["authorization"]);
        var b = sent.Json().RootElement;
        Assert.Equal("codestral-latest", b.GetProperty("model").GetString());
        Assert.Equal("def add(a, b):", b.GetProperty("prompt").GetString());
        Assert.Equal("print(add(1, 2))", b.GetProperty("suffix").GetString());
        Assert.Equal(7, b.GetProperty("random_seed").GetInt32());
        Assert.False(b.TryGetProperty("seed", out _));
    }

    [Fact]
    public async Task Codestral_fim_stream_arrives_as_text_completion_chunks_with_usage()
    {
        using var response = await PostAsync("""{"model":"fim","prompt":"def f():","suffix":"return x","stream":true}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal("[DONE]", SseFrames.Data(text)[^1]);
        var chunks = SseFrames.Json(text);
        Assert.All(chunks, static c => Assert.Equal("text_completion", c.GetProperty("object").GetString()));
        var joined = string.Concat(chunks.SelectMany(static c => c.GetProperty("choices").EnumerateArray()).Select(static c => c.GetProperty("text").GetString()));
        Assert.Equal(TextCompletionEmulator.TextOf(_text.Default, 0, 0), joined);
        Assert.Equal("stop", chunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(9, chunks[^1].GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal("/v1/fim/completions", Assert.Single(_text.Requests).Path);
    }

    [Fact]
    public async Task Chat_only_provider_gets_one_chat_call_per_prompt_and_the_answers_as_choices()
    {
        using var response = await PostAsync("""{"model":"haiku","prompt":["Say one","Say two"],"max_tokens":20,"temperature":0.5}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var root = await JsonOf(response);
        Assert.Equal("text_completion", root.GetProperty("object").GetString());
        Assert.StartsWith("cmpl-", root.GetProperty("id").GetString(), StringComparison.Ordinal);
        var choices = root.GetProperty("choices");
        Assert.Equal(2, choices.GetArrayLength());
        Assert.Equal("Hello from the Anthropic emulator.", choices[1].GetProperty("text").GetString());
        Assert.Equal(1, choices[1].GetProperty("index").GetInt32());
        Assert.Equal(50, root.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(24, root.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(2 * Expected("anthropic", "claude-3-5-haiku-20241022", 25, 12), CostHeader(response));

        var sent = _anthropic.Requests.ToArray();
        Assert.Equal(2, sent.Length);
        for (var i = 0; i < 2; i++)
        {
            var b = sent[i].Json().RootElement;
            Assert.Equal("/v1/messages", sent[i].Path);
            var message = Assert.Single(b.GetProperty("messages").EnumerateArray());
            Assert.Equal(i == 0 ? "Say one" : "Say two", message.GetProperty("content").ValueKind == JsonValueKind.String
                ? message.GetProperty("content").GetString() : message.GetProperty("content")[0].GetProperty("text").GetString());
            Assert.Equal(20, b.GetProperty("max_tokens").GetInt32());
        }
    }

    [Fact]
    public async Task Bridged_stream_of_two_prompts_is_text_completion_chunks_with_their_indices_and_one_done()
    {
        using var response = await PostAsync("""{"model":"mini","prompt":["a","b"],"stream":true}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        var data = SseFrames.Data(text);
        Assert.Single(data, static d => d == "[DONE]");
        Assert.Equal("[DONE]", data[^1]);
        var chunks = SseFrames.Json(text);
        Assert.All(chunks, static c => Assert.Equal("text_completion", c.GetProperty("object").GetString()));
        foreach (var index in new[] { 0, 1 })
        {
            var mine = chunks.SelectMany(static c => c.GetProperty("choices").EnumerateArray()).Where(c => c.GetProperty("index").GetInt32() == index).ToList();
            Assert.Equal(_chat.Default.Content, string.Concat(mine.Select(static c => c.GetProperty("text").GetString())));
            Assert.Equal("stop", mine[^1].GetProperty("finish_reason").GetString());
        }
        Assert.Equal(2, _chat.Requests.Count);
        Assert.All(_chat.Requests, static r => Assert.Equal("/v1/chat/completions", r.Path));
    }

    [Fact]
    public async Task Suffix_to_a_chat_only_provider_is_a_400_naming_it_before_any_call()
    {
        using var response = await PostAsync("""{"model":"haiku","prompt":"def f():","suffix":"return 1"}""");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await JsonOf(response)).GetProperty("error");
        Assert.Equal("suffix", error.GetProperty("param").GetString());
        Assert.Contains("anthropic", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("drop_params", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(_anthropic.Requests);
    }

    [Fact]
    public async Task Suffix_under_drop_params_is_dropped_with_a_warning()
    {
        using var response = await PostAsync("""{"model":"haiku-lenient","prompt":"def f():","suffix":"return 1","echo":true}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var warning = response.Headers.GetValues("x-llmux-warnings").Single();
        Assert.Contains("suffix", warning, StringComparison.Ordinal);
        Assert.Contains("echo", warning, StringComparison.Ordinal);
        var sent = Assert.Single(_anthropic.Requests).BodyText;
        Assert.DoesNotContain("suffix", sent, StringComparison.Ordinal);
        Assert.DoesNotContain("return 1", sent, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"model":"instruct"}""", "prompt")]
    [InlineData("""{"model":"instruct","prompt":[]}""", "prompt")]
    [InlineData("""{"model":"instruct","prompt":["a",1]}""", "prompt[1]")]
    [InlineData("""{"model":"instruct","prompt":"a","n":2,"best_of":1}""", "best_of")]
    [InlineData("""{"model":"instruct","prompt":"a","best_of":2,"stream":true}""", "best_of")]
    [InlineData("""{"model":"instruct","prompt":"a","logprobs":6}""", "logprobs")]
    [InlineData("""{"model":"instruct","prompt":"a","stop":["1","2","3","4","5"]}""", "stop")]
    [InlineData("""{"model":"instruct","prompt":"a","temperature":3}""", "temperature")]
    [InlineData("""{"prompt":"a"}""", "model")]
    public async Task Invalid_requests_are_400_before_any_call(string body, string param)
    {
        using var response = await PostAsync(body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(param, (await JsonOf(response)).GetProperty("error").GetProperty("param").GetString());
        Assert.Empty(_text.Requests);
    }

    [Fact]
    public async Task Token_prompts_to_a_chat_only_provider_are_refused()
    {
        using var response = await PostAsync("""{"model":"haiku","prompt":[1,2,3]}""");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("prompt", (await JsonOf(response)).GetProperty("error").GetProperty("param").GetString());
        Assert.Empty(_anthropic.Requests);
    }

    [Fact]
    public async Task A_text_completion_only_provider_refuses_chat_naming_the_mode()
    {
        using var response = await _gateway.Http.PostAsync("/v1/chat/completions", new StringContent("""{"model":"text-openai","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("does not support chat", (await JsonOf(response)).GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(_text.Requests);
    }

    [Fact]
    public async Task Upstream_error_keeps_its_status_and_message()
    {
        _text.Scripts.Enqueue(new TextCompletionScript { ErrorStatus = 429, ErrorBody = """{"error":{"message":"Rate limit reached for gpt-3.5-turbo-instruct","type":"requests","param":null,"code":"rate_limit_exceeded"}}""" });
        using var response = await PostAsync("""{"model":"instruct","prompt":"x"}""");
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Contains("Rate limit reached", (await JsonOf(response)).GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }
}
