using LLMux.Host;
using LLMux.Tests.Infrastructure;
using OpenAI.Chat;

namespace LLMux.Tests.Library;

/// <summary>The llmux host exports the LLMux meter on /metrics when started with --metrics.</summary>
public sealed class HostMetricsTests
{
    private const string Yaml = """
        model_list:
          - model_name: metrics-mock
            litellm_params:
              model: mock/mock-gpt
        """;

    [Fact]
    public async Task Metrics_endpoint_serves_genai_histograms_after_a_call()
    {
        await using var gateway = await GatewayHost.StartAsync(TestApp.Build(new LlmuxHostOptions { ConfigYaml = Yaml, Port = 0, Metrics = true }));
        await gateway.OpenAI().GetChatClient("metrics-mock").CompleteChatAsync([new UserChatMessage("hi")]);

        var text = await gateway.Http.GetStringAsync("/metrics");

        Assert.Contains("gen_ai_client_operation_duration", text, StringComparison.Ordinal);
        Assert.Contains("gen_ai_client_token_usage", text, StringComparison.Ordinal);
        Assert.Contains("gen_ai_request_model=\"metrics-mock\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_the_flag_there_is_no_metrics_route()
    {
        await using var gateway = await GatewayHost.StartAsync(Yaml);
        using var response = await gateway.Http.GetAsync("/metrics");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
    }
}
