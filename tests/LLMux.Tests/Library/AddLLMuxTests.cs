using LLMux.Emulators;
using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Wire;
using LLMux.Stages.Hosting;
using LLMux.Stages.Routing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ChatMessage = LLMux.Pipeline.Wire.ChatMessage;

namespace LLMux.Tests.Library;

/// <summary>services.AddLLMux(...) from code and from configuration, through the public API only.</summary>
public sealed class AddLLMuxTests : IAsyncLifetime
{
    private OpenAIEmulator _upstream = null!;

    public async Task InitializeAsync() => _upstream = await OpenAIEmulator.StartNewAsync();
    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    private static ChatRequest Hello(string model) => new()
    {
        Model = model,
        Messages = [new ChatMessage { Role = "user", Content = ChatRequestJson.String("hi") }],
    };

    [Fact]
    public async Task A_deployment_added_in_code_reaches_its_upstream_with_its_key()
    {
        await using var sp = LibraryHost.Build(b => b.AddDeployment("gpt-test", "openai/gpt-4o-mini", _upstream.ApiBase, "sk-code-key"));
        _upstream.Enqueue(new OpenAIScript { Content = "from code" });

        var completion = await sp.GetRequiredService<ILlmClient>().CompleteAsync(Hello("gpt-test"));

        Assert.Equal("from code", completion.Choices[0].Message.TextContent());
        var sent = Assert.Single(_upstream.Requests);
        Assert.Equal("Bearer sk-code-key", sent.Headers["authorization"]);
        using var body = sent.Json();
        Assert.Equal("gpt-4o-mini", body.RootElement.GetProperty("model").GetString());
    }

    [Fact]
    public async Task Deployments_and_router_settings_are_read_from_a_configuration_section()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["LLMux:model_list:0:model_name"] = "from-config",
            ["LLMux:model_list:0:litellm_params:model"] = "openai/gpt-4o-mini",
            ["LLMux:model_list:0:litellm_params:api_base"] = _upstream.ApiBase,
            ["LLMux:model_list:0:litellm_params:api_key"] = "os.environ/LLMUX_TEST_KEY",
            ["LLMux:model_list:1:model_name"] = "mocked",
            ["LLMux:model_list:1:litellm_params:model"] = "mock/mock-gpt",
            ["LLMux:model_list:1:litellm_params:mock_response"] = "configured mock answer",
            ["LLMux:litellm_settings:drop_params"] = "true",
            ["LLMux:router_settings:num_retries"] = "0",
            ["LLMux:router_settings:timeout"] = "7",
            ["LLMux:router_settings:routing_strategy"] = "least-busy",
            ["LLMux:router_settings:fallbacks:0:from-config:0"] = "mocked",
            ["LLMux:router_settings:model_group_alias:alias-name"] = "mocked",
        }).Build();
        var services = new ServiceCollection();
        services.AddLLMux(config.GetSection("LLMux"), b => b.Configure(o => o.Environment = n => n == "LLMUX_TEST_KEY" ? "sk-from-env" : null));
        await using var sp = services.BuildServiceProvider();
        sp.GetRequiredService<IStartupValidator>().Validate();

        var runtime = sp.GetRequiredService<LLMuxRuntime>();
        Assert.Equal(["from-config", "mocked"], runtime.Registry.Names);
        Assert.True(runtime.Settings.DropParams);
        Assert.Equal(TimeSpan.FromSeconds(7), runtime.Settings.DefaultTimeout);
        Assert.Equal(0, runtime.Settings.Router.NumRetries);
        Assert.Equal(RoutingStrategyKind.LeastBusy, runtime.Settings.Router.Strategy);
        Assert.Equal(["mocked"], runtime.Settings.Router.Fallbacks["from-config"]);
        Assert.Equal("mocked", runtime.Settings.Router.ModelGroupAlias["alias-name"]);

        var client = sp.GetRequiredService<ILlmClient>();
        await client.CompleteAsync(Hello("from-config"));
        Assert.Equal("Bearer sk-from-env", Assert.Single(_upstream.Requests).Headers["authorization"]);
        var mocked = await client.CompleteAsync(Hello("mocked"));
        Assert.Equal("configured mock answer", mocked.Choices[0].Message.TextContent());
    }

    [Fact]
    public void Invalid_options_fail_at_start_naming_each_path()
    {
        var services = new ServiceCollection();
        services.AddLLMux(b => b
            .AddDeployment("ok", "openai/gpt-4o-mini", _upstream.ApiBase)
            .AddDeployment("bad-provider", "nosuch/model")
            .AddDeployment("bad-base", "openai/gpt-4o", "not a url"));
        using var sp = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains(ex.Failures, f => f.Contains("model_list[1].litellm_params.model", StringComparison.Ordinal) && f.Contains("nosuch", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("model_list[2].litellm_params.api_base", StringComparison.Ordinal));
    }

    [Fact]
    public void Bad_numbers_in_configuration_are_reported_with_their_path()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["model_list:0:model_name"] = "m",
            ["model_list:0:litellm_params:model"] = "mock/x",
            ["model_list:0:litellm_params:timeout"] = "soon",
            ["router_settings:num_retries"] = "-1",
        }).Build();
        var services = new ServiceCollection();
        services.AddLLMux(config);
        using var sp = services.BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains(ex.Failures, f => f.StartsWith("model_list[0].litellm_params.timeout", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.StartsWith("router_settings.num_retries", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Pieces_a_host_registered_first_are_kept()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var state = new RouterState(time);
        await using var sp = LibraryHost.Build(b => b.AddDeployment("m", "mock/mock-gpt"), s => s.AddSingleton(state));
        Assert.Same(state, sp.GetRequiredService<RouterState>());
        Assert.IsType<LLMuxChatClient>(sp.GetRequiredService<IChatClient>());
    }

    [Fact]
    public async Task Custom_stages_run_before_routing_and_before_each_send()
    {
        var before = new RecordingStage();
        var send = new RecordingStage();
        await using var sp = LibraryHost.Build(b => b
            .AddDeployment("m", "mock/mock-gpt")
            .AddStageBeforeRouting(before)
            .AddStageBeforeSend(send));

        await sp.GetRequiredService<ILlmClient>().CompleteAsync(Hello("m"));

        Assert.Equal([("m", null)], before.Seen);
        Assert.Equal([("m", "mock")], send.Seen);
    }

    [Fact]
    public async Task A_custom_provider_serves_its_prefix()
    {
        await using var sp = LibraryHost.Build(b => b
            .AddProvider(new Providers.Mock.MockProvider())
            .AddDeployment("m", "mock/anything", configure: d => d with { Params = new Dictionary<string, string> { ["mock_response"] = "custom" } }));
        var answer = await sp.GetRequiredService<ILlmClient>().CompleteAsync(Hello("m"));
        Assert.Equal("custom", answer.Choices[0].Message.TextContent());
    }

    private sealed class RecordingStage : ILlmStage
    {
        public List<(string? Model, string? Provider)> Seen { get; } = [];

        public ValueTask InvokeAsync(LlmContext context, StageDelegate next)
        {
            Seen.Add((context.RequestedModel, context.ProviderName));
            return next(context);
        }
    }
}

internal static class ChatRequestJson
{
    public static System.Text.Json.JsonElement String(string s) => System.Text.Json.JsonSerializer.SerializeToElement(s);
}
