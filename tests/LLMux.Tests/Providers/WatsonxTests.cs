using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Host;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Providers.Watsonx;
using LLMux.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using OpenAI.Chat;
using ChatRequest = LLMux.Pipeline.Wire.ChatRequest;

namespace LLMux.Tests.ProviderRows;

/// <summary>
/// The OpenAI SDK → LLMux → the watsonx.ai emulator (with IBM Cloud IAM beside it): the API key exchanged for a
/// token that is kept on the TimeProvider, chat, streams, tools, deployments, embeddings and IBM's errors; and the
/// stream translator fed the emulator's bytes split at every position.
/// </summary>
public sealed class WatsonxTests : IAsyncLifetime
{
    private const string ApiKey = "wx-api-key-1";
    private const string Model = "ibm/granite-3-8b-instruct";
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero));
    private WatsonxEmulator _upstream = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await WatsonxEmulator.StartNewAsync();
        _upstream.ApiKeys[ApiKey] = true;
        _upstream.StaticTokens["cpd-token-1"] = true;
        _gateway = await GatewayHost.StartAsync(TestApp.Build(new LlmuxHostOptions { Port = 0, TimeProvider = _time, ConfigYaml = $"""
            router_settings:
              num_retries: 0
            environment_variables:
              WATSONX_IAM_URL: {_upstream.IamUrl}
            model_list:
              - model_name: wx
                litellm_params:
                  model: watsonx/{Model}
                  api_base: {_upstream.Url}
                  api_key: {ApiKey}
                  project_id: proj-1
              - model_name: wx-space
                litellm_params:
                  model: watsonx/{Model}
                  api_base: {_upstream.Url}
                  api_key: {ApiKey}
                  space_id: space-9
                  api_version: 2025-02-11
              - model_name: wx-deployed
                litellm_params:
                  model: watsonx/deployment/dep-42
                  api_base: {_upstream.Url}
                  api_key: {ApiKey}
              - model_name: wx-token
                litellm_params:
                  model: watsonx/{Model}
                  api_base: {_upstream.Url}
                  token: cpd-token-1
                  project_id: proj-1
              - model_name: wx-bad-key
                litellm_params:
                  model: watsonx/{Model}
                  api_base: {_upstream.Url}
                  api_key: not-a-key
                  project_id: proj-1
              - model_name: wx-no-project
                litellm_params:
                  model: watsonx/{Model}
                  api_base: {_upstream.Url}
                  api_key: {ApiKey}
              - model_name: wx-embed
                litellm_params:
                  model: watsonx/ibm/slate-30m-english-rtrvr
                  api_base: {_upstream.Url}
                  api_key: {ApiKey}
                  project_id: proj-1
            """ }));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private ChatClient Chat(string model = "wx") => _gateway.OpenAI().GetChatClient(model);

    private List<RecordedRequest> Take()
    {
        var all = _upstream.Requests.ToList();
        _upstream.Requests.Clear();
        return all;
    }

    [Fact]
    public async Task Chat_exchanges_the_api_key_at_iam_and_sends_a_text_chat_body()
    {
        _upstream.Enqueue(new WatsonxScript { Content = "Bonjour.", PromptTokens = 12, CompletionTokens = 3 });
        ChatCompletion completion = await Chat().CompleteChatAsync([new SystemChatMessage("be brief"), new UserChatMessage("hello")],
            new ChatCompletionOptions { Temperature = 0.2f, MaxOutputTokenCount = 50, StopSequences = { "END" } });

        Assert.Equal("Bonjour.", completion.Content[0].Text);
        Assert.Equal(12, completion.Usage.InputTokenCount);
        Assert.Equal(3, completion.Usage.OutputTokenCount);
        Assert.Equal(Model, completion.Model);
        var sent = Take();
        Assert.Equal(2, sent.Count);
        Assert.Equal("/identity/token", sent[0].Path);
        Assert.Equal("grant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey&apikey=" + ApiKey, sent[0].BodyText);
        Assert.Equal("/ml/v1/text/chat", sent[1].Path);
        Assert.Equal("?version=2024-03-13", sent[1].Query);
        Assert.Equal("Bearer eyJraWQiOiJ3eC1lbXUifQ.iam-token-1", sent[1].Headers["authorization"]);
        using var body = sent[1].Json();
        var root = body.RootElement;
        Assert.Equal(Model, root.GetProperty("model_id").GetString());
        Assert.Equal("proj-1", root.GetProperty("project_id").GetString());
        Assert.False(root.TryGetProperty("space_id", out _));
        Assert.Equal("system", root.GetProperty("messages")[0].GetProperty("role").GetString());
        Assert.Equal(0.2, root.GetProperty("temperature").GetDouble(), 3);
        Assert.Equal(50, root.GetProperty("max_tokens").GetInt32());
        Assert.Equal("END", root.GetProperty("stop")[0].GetString());
    }

    [Fact]
    public async Task The_answer_is_priced_from_the_price_tables_watsonx_entry()
    {
        _upstream.Enqueue(new WatsonxScript { PromptTokens = 1000, CompletionTokens = 500 });
        using var response = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"wx","messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // watsonx/ibm/granite-3-8b-instruct: 2e-7 per input and per output token.
        Assert.Equal(0.0003m, decimal.Parse(response.Headers.GetValues("x-llmux-response-cost").Single(), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("watsonx", response.Headers.GetValues("x-llmux-provider").Single());
        Take();
    }

    [Fact]
    public async Task The_iam_token_is_kept_until_a_minute_before_it_expires()
    {
        await Chat().CompleteChatAsync([new UserChatMessage("one")]);
        await Chat().CompleteChatAsync([new UserChatMessage("two")]);
        Assert.Equal(1, _upstream.TokensIssued);

        _time.Advance(TimeSpan.FromMinutes(58) + TimeSpan.FromSeconds(59));
        await Chat().CompleteChatAsync([new UserChatMessage("three")]);
        Assert.Equal(1, _upstream.TokensIssued);

        _time.Advance(TimeSpan.FromSeconds(2));
        await Chat().CompleteChatAsync([new UserChatMessage("four")]);
        Assert.Equal(2, _upstream.TokensIssued);
        var last = Take()[^1];
        Assert.Equal("Bearer eyJraWQiOiJ3eC1lbXUifQ.iam-token-2", last.Headers["authorization"]);
    }

    [Fact]
    public async Task A_token_the_api_refuses_is_exchanged_again_once()
    {
        await Chat().CompleteChatAsync([new UserChatMessage("one")]);
        _upstream.RevokeIssuedTokens();
        Take();
        ChatCompletion completion = await Chat().CompleteChatAsync([new UserChatMessage("two")]);
        Assert.Equal("Hello from watsonx.", completion.Content[0].Text);
        var sent = Take();
        Assert.Equal(["/ml/v1/text/chat", "/identity/token", "/ml/v1/text/chat"], sent.Select(static r => r.Path));
        Assert.Equal(2, _upstream.TokensIssued);
    }

    [Fact]
    public async Task A_token_given_directly_skips_iam()
    {
        await Chat("wx-token").CompleteChatAsync([new UserChatMessage("hi")]);
        var sent = Assert.Single(Take());
        Assert.Equal("Bearer cpd-token-1", sent.Headers["authorization"]);
        Assert.Equal(0, _upstream.TokensIssued);
    }

    [Fact]
    public async Task A_space_id_and_api_version_are_used_when_configured()
    {
        await Chat("wx-space").CompleteChatAsync([new UserChatMessage("hi")]);
        var sent = Take()[^1];
        Assert.Equal("?version=2025-02-11", sent.Query);
        using var body = sent.Json();
        Assert.Equal("space-9", body.RootElement.GetProperty("space_id").GetString());
        Assert.False(body.RootElement.TryGetProperty("project_id", out _));
    }

    [Fact]
    public async Task A_deployment_model_goes_to_its_deployment_route_without_model_or_project()
    {
        ChatCompletion completion = await Chat("wx-deployed").CompleteChatAsync([new UserChatMessage("hi")]);
        Assert.Equal("Hello from watsonx.", completion.Content[0].Text);
        var sent = Take()[^1];
        Assert.Equal("/ml/v1/deployments/dep-42/text/chat", sent.Path);
        using var body = sent.Json();
        Assert.False(body.RootElement.TryGetProperty("model_id", out _));
        Assert.False(body.RootElement.TryGetProperty("project_id", out _));
    }

    [Fact]
    public async Task Stream_reaches_the_sdk_as_openai_chunks_with_usage()
    {
        _upstream.Enqueue(new WatsonxScript { Content = "Streaming from watsonx, é and ü too.", Chunks = 5, PromptTokens = 7, CompletionTokens = 9 });
        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in Chat().CompleteChatStreamingAsync([new UserChatMessage("hello")]))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }
        Assert.Equal("Streaming from watsonx, é and ü too.", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.Equal(7, usage!.InputTokenCount);
        Assert.Equal(9, usage.OutputTokenCount);
        var sent = Take()[^1];
        Assert.Equal("/ml/v1/text/chat_stream", sent.Path);
        Assert.Equal("text/event-stream", sent.Headers["accept"]);
    }

    [Fact]
    public async Task Tools_are_sent_without_strict_and_the_call_comes_back_to_the_sdk()
    {
        _upstream.Enqueue(new WatsonxScript { ToolName = "get_weather", ToolArguments = """{"city":"Paris"}""" });
        var options = new ChatCompletionOptions { ToolChoice = ChatToolChoice.CreateRequiredChoice() };
        options.Tools.Add(ChatTool.CreateFunctionTool("get_weather", "Weather by city",
            BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"},"strict":{"type":"boolean"}},"required":["city"],"additionalProperties":false}"""), functionSchemaIsStrict: true));
        ChatCompletion completion = await Chat().CompleteChatAsync([new UserChatMessage("weather?")], options);

        Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
        var call = Assert.Single(completion.ToolCalls);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal("""{"city":"Paris"}""", call.FunctionArguments.ToString());
        using var body = Take()[^1].Json();
        var root = body.RootElement;
        Assert.Equal("required", root.GetProperty("tool_choice_option").GetString());
        Assert.False(root.TryGetProperty("tool_choice", out _));
        var function = root.GetProperty("tools")[0].GetProperty("function");
        Assert.False(function.TryGetProperty("strict", out _));
        var parameters = function.GetProperty("parameters");
        Assert.False(parameters.TryGetProperty("additionalProperties", out _));
        Assert.True(parameters.GetProperty("properties").TryGetProperty("strict", out _));
    }

    [Fact]
    public async Task A_streamed_tool_call_arrives_whole()
    {
        _upstream.Enqueue(new WatsonxScript { ToolName = "get_weather", ToolArguments = """{"city":"Paris","unit":"celsius"}""", Chunks = 4 });
        var options = new ChatCompletionOptions();
        options.Tools.Add(ChatTool.CreateFunctionTool("get_weather", "Weather by city", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}}}""")));
        var args = new StringBuilder();
        string? name = null;
        ChatFinishReason? finish = null;
        await foreach (var update in Chat().CompleteChatStreamingAsync([new UserChatMessage("weather?")], options))
        {
            foreach (var tool in update.ToolCallUpdates)
            {
                name ??= tool.FunctionName;
                if (tool.FunctionArgumentsUpdate is { } a) args.Append(a.ToString());
            }
            finish ??= update.FinishReason;
        }
        Assert.Equal("get_weather", name);
        Assert.Equal("""{"city":"Paris","unit":"celsius"}""", args.ToString());
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        Take();
    }

    [Fact]
    public async Task Embeddings_go_to_text_embeddings_and_come_back_in_the_sdks_base64_form()
    {
        var result = await _gateway.OpenAI().GetEmbeddingClient("wx-embed").GenerateEmbeddingsAsync(["alpha", "beta"]);
        Assert.Equal(2, result.Value.Count);
        Assert.Equal(WatsonxEmulator.Vector(1), result.Value[1].ToFloats().ToArray());
        Assert.Equal(6, result.Value.Usage.InputTokenCount);
        var sent = Take()[^1];
        Assert.Equal("/ml/v1/text/embeddings", sent.Path);
        using var body = sent.Json();
        Assert.Equal("ibm/slate-30m-english-rtrvr", body.RootElement.GetProperty("model_id").GetString());
        Assert.Equal("beta", body.RootElement.GetProperty("inputs")[1].GetString());
    }

    [Theory]
    [InlineData(400, "invalid_input_argument", "The number of input tokens 9000 exceeds the maximum sequence length of 8192", 400, "context window")]
    [InlineData(429, "token_quota_reached", "You have reached the token quota of your plan", 429, "token quota")]
    [InlineData(404, "model_not_supported", "Model 'ibm/nope' is not supported", 404, "check the model id")]
    [InlineData(403, "authorization_rejected", "Access to the project was rejected", 403, "project_id / space_id")]
    [InlineData(500, "internal_error", "Something went wrong", 500, "Something went wrong")]
    public async Task Ibm_errors_map_to_litellms_status(int status, string code, string message, int expected, string text)
    {
        _upstream.Enqueue(new WatsonxScript { ErrorStatus = status, ErrorCode = code, ErrorMessage = message });
        using var response = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"wx","messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal(expected, (int)response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = doc.RootElement.GetProperty("error");
        Assert.Contains(text, error.GetProperty("message").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());
        Take();
    }

    [Fact]
    public async Task A_key_iam_refuses_is_a_401_naming_the_setting_and_never_reaches_the_api()
    {
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Chat("wx-bad-key").CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(401, ex.Status);
        Assert.Contains("Provided API key could not be found", ex.Message);
        Assert.Contains("api_key", ex.Message);
        Assert.DoesNotContain("not-a-key", ex.Message);
        Assert.Equal(["/identity/token"], Take().Select(static r => r.Path));
    }

    [Fact]
    public async Task A_model_without_project_or_space_is_refused_before_any_call()
    {
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Chat("wx-no-project").CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(401, ex.Status);
        Assert.Contains("project_id", ex.Message);
        Assert.Empty(Take());
    }

    [Fact]
    public async Task A_stream_error_event_after_content_is_a_final_error_frame()
    {
        _upstream.Enqueue(new WatsonxScript { Content = "abcdefghijkl", Chunks = 4, StreamErrorAfter = 3 });
        using var response = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"wx","stream":true,"messages":[{"role":"user","content":"hi"}]}"""));
        var sse = await TranslatorFeed.ReadToEndOrAbortAsync(response);
        Assert.Contains("\"content\":\"abc\"", sse);
        Assert.Contains("the model stopped generating", sse);
        Assert.DoesNotContain("[DONE]", sse);
        Take();
    }

    [Fact]
    public async Task Unsupported_parameters_are_refused_or_dropped_as_the_table_says()
    {
        using var refused = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"wx","logit_bias":{"1":2},"messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("logit_bias", await refused.Content.ReadAsStringAsync());
        Assert.Empty(Take());

        using var dropped = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"wx","logit_bias":{"1":2},"drop_params":true,"messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal(HttpStatusCode.OK, dropped.StatusCode);
        Assert.Contains("logit_bias", string.Join(",", dropped.Headers.GetValues("x-llmux-warnings")));
        using var body = Take()[^1].Json();
        Assert.False(body.RootElement.TryGetProperty("logit_bias", out _));
    }

    // ---- the translator alone, fed the emulator's bytes ----

    private static LlmContext StreamContext(bool includeUsage = true) => new()
    {
        TimeProvider = new FakeTimeProvider(new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero)),
        Chat = new ChatRequest { Stream = true, StreamOptions = includeUsage ? new LLMux.Pipeline.Wire.StreamOptions { IncludeUsage = true } : null },
        IsStream = true,
    };

    private static string Translate(byte[] data, IReadOnlyList<int> cuts)
    {
        using var translator = new WatsonxStreamTranslator(StreamContext());
        return TranslatorFeed.Run(translator, data, cuts);
    }

    private static readonly WatsonxScript Rich = new() { Content = "Grüße aus Köln — 東京 too.", Chunks = 6 };
    private static readonly WatsonxScript Tool = new() { ToolName = "lookup", ToolArguments = """{"q":"Köln","n":3}""", Chunks = 5 };

    private static byte[] Bytes(WatsonxScript s) => Encoding.UTF8.GetBytes(WatsonxEmulator.StreamText(s, Model));

    [Fact]
    public void The_client_gets_the_text_the_finish_reason_usage_and_done()
    {
        var sse = Translate(Bytes(Rich), []);
        var text = new StringBuilder();
        foreach (var frame in sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            if (frame == "data: [DONE]") continue;
            using var doc = JsonDocument.Parse(frame["data: ".Length..]);
            foreach (var choice in doc.RootElement.GetProperty("choices").EnumerateArray())
                if (choice.GetProperty("delta").TryGetProperty("content", out var c)) text.Append(c.GetString());
        }
        Assert.Equal(Rich.Content, text.ToString());
        Assert.Contains("\"finish_reason\":\"stop\"", sse);
        Assert.Contains("\"prompt_tokens\":11", sse);
        Assert.EndsWith("data: [DONE]\n\n", sse);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Stream_output_is_identical_at_every_split_position(bool tool)
    {
        var data = Bytes(tool ? Tool : Rich);
        var whole = Normalize(Translate(data, []));
        for (var cut = 1; cut < data.Length; cut++)
            Assert.Equal(whole, Normalize(Translate(data, [cut])));
    }

    [Fact]
    public void Stream_output_survives_a_one_byte_trickle()
    {
        var data = Bytes(Tool);
        Assert.Equal(Normalize(Translate(data, [])), Normalize(Translate(data, Enumerable.Range(1, data.Length - 1).ToArray())));
    }

    [Fact]
    public void A_stream_that_stops_before_its_finish_event_is_an_error()
    {
        var ex = Assert.Throws<LlmException>(() => Translate(Bytes(Rich with { TruncateAfter = 3 }), []));
        Assert.Equal(ErrorKind.BadGateway, ex.Error.Kind);
    }

    [Fact]
    public void An_error_event_is_an_error_with_ibms_message()
    {
        var ex = Assert.Throws<LlmException>(() => Translate(Bytes(Rich with { StreamErrorAfter = 2 }), []));
        Assert.Equal(ErrorKind.ServerError, ex.Error.Kind);
        Assert.Contains("the model stopped generating", ex.Error.Message);
    }

    /// <summary>Chunk ids and synthesised tool ids differ per translator; everything else must match.</summary>
    private static string Normalize(string sse) => System.Text.RegularExpressions.Regex.Replace(sse, "chatcmpl-[0-9a-f]{32}", "chatcmpl-x");

    private static StringContent Json(string s) => new(s, Encoding.UTF8, "application/json");
}
