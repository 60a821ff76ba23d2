using LLMux.Host.Config;
using LLMux.Providers;

namespace LLMux.Tests.Config;

/// <summary>The parts of a LiteLLM config that PyYAML and LiteLLM's proxy read their own way.</summary>
public sealed class LiteLLMCompatibilityTests
{
    private static GatewayConfig Load(string yaml, Func<string, string?>? env = null) =>
        new ConfigLoader(new ProviderCatalog(), env ?? (_ => null)).Load(new StringReader(yaml), "test.yaml");

    // Each pair was checked against PyYAML's SafeLoader (yaml.safe_load), which LiteLLM's proxy uses.
    [Theory]
    [InlineData("20_000", "20000")]
    [InlineData("1_000_000", "1000000")]
    [InlineData("-42", "-42")]
    [InlineData("+7", "7")]
    [InlineData("0", "0")]
    [InlineData("017", "15")]
    [InlineData("0x1F", "31")]
    [InlineData("0x_ff", "255")]
    [InlineData("0b101", "5")]
    [InlineData("1:30", "90")]
    [InlineData("1:00:00", "3600")]
    [InlineData("True", "true")]
    [InlineData("yes", "true")]
    [InlineData("On", "true")]
    [InlineData("NO", "false")]
    [InlineData("off", "false")]
    [InlineData("0.5", "0.5")]
    [InlineData("1_000.5", "1000.5")]
    [InlineData(".5", "0.5")]
    [InlineData("5.", "5.0")]
    [InlineData("-0.000420", "-0.000420")]
    [InlineData("1.5e-07", "1.5e-07")]
    [InlineData(".inf", "Infinity")]
    [InlineData("-.Inf", "-Infinity")]
    [InlineData(".NaN", "NaN")]
    // PyYAML keeps these as strings.
    [InlineData("1e5", "1e5")]
    [InlineData("1.5e7", "1.5e7")]
    [InlineData("08", "08")]
    [InlineData("0x", "0x")]
    [InlineData("1:60", "1:60")]
    [InlineData("2025-04-01-preview", "2025-04-01-preview")]
    [InlineData("y", "y")]
    [InlineData("sk-1234", "sk-1234")]
    [InlineData("tRUE", "tRUE")]
    [InlineData("0o17", "0o17")]
    public void Plain_scalars_read_as_PyYAML_reads_them(string plain, string expected) =>
        Assert.Equal(expected, Yaml11Scalars.Normalize(plain));

    [Theory]
    [InlineData("~")]
    [InlineData("null")]
    [InlineData("Null")]
    [InlineData("NULL")]
    [InlineData("")]
    public void PyYAML_nulls_are_null(string plain) => Assert.True(Yaml11Scalars.IsNull(plain));

    [Fact]
    public void Quoted_scalars_stay_strings_and_plain_ones_are_yaml_1_1()
    {
        var config = Load("""
            model_list:
              - model_name: a
                litellm_params:
                  model: openai/a
                  tpm: 20_000
                  rpm: 0x10
                  drop_params: yes
                  timeout: 1_0.5
                  max_retries: "3"
                  api_version: "20_000"
            litellm_settings:
              drop_params: On
              num_retries: NULL
            """);
        var d = Assert.Single(config.Deployments);
        Assert.Equal(20000, d.Tpm);
        Assert.Equal(16, d.Rpm);
        Assert.True(d.DropParams);
        Assert.Equal(TimeSpan.FromSeconds(10.5), d.Timeout);
        Assert.Equal(3, d.MaxRetries);
        Assert.Equal("20_000", d.ApiVersion);
        Assert.True(config.Settings.DropParams);
    }

    [Fact]
    public void A_bare_id_the_price_table_lists_for_several_providers_is_an_error_naming_them()
    {
        var ex = Assert.Throws<ConfigException>(() => Load("model_list:\n  - model_name: oss\n    litellm_params:\n      model: gpt-oss-120b\n"));
        var error = Assert.Single(ex.Errors);
        Assert.StartsWith("model_list[0].litellm_params.model: `gpt-oss-120b` has no provider prefix and the price table lists it for ", error);
        Assert.Contains("`cerebras/gpt-oss-120b`", error);
        Assert.Contains("`azure_ai/gpt-oss-120b`", error);
    }

