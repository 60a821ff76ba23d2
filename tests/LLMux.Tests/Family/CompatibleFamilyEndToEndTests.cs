using System.Net;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using OpenAI.Chat;

namespace LLMux.Tests.Family;

/// <summary>The OpenAI SDK → LLMux → the OpenAI emulator standing in for each OpenAI-compatible provider.</summary>
public sealed class CompatibleFamilyEndToEndTests(CompatibleFamilyFixture fixture) : IClassFixture<CompatibleFamilyFixture>
{
    private OpenAIEmulator Upstream => fixture.Upstream;

    private RecordedRequest TakeSingle()
    {
        var sent = Assert.Single(Upstream.Requests);
        Upstream.Requests.Clear();
        return sent;
    }

    private static void AssertReached(FamilyCase c, RecordedRequest sent, string path)
    {
        Assert.Equal(path, sent.Path);
        Assert.Equal(c.Query ?? "", sent.Query);
        Assert.Equal(c.AuthValue, sent.Headers[c.AuthHeader]);
        if (c.AuthHeader != "authorization") Assert.False(sent.Headers.ContainsKey("authorization"), "only the provider's own auth header is sent");
    }

    [Theory]
    [MemberData(nameof(CompatibleFamilyFixture.All), MemberType = typeof(CompatibleFamilyFixture))]
    public async Task Chat_reaches_the_providers_url_with_its_auth_header_and_upstream_model(FamilyCase c)
    {
        Upstream.Requests.Clear();
        Upstream.Enqueue(new OpenAIScript { Content = "Hi from " + c.Provider });
        ChatCompletion completion = await fixture.Gateway.OpenAI().GetChatClient(c.Provider + "-chat").CompleteChatAsync([new UserChatMessage("hello")]);

        Assert.Equal("Hi from " + c.Provider, completion.Content[0].Text);
        Assert.Equal(11, completion.Usage.InputTokenCount);
        var sent = TakeSingle();
        AssertReached(c, sent, c.ChatPath);
        using var body = sent.Json();
        Assert.Equal(c.UpstreamModel, body.RootElement.GetProperty("model").GetString());
        Assert.Equal("hello", body.RootElement.GetProperty("messages")[0].GetProperty("content").GetString());
        if (c.Provider == "ollama") Assert.False(body.RootElement.GetProperty("stream").GetBoolean(), "Ollama is told stream: false explicitly");
        else Assert.False(body.RootElement.TryGetProperty("stream", out _), "no stream field added for " + c.Provider);
    }

