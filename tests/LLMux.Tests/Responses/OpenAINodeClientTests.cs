using System.Text.Json;
using LLMux.Tests.Infrastructure;

namespace LLMux.Tests.Responses;

/// <summary>
/// The official <c>openai</c> npm client (pinned in tests/agents/openai-node) against LLMux's /v1/responses through the
/// chat bridge: <c>responses.create</c> streamed and not, the <c>responses.stream</c> helper, a function tool round
/// trip through <c>previous_response_id</c>, <c>retrieve</c> and <c>delete</c>. The script prints what the client saw.
/// </summary>
public sealed class OpenAINodeClientTests : IAsyncLifetime
{
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync() => _gateway = await GatewayHost.StartAsync("""
        general_settings:
          master_key: sk-node-client
        model_list:
          - model_name: mock-gpt
            litellm_params:
              model: mock/mock-gpt
          - model_name: mock-tool
            litellm_params:
              model: mock/mock-gpt
              mock_tool_call: get_weather
        """);

    public async Task DisposeAsync() => await _gateway.DisposeAsync();


    [SkippableFact]
    public async Task The_openai_npm_client_sees_the_responses_api_it_expects()
    {
        OpenAINodeClient.Require();
        using var doc = await OpenAINodeClient.RunAsync("responses-check.mjs", TimeSpan.FromSeconds(60), new Uri(_gateway.Root, "/v1").ToString(), "sk-node-client", "mock-gpt", "mock-tool");
        var r = doc.RootElement;
        const string text = "This is LLMux's mock model. You said: ping pong";
        var created = r.GetProperty("created");
        Assert.StartsWith("resp_", created.GetProperty("id").GetString());
        Assert.Equal("completed", created.GetProperty("status").GetString());
        Assert.Equal(text, created.GetProperty("text").GetString());
        Assert.Equal(9, created.GetProperty("usage").GetProperty("output_tokens").GetInt32());

        var stream = r.GetProperty("stream");
        var types = stream.GetProperty("types").EnumerateArray().Select(static t => t.GetString()).ToList();
        Assert.Equal(["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"], types.Take(4));
        Assert.Equal(["response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"], types.TakeLast(4));
        Assert.Equal(text, stream.GetProperty("text").GetString());
        Assert.Equal(text, r.GetProperty("helper").GetProperty("text").GetString());

        var tool = r.GetProperty("tool");
        Assert.Equal("get_weather", tool.GetProperty("name").GetString());
        Assert.Equal("completed", tool.GetProperty("followUpStatus").GetString());
        // The follow-up carried only the tool output: the user's turn came from the stored chain.
        Assert.Equal("This is LLMux's mock model. You said: weather in Paris?", tool.GetProperty("followUpText").GetString());

        Assert.Equal(created.GetProperty("id").GetString(), r.GetProperty("retrieved").GetProperty("id").GetString());
        Assert.True(r.GetProperty("deleted").GetProperty("deleted").GetBoolean());
        Assert.Equal(404, r.GetProperty("afterDelete").GetInt32());
    }
}
