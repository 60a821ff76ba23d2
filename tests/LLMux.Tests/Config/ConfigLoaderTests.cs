using LLMux.Host.Config;
using LLMux.Providers;
using LLMux.Stages.Routing;

namespace LLMux.Tests.Config;

/// <summary>LiteLLM configs load unchanged; bad ones fail naming the exact path.</summary>
public sealed class ConfigLoaderTests
{
    private static GatewayConfig Load(string yaml, Func<string, string?>? env = null) =>
        new ConfigLoader(new ProviderCatalog(), env ?? (_ => null)).Load(new StringReader(yaml), "test.yaml");

    private static ConfigException Fails(string yaml) => Assert.Throws<ConfigException>(() => Load(yaml));

    [Fact]
    public void A_litellm_config_loads_with_secrets_from_the_environment()
    {
        var config = Load("""
            model_list:
              - model_name: gpt-4o
                litellm_params:
                  model: openai/gpt-4o
                  api_key: os.environ/MY_KEY
                  api_base: https://example.test/v1
                  timeout: 30
                  stream_timeout: 5
                  max_retries: 1
                  drop_params: true
                  additional_drop_params: ["logit_bias"]
                  rpm: 100
                  tpm: 10000
                model_info:
                  id: dep-1
            litellm_settings:
              drop_params: true
              num_retries: 3
            router_settings:
              routing_strategy: least-busy
              fallbacks: [{"gpt-4o": ["gpt-4o-mini"]}]
              default_fallbacks: ["gpt-4o-mini"]
              allowed_fails: 2
              cooldown_time: 10
            general_settings:
              master_key: sk-1234
            """, name => name == "MY_KEY" ? "sk-from-env" : null);

        var d = Assert.Single(config.Deployments);
        Assert.Equal("gpt-4o", d.ModelName);
        Assert.Equal("openai", d.ProviderName);
        Assert.Equal("gpt-4o", d.UpstreamModel);
        Assert.Equal("sk-from-env", d.ApiKey!.Reveal());
        Assert.Equal("[redacted]", d.ApiKey.ToString());
        Assert.DoesNotContain("sk-from-env", d.ToString());
        Assert.Equal(TimeSpan.FromSeconds(30), d.Timeout);
        Assert.Equal(TimeSpan.FromSeconds(5), d.StreamTimeout);
        Assert.Equal(["logit_bias"], d.AdditionalDropParams);
        Assert.Equal("dep-1", d.Id);
        Assert.True(config.Settings.DropParams);
        Assert.Equal(3, config.Settings.Router.NumRetries);
        Assert.Equal(RoutingStrategyKind.LeastBusy, config.Settings.Router.Strategy);
        Assert.Equal(["gpt-4o-mini"], config.Settings.Router.Fallbacks["gpt-4o"]);
        Assert.Equal(["gpt-4o-mini"], config.Settings.Router.Fallbacks["*"]);
        Assert.Equal(2, config.Settings.Router.AllowedFails);
        Assert.Equal("sk-1234", config.MasterKey!.Reveal());
        Assert.Empty(config.Warnings);
    }

    [Fact]
    public void Only_the_first_provider_prefix_is_stripped()
    {
        var config = Load("""
            model_list:
              - model_name: llama
                litellm_params:
                  model: openai/meta-llama/Llama-3-70b
                  api_base: http://127.0.0.1:1/v1
            """);
        Assert.Equal("meta-llama/Llama-3-70b", config.Deployments[0].UpstreamModel);
    }

    [Theory]
    [InlineData("model_list:\n  - model_name: x\n    litellm_params:\n      model: nosuch/thing\n", "model_list[0].litellm_params.model: unknown provider `nosuch`")]
    [InlineData("model_list:\n  - model_name: x\n    litellm_params: {}\n", "model_list[0].litellm_params.model: is required")]
    [InlineData("model_list:\n  - litellm_params:\n      model: openai/x\n", "model_list[0].model_name: is required")]
    [InlineData("model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/a\n  - model_name: b\n    litellm_params:\n      model: openai/b\n      timeout: soon\n", "model_list[1].litellm_params.timeout: `soon` is not a number")]
    [InlineData("model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/a\n      drop_params: maybe\n", "model_list[0].litellm_params.drop_params: `maybe` is not true or false")]
    [InlineData("model_list: 3\n", "model_list: must be a list")]
    [InlineData("litellm_settings: {}\n", "model_list: is required")]
    [InlineData("model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/a\nrouter_settings:\n  routing_strategy: fastest\n", "router_settings.routing_strategy: `fastest` is not one of")]
    [InlineData("model_list: [\n", "not valid YAML at line")]
    public void A_bad_config_names_the_path_and_the_problem(string yaml, string expected)
    {
        var ex = Fails(yaml);
        Assert.Contains(ex.Errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var ex = Fails("model_list:\n  - model_name: a\n    litellm_params:\n      model: nosuch/a\n  - model_name: b\n    litellm_params:\n      model: openai/b\n      timeout: x\n");
        Assert.Equal(2, ex.Errors.Count);
    }

    [Fact]
    public void A_missing_environment_secret_is_a_warning_not_a_leak()
    {
        var config = Load("""
            model_list:
              - model_name: a
                litellm_params:
                  model: openai/a
                  api_key: os.environ/NOT_SET_ANYWHERE
            """);
        Assert.Null(config.Deployments[0].ApiKey);
        Assert.Contains(config.Warnings, w => w.Contains("NOT_SET_ANYWHERE", StringComparison.Ordinal));
    }

    [Fact]
    public void Bare_model_names_infer_their_provider_as_litellm_does()
    {
        var config = Load("model_list:\n  - model_name: a\n    litellm_params:\n      model: gpt-4o-mini\n");
        Assert.Equal("openai", config.Deployments[0].ProviderName);
    }

    [Fact]
    public void The_built_in_config_serves_the_mock()
    {
        var config = ConfigLoader.BuiltIn(new ProviderCatalog());
        Assert.Contains(config.Deployments, d => d.ModelName == "mock-gpt" && d.ProviderName == "mock");
    }
}