    [Theory]
    [MemberData(nameof(CompatibleFamilyFixture.All), MemberType = typeof(CompatibleFamilyFixture))]
    public async Task Chat_stream_passes_through_in_order_with_usage(FamilyCase c)
    {
        Upstream.Requests.Clear();
        Upstream.Enqueue(new OpenAIScript { Content = "Streaming from " + c.Provider, Chunks = 5 });
        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in fixture.Gateway.OpenAI().GetChatClient(c.Provider + "-chat").CompleteChatStreamingAsync([new UserChatMessage("hello")]))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }
        Assert.Equal("Streaming from " + c.Provider, text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        var sent = TakeSingle();
        AssertReached(c, sent, c.ChatPath);
        using var body = sent.Json();
        Assert.True(body.RootElement.GetProperty("stream").GetBoolean());
        Assert.Equal(c.UpstreamModel, body.RootElement.GetProperty("model").GetString());
        var spec = new LLMux.Providers.ProviderCatalog().Find(c.Provider)!.Spec;
        var streamOptionsSupported = spec.RuleFor(LLMux.Pipeline.Capabilities.LlmMode.Chat, "stream_options").Kind != LLMux.Pipeline.Capabilities.ParamSupportKind.Dropped;
        Assert.Equal(streamOptionsSupported, body.RootElement.TryGetProperty("stream_options", out _));
        if (streamOptionsSupported) Assert.Equal(18, usage?.TotalTokenCount);
    }

    [Theory]
    [MemberData(nameof(CompatibleFamilyFixture.WithEmbeddings), MemberType = typeof(CompatibleFamilyFixture))]
    public async Task Embeddings_reach_the_providers_embeddings_url(FamilyCase c)
    {
        Upstream.Requests.Clear();
        var result = await fixture.Gateway.OpenAI().GetEmbeddingClient(c.Provider + "-embed").GenerateEmbeddingAsync("hello");
        Assert.Equal(3, result.Value.ToFloats().Length);
        var sent = TakeSingle();
        AssertReached(c, sent, c.EmbeddingsPath!);
        using var body = sent.Json();
        Assert.Equal(c.UpstreamModel, body.RootElement.GetProperty("model").GetString());
    }

    [Theory]
    [InlineData("groq")]
    [InlineData("xai")]
    [InlineData("perplexity")]
    [InlineData("cerebras")]
    [InlineData("moonshot")]
    [InlineData("zai")]
    [InlineData("huggingface")]
    public async Task Embeddings_on_a_chat_only_provider_answer_400_without_an_upstream_call(string provider)
    {
        Upstream.Requests.Clear();
        using var response = await fixture.Gateway.Http.PostAsync("/v1/embeddings", Json($$"""{"model":"{{provider}}-chat","input":"hi"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(provider, await response.Content.ReadAsStringAsync());
        Assert.Empty(Upstream.Requests);
    }

    [Theory]
    [InlineData("mistral")]
    [InlineData("cerebras")]
    [InlineData("fireworks_ai")]
    [InlineData("sambanova")]
    [InlineData("volcengine")]
    [InlineData("nvidia_nim")]
    public async Task Max_completion_tokens_is_sent_as_max_tokens_where_the_provider_wants_it(string provider)
    {
        Upstream.Requests.Clear();
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 42 };
        await fixture.Gateway.OpenAI().GetChatClient(provider + "-chat").CompleteChatAsync([new UserChatMessage("hi")], options);
        using var body = TakeSingle().Json();
        Assert.Equal(42, body.RootElement.GetProperty("max_tokens").GetInt32());
        Assert.False(body.RootElement.TryGetProperty("max_completion_tokens", out _));
    }

    [Fact]
    public async Task Mistral_gets_tool_choice_any_and_random_seed()
    {
        Upstream.Requests.Clear();
        var payload = """{"model":"mistral-chat","messages":[{"role":"user","content":"hi"}],"seed":7,"tool_choice":"required","tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]}""";
        using var response = await fixture.Gateway.Http.PostAsync("/v1/chat/completions", Json(payload));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = TakeSingle().Json();
        Assert.Equal("any", body.RootElement.GetProperty("tool_choice").GetString());
        Assert.Equal(7, body.RootElement.GetProperty("random_seed").GetInt32());
        Assert.False(body.RootElement.TryGetProperty("seed", out _));
    }

    [Fact]
    public async Task DeepSeek_reasoning_content_reaches_the_client_in_answers_and_streams()
    {
        Upstream.Requests.Clear();
        Upstream.Enqueue(new OpenAIScript { Content = "42", ReasoningContent = "Let me think." });
        using var response = await fixture.Gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"deepseek-chat","messages":[{"role":"user","content":"q"}]}"""));
        using (var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync()))
            Assert.Equal("Let me think.", answer.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("reasoning_content").GetString());

        Upstream.Enqueue(new OpenAIScript { Content = "42", ReasoningContent = "Let me think." });
        using var stream = await fixture.Gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"deepseek-chat","messages":[{"role":"user","content":"q"}],"stream":true}"""));
        var sse = await stream.Content.ReadAsStringAsync();
        Assert.Contains("\"reasoning_content\":\"Let me think.\"", sse);
        Assert.EndsWith("data: [DONE]\n\n", sse);
        Upstream.Requests.Clear();
    }

    [Fact]
    public async Task Perplexity_citations_reach_the_client()
    {
        Upstream.Requests.Clear();
        Upstream.Enqueue(new OpenAIScript { ExtraResponseFields = "\"citations\":[\"https://example.org/a\"]" });
        using var response = await fixture.Gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"perplexity-chat","messages":[{"role":"user","content":"q"}]}"""));
        using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("https://example.org/a", answer.RootElement.GetProperty("citations")[0].GetString());
        Upstream.Requests.Clear();
    }

    [Fact]
    public async Task A_param_outside_the_providers_list_is_a_400_naming_it_and_drop_params_removes_it_with_a_warning()
    {
        Upstream.Requests.Clear();
        using var refused = await fixture.Gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"perplexity-chat","messages":[{"role":"user","content":"q"}],"logit_bias":{"1":1}}"""));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var error = await refused.Content.ReadAsStringAsync();
        Assert.Contains("logit_bias", error);
        Assert.Contains("perplexity", error);
        Assert.Contains("drop_params", error);
        Assert.Empty(Upstream.Requests);

        using var dropped = await fixture.Gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"perplexity-chat","messages":[{"role":"user","content":"q"}],"logit_bias":{"1":1},"drop_params":true}"""));
        Assert.Equal(HttpStatusCode.OK, dropped.StatusCode);
        Assert.Contains("logit_bias", dropped.Headers.GetValues("x-llmux-warnings").Single());
        var sent = TakeSingle().BodyText;
        Assert.DoesNotContain("logit_bias", sent);
        Assert.DoesNotContain("drop_params", sent);
    }

    private static StringContent Json(string s) => new(s, Encoding.UTF8, "application/json");
}
