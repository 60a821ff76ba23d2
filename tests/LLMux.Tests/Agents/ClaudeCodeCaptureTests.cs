using System.Net;
using System.Text;
using System.Text.Json;
using LLMux.Emulators;
using LLMux.Tests.Infrastructure;
using LLMux.Tests.Messages;

namespace LLMux.Tests.Agents;

/// <summary>
/// The requests the real Claude Code CLI sends (captured once, kept as test data) through /v1/messages onto
/// each translating backend's emulator: every one succeeds, Claude Code's hints are dropped with a warning,
/// and the upstream receives only fields of its own API.
/// </summary>
public sealed class ClaudeCodeCaptureTests : IAsyncLifetime
{
    private OpenAIEmulator _openai = null!;
    private GeminiEmulator _gemini = null!;
    private BedrockEmulator _bedrock = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _openai = await OpenAIEmulator.StartNewAsync();
        _gemini = await GeminiEmulator.StartNewAsync();
        _bedrock = await BedrockEmulator.StartNewAsync();
        _gateway = await GatewayHost.StartAsync($"""
            general_settings:
              master_key: {AnthropicSdk.MasterKey}
            router_settings:
              num_retries: 0
            model_list:
              - model_name: cc-openai
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_base: {_openai.ApiBase}
                  api_key: sk-upstream
              - model_name: cc-gemini
                litellm_params:
                  model: gemini/gemini-2.5-flash
                  api_base: {_gemini.GeminiApiBase}
                  api_key: gemini-test-key
              - model_name: cc-bedrock
                litellm_params:
                  model: bedrock/converse/anthropic.claude-sonnet-4-5-20250929-v1:0
                  api_base: {_bedrock.ApiBase}
                  aws_access_key_id: {BedrockEmulator.AccessKeyId}
                  aws_secret_access_key: {BedrockEmulator.SecretAccessKey}
                  aws_region_name: {BedrockEmulator.Region}
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _openai.DisposeAsync();
        await _gemini.DisposeAsync();
        await _bedrock.DisposeAsync();
    }

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var name in ClaudeCodeCapture.Names())
            foreach (var backend in new[] { "cc-openai", "cc-gemini", "cc-bedrock" }) data.Add(name, backend);
        return data;
    }

    private async Task<HttpResponseMessage> SendAsync(ClaudeCodeCapture capture, string model)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages?beta=true")
        {
            Content = new StringContent(capture.BodyFor(model), Encoding.UTF8, "application/json"),
        };
        foreach (var (name, value) in capture.Headers)
        {
            if (name is "content-type" or "content-length" or "host" or "accept-encoding" or "x-api-key" or "authorization" or "connection") continue;
            request.Headers.TryAddWithoutValidation(name, value);
        }
        request.Headers.TryAddWithoutValidation("x-api-key", AnthropicSdk.MasterKey);
        return await _gateway.Http.SendAsync(request);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Claude_Code_request_succeeds_on_every_backend(string captureName, string model)
    {
        var capture = ClaudeCodeCapture.Load(captureName);
        using var response = await SendAsync(capture, model);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
    }
}
