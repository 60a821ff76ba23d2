using LLMux.Host.Config;
using LLMux.Providers;
using LLMux.Stages.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LLMux.Tests.Config;

/// <summary>config.yaml (host) and an IConfiguration section (library) go through the same reader and mean the same.</summary>
public sealed class OneConfigReaderTests
{
    private const string Yaml = """
        model_list:
          - model_name: "llama3:8b"
            litellm_params:
              model: ollama/llama3:8b
              api_base: os.environ/OLLAMA_BASE
              additional_drop_params: ["logit_bias"]
              max_parallel_requests: 4
          - model_name: small
            litellm_params:
              model: openai/gpt-4o-mini
              api_key: os.environ/OPENAI_KEY
              input_cost_per_token: 0.00000015
        environment_variables:
          OLLAMA_BASE: http://127.0.0.1:11434
        router_settings:
          fallbacks: [{"llama3:8b": ["small"]}]
          default_fallbacks: ["small"]
          model_group_alias: {"fast": {"model": "small", "hidden": true}, "tiny": "small"}
          num_retries: 2
        """;

    private static readonly Dictionary<string, string?> SameAsKeys = new()
    {
        ["LLMux:model_list:0:model_name"] = "llama3:8b",
        ["LLMux:model_list:0:litellm_params:model"] = "ollama/llama3:8b",
        ["LLMux:model_list:0:litellm_params:api_base"] = "os.environ/OLLAMA_BASE",
        ["LLMux:model_list:0:litellm_params:additional_drop_params:0"] = "logit_bias",
        ["LLMux:model_list:0:litellm_params:max_parallel_requests"] = "4",
        ["LLMux:model_list:1:model_name"] = "small",
        ["LLMux:model_list:1:litellm_params:model"] = "openai/gpt-4o-mini",
        ["LLMux:model_list:1:litellm_params:api_key"] = "os.environ/OPENAI_KEY",
        ["LLMux:model_list:1:litellm_params:input_cost_per_token"] = "0.00000015",
        ["LLMux:environment_variables:OLLAMA_BASE"] = "http://127.0.0.1:11434",
        ["LLMux:router_settings:fallbacks:0:llama3%3A8b:0"] = "small",
        ["LLMux:router_settings:default_fallbacks:0"] = "small",
        ["LLMux:router_settings:model_group_alias:fast:model"] = "small",
        ["LLMux:router_settings:model_group_alias:tiny"] = "small",
        ["LLMux:router_settings:num_retries"] = "2",
    };

    private static string? Env(string name) => name == "OPENAI_KEY" ? "sk-from-env" : null;

    [Fact]
    public async Task Environment_variables_of_a_section_are_its_deployments_ambient_environment_in_the_library_too()
    {
        var keys = new Dictionary<string, string?>
        {
            ["LLMux:model_list:0:model_name"] = "gpt",
            ["LLMux:model_list:0:litellm_params:model"] = "openai/gpt-4o",
            ["LLMux:model_list:1:model_name"] = "claude",
            ["LLMux:model_list:1:litellm_params:model"] = "bedrock/anthropic.claude-3-haiku-20240307-v1:0",
            ["LLMux:environment_variables:OPENAI_API_KEY"] = "sk-section",
            ["LLMux:environment_variables:AWS_REGION_NAME"] = "ap-south-1",
        };
        var services = new ServiceCollection();
        services.AddLLMux(new ConfigurationBuilder().AddInMemoryCollection(keys).Build().GetSection("LLMux"), b => b.Configure(o => o.Environment = static _ => null));
        await using var sp = services.BuildServiceProvider();
        var registry = sp.GetRequiredService<LLMuxRuntime>().Registry;
        Assert.Equal("sk-section", Assert.Single(registry.Group("gpt")!).ApiKey?.Reveal());
        Assert.Equal("ap-south-1", Assert.Single(registry.Group("claude")!).Setting("aws_region_name"));
    }

    [Fact]
    public async Task Yaml_and_configuration_keys_give_the_same_deployments_and_settings()
    {
        var host = new ConfigLoader(new ProviderCatalog(), Env).Load(new StringReader(Yaml), "inline");

        var services = new ServiceCollection();
        var section = new ConfigurationBuilder().AddInMemoryCollection(SameAsKeys).Build().GetSection("LLMux");
        services.AddLLMux(section, b => b.Configure(o => o.Environment = Env));
        await using var sp = services.BuildServiceProvider();
        var runtime = sp.GetRequiredService<LLMuxRuntime>();

        var library = runtime.Registry;
        foreach (var d in host.Deployments)
        {
            var twin = Assert.Single(library.Group(d.ModelName)!);
            Assert.Equal(d.Id, twin.Id);
            Assert.Equal(d.ApiBase, twin.ApiBase);
            Assert.Equal(d.ApiKey?.Reveal(), twin.ApiKey?.Reveal());
            Assert.Equal(d.AdditionalDropParams, twin.AdditionalDropParams);
            Assert.Equal(d.InputCostPerToken, twin.InputCostPerToken);
            Assert.Equal(d.Setting("max_parallel_requests"), twin.Setting("max_parallel_requests"));
        }
        Assert.Equal("http://127.0.0.1:11434", host.Deployments[0].ApiBase);
        Assert.Equal("sk-from-env", host.Deployments[1].ApiKey!.Reveal());

        var a = host.Settings.Router;
        var b = runtime.Settings.Router;
        Assert.Equal(["small"], a.Fallbacks["llama3:8b"]);
        Assert.Equal(a.Fallbacks["llama3:8b"], b.Fallbacks["llama3:8b"]);
        Assert.Equal(a.Fallbacks["*"], b.Fallbacks["*"]);
        Assert.Equal("small", a.ModelGroupAlias["fast"]);
        Assert.Equal(a.ModelGroupAlias["fast"], b.ModelGroupAlias["fast"]);
        Assert.Equal(a.ModelGroupAlias["tiny"], b.ModelGroupAlias["tiny"]);
        Assert.Equal(2, a.NumRetries);
        Assert.Equal(a.NumRetries, b.NumRetries);
    }

    [Fact]
    public void Configuration_errors_name_the_same_paths_as_the_yaml_ones()
    {
        var keys = new Dictionary<string, string?>
        {
            ["model_list:0:model_name"] = "a",
            ["model_list:0:litellm_params:model"] = "openai/a",
            ["model_list:0:litellm_params:timeout"] = "soon",
            ["router_settings:routing_strategy"] = "fastest",
        };
        var read = LiteLLMConfigReader.Read(new ConfigurationBuilder().AddInMemoryCollection(keys).Build());
        Assert.Contains("model_list[0].litellm_params.timeout: `soon` is not a number", read.Errors);
        Assert.Contains(read.Errors, e => e.StartsWith("router_settings.routing_strategy: `fastest` is not one of", StringComparison.Ordinal));
        var yaml = Assert.Throws<ConfigException>(() => new ConfigLoader(new ProviderCatalog(), static _ => null).Load(new StringReader(
            "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/a\n      timeout: soon\nrouter_settings:\n  routing_strategy: fastest\n"), "inline"));
        Assert.Equal(read.Errors, yaml.Errors);
    }
}
