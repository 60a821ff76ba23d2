using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Providers.Oci;
using LLMux.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using OpenAI.Chat;
using ChatRequest = LLMux.Pipeline.Wire.ChatRequest;

namespace LLMux.Tests.Oci;

/// <summary>
/// The OpenAI SDK → LLMux → the OCI Generative AI emulator, which verifies each request's RSA signature with the
/// user's public key; GENERIC and COHERE formats, streams translated at every byte split.
/// </summary>
public sealed class OciTests : IAsyncLifetime
{
    private OciEmulator _upstream = null!;
    private GatewayHost _gateway = null!;
    private string _keyFile = null!;

    public async Task InitializeAsync()
    {
        _upstream = await OciEmulator.StartNewAsync();
        _keyFile = Path.Combine(Path.GetTempPath(), $"llmux-oci-{Guid.NewGuid():N}.pem");
        await File.WriteAllTextAsync(_keyFile, _upstream.PrivateKeyPem);
        var inlineKey = _upstream.PrivateKeyPem.Replace("\n", "\\n");
        var common = $"""
                  api_base: {_upstream.ApiBase}
                  oci_tenancy: {OciEmulator.Tenancy}
                  oci_user: {OciEmulator.User}
                  oci_fingerprint: "{OciEmulator.Fingerprint}"
                  oci_compartment_id: {OciEmulator.Compartment}
                  oci_region: eu-frankfurt-1
            """;
        _gateway = await GatewayHost.StartAsync($"""
            router_settings:
              num_retries: 0
            model_list:
              - model_name: llama
                litellm_params:
                  model: oci/meta.llama-3.3-70b-instruct
            {common}
                  oci_key_file: {_keyFile}
              - model_name: command
                litellm_params:
                  model: oci/cohere.command-a-03-2025
            {common}
                  oci_key: "{inlineKey}"
              - model_name: wrong-key
                litellm_params:
                  model: oci/meta.llama-3.3-70b-instruct
            {common.Replace(OciEmulator.Fingerprint, "aa:bb:cc")}
                  oci_key_file: {_keyFile}
              - model_name: no-key
                litellm_params:
                  model: oci/meta.llama-3.3-70b-instruct
            {common}
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        File.Delete(_keyFile);
    }

    private ChatClient Chat(string model) => _gateway.OpenAI().GetChatClient(model);

    private RecordedRequest TakeSingle()
    {
        var sent = Assert.Single(_upstream.Requests);
        _upstream.Requests.Clear();
        return sent;
    }

    [Fact]
    public async Task A_generic_chat_is_signed_and_verified_with_the_users_public_key()
    {
        _upstream.Enqueue(new OciScript { Content = "Hola.", PromptTokens = 1000, CompletionTokens = 100 });
        using var response = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"llama","max_tokens":30,"temperature":0.3,"stop":["END"],"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}]}"""));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        using var answer = JsonDocument.Parse(text);
        Assert.Equal("Hola.", answer.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("stop", answer.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(1, _upstream.VerifiedSignatures);
        // 1100 tokens × 7.2e-7 from the price table's oci/meta.llama-3.3-70b-instruct.
        Assert.Equal(0.000792m, decimal.Parse(response.Headers.GetValues("x-llmux-response-cost").Single(), System.Globalization.CultureInfo.InvariantCulture));

        var sent = TakeSingle();
        Assert.Matches("""^Signature version="1",keyId="ocid1\.tenancy\.oc1\.\.aaaaemutenancy/ocid1\.user\.oc1\.\.aaaaemuuser/20:3b:[0-9a-f:]+",algorithm="rsa-sha256",headers="date \(request-target\) host content-length content-type x-content-sha256",signature="[A-Za-z0-9+/=]+"$""", sent.Headers["authorization"]);
        using var body = sent.Json();
        var root = body.RootElement;
        Assert.Equal(OciEmulator.Compartment, root.GetProperty("compartmentId").GetString());
        Assert.Equal("ON_DEMAND", root.GetProperty("servingMode").GetProperty("servingType").GetString());
        Assert.Equal("meta.llama-3.3-70b-instruct", root.GetProperty("servingMode").GetProperty("modelId").GetString());
        var chat = root.GetProperty("chatRequest");
        Assert.Equal("GENERIC", chat.GetProperty("apiFormat").GetString());
        Assert.Equal(30, chat.GetProperty("maxTokens").GetInt32());
        Assert.Equal("END", chat.GetProperty("stop")[0].GetString());
        Assert.Equal("SYSTEM", chat.GetProperty("messages")[0].GetProperty("role").GetString());
        Assert.Equal("TEXT", chat.GetProperty("messages")[1].GetProperty("content")[0].GetProperty("type").GetString());
        Assert.Equal("hi", chat.GetProperty("messages")[1].GetProperty("content")[0].GetProperty("text").GetString());
        Assert.False(chat.GetProperty("isStream").GetBoolean());
    }

    [Fact]
    public async Task Tools_go_as_function_tools_and_a_tool_call_comes_back_in_openai_shape()
    {
        _upstream.Enqueue(new OciScript { ToolCall = ("call_oci_1", "get_weather", """{"city":"Paris"}""") });
        var tool = ChatTool.CreateFunctionTool("get_weather", "Weather of a city", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"""));
        var options = new ChatCompletionOptions { Tools = { tool }, ToolChoice = ChatToolChoice.CreateRequiredChoice() };
        ChatCompletion completion = await Chat("llama").CompleteChatAsync([new UserChatMessage("weather in Paris?")], options);
        Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
        Assert.Equal("get_weather", completion.ToolCalls[0].FunctionName);
        Assert.Equal("call_oci_1", completion.ToolCalls[0].Id);
        Assert.Equal("""{"city":"Paris"}""", completion.ToolCalls[0].FunctionArguments.ToString());
        using var body = TakeSingle().Json();
        var chat = body.RootElement.GetProperty("chatRequest");
        Assert.Equal("FUNCTION", chat.GetProperty("tools")[0].GetProperty("type").GetString());
        Assert.Equal("get_weather", chat.GetProperty("tools")[0].GetProperty("name").GetString());
        Assert.Equal("REQUIRED", chat.GetProperty("toolChoice").GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_generic_stream_reaches_the_sdk_with_usage()
    {
        _upstream.Enqueue(new OciScript { Content = "Streaming from Frankfurt, ü 東京.", Chunks = 5, PromptTokens = 6, CompletionTokens = 5 });
        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in Chat("llama").CompleteChatStreamingAsync([new UserChatMessage("hello")]))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }
        Assert.Equal("Streaming from Frankfurt, ü 東京.", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.Equal(6, usage?.InputTokenCount);
        using var body = TakeSingle().Json();
        var chat = body.RootElement.GetProperty("chatRequest");
        Assert.True(chat.GetProperty("isStream").GetBoolean());
        Assert.True(chat.GetProperty("streamOptions").GetProperty("isIncludeUsage").GetBoolean());
    }

    [Fact]
    public async Task A_cohere_model_gets_the_cohere_format_with_history_and_preamble()
    {
        _upstream.Enqueue(new OciScript { Content = "Cohere says hi." });
        ChatCompletion completion = await Chat("command").CompleteChatAsync(
            [new SystemChatMessage("You are terse."), new UserChatMessage("first"), new AssistantChatMessage("ok"), new UserChatMessage("second")],
            new ChatCompletionOptions { StopSequences = { "STOP" } });
        Assert.Equal("Cohere says hi.", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        using var body = TakeSingle().Json();
        var chat = body.RootElement.GetProperty("chatRequest");
        Assert.Equal("COHERE", chat.GetProperty("apiFormat").GetString());
        Assert.Equal("second", chat.GetProperty("message").GetString());
        Assert.Equal("You are terse.", chat.GetProperty("preambleOverride").GetString());
        Assert.Equal(2, chat.GetProperty("chatHistory").GetArrayLength());
        Assert.Equal("CHATBOT", chat.GetProperty("chatHistory")[1].GetProperty("role").GetString());
        Assert.Equal("STOP", chat.GetProperty("stopSequences")[0].GetString());
        Assert.False(chat.TryGetProperty("messages", out _));
    }

    [Fact]
    public async Task A_cohere_stream_reaches_the_sdk()
    {
        _upstream.Enqueue(new OciScript { Content = "abc def ghi", Chunks = 3 });
        var text = new StringBuilder();
        await foreach (var update in Chat("command").CompleteChatStreamingAsync([new UserChatMessage("hello")]))
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
        Assert.Equal("abc def ghi", text.ToString());
        _upstream.Requests.Clear();
    }

    [Fact]
    public async Task A_signature_with_the_wrong_key_id_is_ocis_401_with_a_hint()
    {
        var ex = await Assert.ThrowsAsync<ClientResultException>(() => Chat("wrong-key").CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(401, ex.Status);
        Assert.Contains("NotAuthenticated", ex.Message);
        Assert.Contains("oci_fingerprint", ex.Message);
        Assert.Equal(0, _upstream.VerifiedSignatures);
        _upstream.Requests.Clear();
    }

    [Theory]
    [InlineData(429, "TooManyRequests", "Rate limit exceeded", 429)]
    [InlineData(404, "NotAuthorizedOrNotFound", "Authorization failed or requested resource not found.", 404)]
    [InlineData(400, "InvalidParameter", "maxTokens must be at most 4000", 400)]
    [InlineData(500, "InternalServerError", "Internal error", 500)]
    public async Task Oci_errors_keep_their_code_status_and_request_id(int status, string code, string message, int expected)
    {
        _upstream.Enqueue(new OciScript { Error = (status, code, message) });
        using var response = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"llama","messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal(expected, (int)response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = doc.RootElement.GetProperty("error");
        Assert.Contains(message, error.GetProperty("message").GetString());
        Assert.Contains(code, error.GetProperty("message").GetString());
        Assert.StartsWith("oci-req-", error.GetProperty("upstream_request_id").GetString());
        _upstream.Requests.Clear();
    }

    [Fact]
    public async Task A_deployment_without_a_key_is_a_401_naming_the_setting_and_never_reaches_oci()
    {
        using var response = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"no-key","messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("oci_key", await response.Content.ReadAsStringAsync());
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Unsupported_parameters_are_refused_unless_drop_params()
    {
        using var refused = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"llama","parallel_tool_calls":true,"messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("parallel_tool_calls", await refused.Content.ReadAsStringAsync());
        Assert.Empty(_upstream.Requests);
        using var dropped = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"llama","drop_params":true,"parallel_tool_calls":true,"messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal(HttpStatusCode.OK, dropped.StatusCode);
        Assert.Contains("parallel_tool_calls", dropped.Headers.GetValues("x-llmux-warnings").Single());
        _upstream.Requests.Clear();
    }

    [Fact]
    public void The_signing_string_is_the_six_headers_in_order()
    {
        Assert.Equal("date: Thu, 05 Jan 2014 21:31:40 GMT\n(request-target): post /20231130/actions/chat\nhost: inference.generativeai.us-ashburn-1.oci.oraclecloud.com\ncontent-length: 316\ncontent-type: application/json\nx-content-sha256: V9Z20UJTvkvpJ50flBzKE32+6m2zJjweHpDMX/U4Uy0=",
            OciRequestSigner.SigningString("Thu, 05 Jan 2014 21:31:40 GMT", "post /20231130/actions/chat", "inference.generativeai.us-ashburn-1.oci.oraclecloud.com", "316", "application/json", "V9Z20UJTvkvpJ50flBzKE32+6m2zJjweHpDMX/U4Uy0="));
    }

    // ---- the translator alone, every byte split ----

    private static string Translate(byte[] data, IReadOnlyList<int> cuts, bool includeUsage = true)
    {
        var context = new LlmContext
        {
            TimeProvider = new FakeTimeProvider(new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero)),
            Chat = new ChatRequest { Stream = true, StreamOptions = new LLMux.Pipeline.Wire.StreamOptions { IncludeUsage = includeUsage } },
            IsStream = true,
        };
        using var translator = new OciStreamTranslator(context);
        return TranslatorFeed.Run(translator, data, cuts);
    }

    private static byte[] Bytes(OciScript s, bool cohere) => Encoding.UTF8.GetBytes(string.Concat(OciEmulator.StreamEvents(s, cohere, includeUsage: true)));

    private static readonly OciScript Rich = new() { Content = "Grüße aus Köln — 東京 too.", Chunks = 6 };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Stream_output_is_identical_at_every_split_position(bool cohere)
    {
        var data = Bytes(Rich, cohere);
        var whole = Translate(data, []);
        Assert.Contains("東京", whole);
        Assert.Contains("\"finish_reason\":\"stop\"", whole);
        Assert.Contains("\"prompt_tokens\":10", whole);
        Assert.EndsWith("data: [DONE]\n\n", whole);
        for (var cut = 1; cut < data.Length; cut++)
        {
            var split = Translate(data, [cut]);
            Assert.Equal(whole, split.Replace(Id(split), Id(whole)));
        }
    }

    [Fact]
    public void A_stream_that_ends_before_its_finish_reason_is_an_error()
    {
        var ex = Assert.Throws<LlmException>(() => Translate(Bytes(Rich with { TruncateAfter = 2 }, false), []));
        Assert.Equal(ErrorKind.BadGateway, ex.Error.Kind);
    }

    /// <summary>Each translator names its chunks with a fresh id; the rest of the bytes must match.</summary>
    private static string Id(string sse)
    {
        var at = sse.IndexOf("\"id\":\"", StringComparison.Ordinal) + 6;
        return sse[at..sse.IndexOf('"', at)];
    }

    private static StringContent Json(string s) => new(s, Encoding.UTF8, "application/json");
}
