using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;
using OpenAI.Chat;
using OpenAI.Embeddings;

namespace LLMux.Tests.Gemini;

/// <summary>The OpenAI SDK talks to LLMux, which talks to the Gemini emulator as Vertex AI with a service account.</summary>
public sealed class VertexEndToEndTests : IAsyncLifetime
{
    private GeminiEmulator _upstream = null!;
    private GatewayHost _gateway = null!;
    private string _credentialsFile = null!;

    public async Task InitializeAsync()
    {
        _upstream = await GeminiEmulator.StartNewAsync();
        _credentialsFile = Path.Combine(Path.GetTempPath(), $"llmux-vertex-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(_credentialsFile, _upstream.ServiceAccountJson);
        var inline = _upstream.ServiceAccountJson;
        var forged = JsonNode.Parse(inline)!;
        using (var other = RSA.Create(2048)) forged["private_key"] = other.ExportPkcs8PrivateKeyPem();
        _gateway = await GatewayHost.StartAsync($"""
            router_settings:
              num_retries: 0
            model_list:
              - model_name: vertex-flash
                litellm_params:
                  model: vertex_ai/gemini-2.5-flash
                  api_base: {_upstream.VertexApiBase("gemini-2.5-flash")}
                  vertex_credentials: {_credentialsFile}
              - model_name: vertex-inline
                litellm_params:
                  model: vertex_ai/gemini-2.5-flash
                  api_base: {_upstream.VertexApiBase("gemini-2.5-flash")}
                  vertex_credentials: '{inline}'
              - model_name: vertex-forged
                litellm_params:
                  model: vertex_ai/gemini-2.5-flash
                  api_base: {_upstream.VertexApiBase("gemini-2.5-flash")}
                  vertex_credentials: '{forged.ToJsonString()}'
              - model_name: vertex-missing-file
                litellm_params:
                  model: vertex_ai/gemini-2.5-flash
                  api_base: {_upstream.VertexApiBase("gemini-2.5-flash")}
                  vertex_credentials: /nonexistent/llmux/key.json
              - model_name: vertex-nocreds
                litellm_params:
                  model: vertex_ai/gemini-2.5-flash
                  api_base: {_upstream.VertexApiBase("gemini-2.5-flash")}
              - model_name: vertex-embed
                litellm_params:
                  model: vertex_ai/text-embedding-005
                  api_base: {_upstream.VertexApiBase("text-embedding-005")}
                  vertex_credentials: {_credentialsFile}
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        File.Delete(_credentialsFile);
    }

    private ChatClient Chat(string model = "vertex-flash") => _gateway.OpenAI().GetChatClient(model);

    [Fact]
    public async Task The_access_token_is_fetched_once_with_a_signed_jwt_and_reused()
    {
        ChatCompletion first = await Chat().CompleteChatAsync([new UserChatMessage("one")]);
        ChatCompletion second = await Chat().CompleteChatAsync([new UserChatMessage("two")]);
        Assert.Equal("Hello from Gemini.", first.Content[0].Text);
        Assert.Equal("Hello from Gemini.", second.Content[0].Text);

        Assert.Equal(1, _upstream.TokensIssued);
        var calls = _upstream.ModelRequests.ToList();
        Assert.Equal(2, calls.Count);
        Assert.All(calls, static c =>
        {
            Assert.Equal("/v1/projects/emu-project/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent", c.Path);
            Assert.Equal("Bearer ya29.emu-1", c.Headers["authorization"]);
            Assert.False(c.Headers.ContainsKey("x-goog-api-key"));
        });
    }

    [Fact]
    public async Task Inline_service_account_json_works_like_a_file()
    {
        ChatCompletion completion = await Chat("vertex-inline").CompleteChatAsync([new UserChatMessage("hi")]);
        Assert.Equal("Hello from Gemini.", completion.Content[0].Text);
        Assert.Equal(1, _upstream.TokensIssued);
    }

    [Fact]
    public async Task A_401_drops_the_token_fetches_a_new_one_and_retries_once()
    {
        await Chat().CompleteChatAsync([new UserChatMessage("warm up")]);
        _upstream.Enqueue(new GeminiScript { RevokeToken = true });
        _upstream.Enqueue(new GeminiScript { Text = "after refresh" });
        ChatCompletion completion = await Chat().CompleteChatAsync([new UserChatMessage("again")]);
        Assert.Equal("after refresh", completion.Content[0].Text);
        Assert.Equal(2, _upstream.TokensIssued);
        var calls = _upstream.ModelRequests.ToList();
        Assert.Equal(3, calls.Count);
        Assert.Equal("Bearer ya29.emu-1", calls[1].Headers["authorization"]);
        Assert.Equal("Bearer ya29.emu-2", calls[2].Headers["authorization"]);
        using var retried = calls[2].Json();
        Assert.Equal("again", retried.RootElement.GetProperty("contents")[0].GetProperty("parts")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task A_second_401_in_a_row_is_an_authentication_error_without_more_retries()
    {
        _upstream.Enqueue(new GeminiScript { RevokeToken = true });
        _upstream.Enqueue(new GeminiScript { RevokeToken = true });
        using var raw = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"vertex-flash","messages":[{"role":"user","content":"x"}]}"""));
        Assert.Equal(HttpStatusCode.Unauthorized, raw.StatusCode);
        Assert.Contains("vertex_credentials", await raw.Content.ReadAsStringAsync());
        Assert.Equal(2, _upstream.ModelRequests.Count());
        Assert.Equal(2, _upstream.TokensIssued);
    }