    [Fact]
    public void A_bare_id_of_a_well_known_family_keeps_its_family_even_where_others_list_it_too()
    {
        // gpt-3.5-turbo is listed for openai, azure and github_copilot; LiteLLM's first check sends it to OpenAI.
        var config = Load("model_list:\n  - model_name: a\n    litellm_params:\n      model: gpt-3.5-turbo\n  - model_name: b\n    litellm_params:\n      model: dall-e-3\n");
        Assert.Equal("openai", config.Deployments[0].ProviderName);
        Assert.Equal("openai", config.Deployments[1].ProviderName);
        Assert.Equal("dall-e-3", config.Deployments[1].UpstreamModel);
    }

    [Fact]
    public void A_provider_LiteLLM_has_and_LLMux_lacks_is_named_as_such()
    {
        var ex = Assert.Throws<ConfigException>(() => Load("model_list:\n  - model_name: a\n    litellm_params:\n      model: nlp_cloud/dolphin\n"));
        Assert.Equal("model_list[0].litellm_params.model: `nlp_cloud` is a LiteLLM provider that LLMux cannot route yet (docs/parity/providers.md says why); choose a routable provider", Assert.Single(ex.Errors));
    }

    [Fact]
    public void A_made_up_provider_is_still_unknown()
    {
        var ex = Assert.Throws<ConfigException>(() => Load("model_list:\n  - model_name: a\n    litellm_params:\n      model: nosuch/thing\n"));
        Assert.StartsWith("model_list[0].litellm_params.model: unknown provider `nosuch` in `nosuch/thing`; known providers: ", Assert.Single(ex.Errors));
    }

    [Fact]
    public void Environment_variables_are_the_ambient_environment_of_every_deployment()
    {
        var config = Load("""
            model_list:
              - model_name: gpt
                litellm_params:
                  model: openai/gpt-4o
              - model_name: own-key
                litellm_params:
                  model: openai/gpt-4o
                  api_key: sk-written
              - model_name: claude
                litellm_params:
                  model: bedrock/anthropic.claude-3-haiku-20240307-v1:0
              - model_name: az
                litellm_params:
                  model: azure/dep
                  api_base: https://x.openai.azure.com
            environment_variables:
              OPENAI_API_KEY: sk-from-config
              AWS_REGION_NAME: eu-west-1
              AWS_ACCESS_KEY_ID: AKIDEXAMPLE
              AZURE_API_VERSION: "2024-10-21"
            """, name => name == "OPENAI_API_KEY" ? "sk-from-process" : null);
        Assert.Equal("sk-from-config", config.Deployments[0].ApiKey!.Reveal());
        Assert.Equal("sk-written", config.Deployments[1].ApiKey!.Reveal());
        Assert.Equal("eu-west-1", config.Deployments[2].Setting("aws_region_name"));
        Assert.Equal("AKIDEXAMPLE", config.Deployments[2].Setting("aws_access_key_id"));
        Assert.Equal("2024-10-21", config.Deployments[3].ApiVersion);
        Assert.Empty(config.Warnings);
    }

    [Fact]
    public void Environment_variables_resolve_os_environ_references_before_the_process()
    {
        var config = Load("""
            model_list:
              - model_name: gpt
                litellm_params:
                  model: openai/gpt-4o
                  api_key: os.environ/MY_KEY
            environment_variables:
              MY_KEY: sk-config
            """, name => name == "MY_KEY" ? "sk-process" : null);
        Assert.Equal("sk-config", config.Deployments[0].ApiKey!.Reveal());
    }

    [Fact]
    public void A_key_nobody_knows_is_a_warning_that_it_is_ignored()
    {
        var config = Load("""
            model_list:
              - model_name: a
                litellm_params:
                  model: openai/a
                surprise: 1
            litellm_settings:
              not_a_setting: true
            mystery_section: {}
            """);
        Assert.Contains("unknown top-level key `mystery_section`: not a LiteLLM key LLMux knows (a typo?); ignored", config.Warnings);
        Assert.Contains("model_list[0].surprise: not a LiteLLM key LLMux knows (a typo?); ignored", config.Warnings);
        Assert.Contains("litellm_settings.not_a_setting: not a LiteLLM key LLMux knows (a typo?); ignored", config.Warnings);
    }
}
