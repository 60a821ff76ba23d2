using System.ClientModel;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Host;
using LLMux.Pipeline.Context;
using LLMux.Providers.Snowflake;
using LLMux.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using OpenAI.Chat;
using ChatRequest = LLMux.Pipeline.Wire.ChatRequest;

namespace LLMux.Tests.ProviderRows;

/// <summary>
/// The OpenAI SDK → LLMux → the Cortex REST API emulator: a key-pair JWT LLMux signs (verified as Snowflake does), a
/// PAT, tools as tool_spec, the SSE stream; and the stream translator at every byte split.
/// </summary>
public sealed class SnowflakeCortexTests : IAsyncLifetime
{
    private const string Model = "claude-3-5-sonnet";
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly RSA _key = RSA.Create(2048);
    private string _keyFile = null!;
    private SnowflakeCortexEmulator _upstream = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _keyFile = Path.Combine(Path.GetTempPath(), "llmux-sf-" + Guid.NewGuid().ToString("N") + ".p8");
        await File.WriteAllTextAsync(_keyFile, _key.ExportPkcs8PrivateKeyPem());
        _upstream = await SnowflakeCortexEmulator.StartNewAsync();
        _upstream.PublicKey = _key.ExportSubjectPublicKeyInfo();
        _upstream.KeyPairSubject = "MYORG-ACCT1.ANALYST";
        _upstream.Now = _time.GetUtcNow;
        _upstream.Pats["pat-secret-1"] = true;
        _gateway = await GatewayHost.StartAsync(TestApp.Build(new LlmuxHostOptions { Port = 0, TimeProvider = _time, ConfigYaml = $"""
            router_settings:
              num_retries: 0
            model_list:
              - model_name: sf
                litellm_params:
                  model: snowflake/{Model}
                  api_base: {_upstream.AccountUrl}
                  account_id: myorg-acct1
                  snowflake_user: analyst
                  snowflake_private_key_path: {_keyFile}
              - model_name: sf-pat
                litellm_params:
                  model: snowflake/{Model}
                  api_base: {_upstream.AccountUrl}/api/v2
                  api_key: pat/pat-secret-1
              - model_name: sf-none
                litellm_params:
                  model: snowflake/{Model}
                  api_base: {_upstream.AccountUrl}
            """ }));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        File.Delete(_keyFile);
        _key.Dispose();
    }

    private ChatClient Chat(string model = "sf") => _gateway.OpenAI().GetChatClient(model);

    private List<RecordedRequest> Take()
    {
        var all = _upstream.Requests.ToList();
        _upstream.Requests.Clear();
        return all;
    }

    [Fact]
    public async Task Chat_is_signed_with_a_key_pair_jwt_snowflake_accepts()
    {
        _upstream.Enqueue(new CortexScript { Content = "Bonjour.", PromptTokens = 12, CompletionTokens = 3 });
        ChatCompletion completion = await Chat().CompleteChatAsync([new SystemChatMessage("be brief"), new UserChatMessage("hello")],
            new ChatCompletionOptions { Temperature = 0.3f, MaxOutputTokenCount = 64 });
        Assert.Equal("Bonjour.", completion.Content[0].Text);
        Assert.Equal(12, completion.Usage.InputTokenCount);
        var sent = Assert.Single(Take());
        Assert.Equal("/api/v2/cortex/inference:complete", sent.Path);
        Assert.Equal("KEYPAIR_JWT", sent.Headers["x-snowflake-authorization-token-type"]);
        using var body = sent.Json();
        Assert.Equal(Model, body.RootElement.GetProperty("model").GetString());
        Assert.False(body.RootElement.GetProperty("stream").GetBoolean());
        Assert.Equal(64, body.RootElement.GetProperty("max_tokens").GetInt32());
    }

    [Fact]
    public async Task The_jwt_is_kept_until_a_minute_before_its_hour_ends_then_signed_again()
    {
        await Chat().CompleteChatAsync([new UserChatMessage("one")]);
        var first = Take()[0].Headers["authorization"];
        _time.Advance(TimeSpan.FromMinutes(58));
        await Chat().CompleteChatAsync([new UserChatMessage("two")]);
        Assert.Equal(first, Take()[0].Headers["authorization"]);
        _time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        ChatCompletion third = await Chat().CompleteChatAsync([new UserChatMessage("three")]);
        Assert.Equal("Hello from Cortex.", third.Content[0].Text);
        Assert.NotEqual(first, Take()[0].Headers["authorization"]);
    }

    [Fact]
    public async Task A_pat_api_key_is_sent_as_a_programmatic_access_token()
    {
        await Chat("sf-pat").CompleteChatAsync([new UserChatMessage("hi")]);
        var sent = Assert.Single(Take());
        Assert.Equal("Bearer pat-secret-1", sent.Headers["authorization"]);
        Assert.Equal("PROGRAMMATIC_ACCESS_TOKEN", sent.Headers["x-snowflake-authorization-token-type"]);
        Assert.Equal("/api/v2/cortex/inference:complete", sent.Path);
    }

    [Fact]
    public async Task No_credentials_is_a_401_naming_the_settings_before_any_call()
    {
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Chat("sf-none").CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(401, ex.Status);
        Assert.Contains("snowflake_private_key", ex.Message);
        Assert.Empty(Take());
    }

    [Fact]
    public async Task Stream_reaches_the_sdk_with_usage()
    {
        _upstream.Enqueue(new CortexScript { Content = "Streaming from Cortex, é and ü.", Chunks = 4, PromptTokens = 8, CompletionTokens = 5 });
        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        await foreach (var update in Chat().CompleteChatStreamingAsync([new UserChatMessage("hello")]))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            usage ??= update.Usage;
            finish ??= update.FinishReason;
        }
        Assert.Equal("Streaming from Cortex, é and ü.", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.Equal(8, usage!.InputTokenCount);
        using var body = Take()[0].Json();
        Assert.True(body.RootElement.GetProperty("stream").GetBoolean());
    }

    [Fact]
    public async Task Tools_go_as_tool_spec_and_the_tool_use_comes_back_as_a_tool_call()
    {
        _upstream.Enqueue(new CortexScript { ToolName = "get_weather", ToolInput = """{"city":"Paris"}""" });
        var options = new ChatCompletionOptions { ToolChoice = ChatToolChoice.CreateFunctionChoice("get_weather") };
        options.Tools.Add(ChatTool.CreateFunctionTool("get_weather", "Weather by city", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}}}""")));
        ChatCompletion completion = await Chat().CompleteChatAsync([new UserChatMessage("weather?")], options);
        Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
        var call = Assert.Single(completion.ToolCalls);
        Assert.Equal("tooluse_Q1", call.Id);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal("""{"city":"Paris"}""", call.FunctionArguments.ToString());
        using var body = Take()[0].Json();
        var spec = body.RootElement.GetProperty("tools")[0].GetProperty("tool_spec");
        Assert.Equal("generic", spec.GetProperty("type").GetString());
        Assert.Equal("string", spec.GetProperty("input_schema").GetProperty("properties").GetProperty("city").GetProperty("type").GetString());
        Assert.Equal("""{"type":"tool","name":["get_weather"]}""", body.RootElement.GetProperty("tool_choice").GetRawText());
    }

    [Fact]
    public async Task A_tool_result_goes_back_as_a_tool_results_item_naming_its_tool()
    {
        ChatMessage[] messages =
        [
            new UserChatMessage("weather?"),
            new AssistantChatMessage([ChatToolCall.CreateFunctionToolCall("tooluse_Q1", "get_weather", BinaryData.FromString("""{"city":"Paris"}"""))]),
            new ToolChatMessage("tooluse_Q1", "18C and sunny"),
        ];
        await Chat().CompleteChatAsync(messages);
        using var body = Take()[0].Json();
        var list = body.RootElement.GetProperty("messages");
        Assert.Equal("""{"city":"Paris"}""", list[1].GetProperty("content_list")[0].GetProperty("tool_use").GetProperty("input").GetRawText());
        var result = list[2].GetProperty("content_list")[0].GetProperty("tool_results");
        Assert.Equal("user", list[2].GetProperty("role").GetString());
        Assert.Equal("get_weather", result.GetProperty("name").GetString());
        Assert.Equal("18C and sunny", result.GetProperty("content")[0].GetProperty("text").GetString());
    }

    [Theory]
    [InlineData(429, "Too many requests: the usage quota is exhausted", 429)]
    [InlineData(400, "max tokens of 8192 exceeded by the prompt", 400)]
    [InlineData(404, "unknown model \"nope\"", 404)]
    public async Task Cortex_errors_keep_their_status_and_message(int status, string message, int expected)
    {
        _upstream.Enqueue(new CortexScript { ErrorStatus = status, ErrorMessage = message });
        using var response = await _gateway.Http.PostAsync("/v1/chat/completions", new StringContent("""{"model":"sf-pat","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(expected, (int)response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains(message, doc.RootElement.GetProperty("error").GetProperty("message").GetString());
        Take();
    }

    // ---- the translator alone ----

    private static string Translate(byte[] data, IReadOnlyList<int> cuts)
    {
        using var translator = new SnowflakeStreamTranslator(new LlmContext
        {
            TimeProvider = new FakeTimeProvider(new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero)),
            Chat = new ChatRequest { Stream = true, StreamOptions = new LLMux.Pipeline.Wire.StreamOptions { IncludeUsage = true } },
            IsStream = true,
        });
        return TranslatorFeed.Run(translator, data, cuts);
    }

    private static string Normalize(string sse) => System.Text.RegularExpressions.Regex.Replace(sse, "chatcmpl-[0-9a-f]{32}", "chatcmpl-x");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Stream_output_is_identical_at_every_split_position(bool tool)
    {
        var script = tool ? new CortexScript { ToolName = "lookup", ToolInput = """{"q":"Köln","n":3}""", Chunks = 4 } : new CortexScript { Content = "Grüße aus Köln — 東京.", Chunks = 5 };
        var data = Encoding.UTF8.GetBytes(SnowflakeCortexEmulator.StreamText(script, Model));
        var whole = Normalize(Translate(data, []));
        Assert.EndsWith("data: [DONE]\n\n", whole);
        Assert.Contains(tool ? "\"finish_reason\":\"tool_calls\"" : "\"finish_reason\":\"stop\"", whole);
        for (var cut = 1; cut < data.Length; cut++)
            Assert.Equal(whole, Normalize(Translate(data, [cut])));
    }

    [Fact]
    public void A_stream_cut_inside_a_frame_is_an_error_never_a_clean_end()
    {
        var data = Encoding.UTF8.GetBytes(SnowflakeCortexEmulator.StreamText(new CortexScript(), Model));
        Assert.ThrowsAny<Exception>(() => Translate(data[..^10], []));
    }
}