    [Fact]
    public async Task A_key_the_token_endpoint_refuses_is_an_auth_error_naming_the_setting()
    {
        using var raw = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"vertex-forged","messages":[{"role":"user","content":"x"}]}"""));
        Assert.Equal(HttpStatusCode.Unauthorized, raw.StatusCode);
        var text = await raw.Content.ReadAsStringAsync();
        Assert.Contains("vertex_credentials", text);
        Assert.Contains("Invalid JWT Signature", text);
        Assert.DoesNotContain("PRIVATE KEY", text);
        Assert.Empty(_upstream.ModelRequests);
    }

    [Fact]
    public async Task A_credentials_file_that_does_not_exist_is_an_auth_error_naming_the_file()
    {
        using var raw = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"vertex-missing-file","messages":[{"role":"user","content":"x"}]}"""));
        Assert.Equal(HttpStatusCode.Unauthorized, raw.StatusCode);
        var text = await raw.Content.ReadAsStringAsync();
        Assert.Contains("vertex_credentials", text);
        Assert.Contains("/nonexistent/llmux/key.json", text);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Missing_credentials_are_an_auth_error_naming_vertex_credentials()
    {
        if (Environment.GetEnvironmentVariable("VERTEXAI_CREDENTIALS") is not null || Environment.GetEnvironmentVariable("GOOGLE_APPLICATION_CREDENTIALS") is not null) return;
        using var raw = await _gateway.Http.PostAsync("/v1/chat/completions", Json("""{"model":"vertex-nocreds","messages":[{"role":"user","content":"x"}]}"""));
        Assert.Equal(HttpStatusCode.Unauthorized, raw.StatusCode);
        Assert.Contains("vertex_credentials", await raw.Content.ReadAsStringAsync());
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Streaming_goes_to_streamGenerateContent_with_alt_sse()
    {
        _upstream.Enqueue(new GeminiScript { Text = "streamed via vertex", Chunks = 3 });
        var text = new StringBuilder();
        await foreach (var update in Chat().CompleteChatStreamingAsync([new UserChatMessage("hi")]))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
        }
        Assert.Equal("streamed via vertex", text.ToString());
        var call = Assert.Single(_upstream.ModelRequests);
        Assert.EndsWith(":streamGenerateContent", call.Path);
        Assert.Equal("?alt=sse", call.Query);
    }

    [Fact]
    public async Task Embeddings_use_predict_and_count_tokens_from_the_statistics()
    {
        var client = _gateway.OpenAI().GetEmbeddingClient("vertex-embed");
        OpenAIEmbeddingCollection result = await client.GenerateEmbeddingsAsync(["a", "b", "c"]);
        Assert.Equal(3, result.Count);
        Assert.Equal([0.75f, -0.5f, 0.125f], result[2].ToFloats().ToArray());
        Assert.Equal(12, result.Usage.InputTokenCount);
        var call = Assert.Single(_upstream.ModelRequests);
        Assert.Equal("/v1/projects/emu-project/locations/us-central1/publishers/google/models/text-embedding-005:predict", call.Path);
        using var body = call.Json();
        Assert.Equal("b", body.RootElement.GetProperty("instances")[1].GetProperty("content").GetString());
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
