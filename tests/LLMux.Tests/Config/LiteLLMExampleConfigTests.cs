using LLMux.Host.Config;
using LLMux.Providers;

namespace LLMux.Tests.Config;

/// <summary>
/// LiteLLM's example configs (tests/LLMux.Tests/Config/LiteLLMExamples, one per example in LiteLLM's repository)
/// start on LLMux unchanged, or stop with the reason a user can act on.
/// </summary>
public sealed class LiteLLMExampleConfigTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Config", "LiteLLMExamples");

    private static GatewayConfig Load(string path) => new ConfigLoader(new ProviderCatalog(), static _ => null).LoadFile(path);

    private static GatewayConfig LoadExample(string file) => Load(Path.Combine(Folder, file));

    /// <summary>The examples LiteLLM's proxy starts with, and LLMux too.</summary>
    private static readonly string[] StartingFiles =
    [
        "_health_check_test_config.yaml", "aliases_config.yaml", "azure_config.yaml", "disable_schema_update.yaml",
        "enterprise_config.yaml", "load_balancer.yaml", "multi_instance_simple_config.yaml", "oai_misc_config.yaml",
        "opentelemetry_config.yaml", "otel_test_config.yaml", "pass_through_config.yaml", "reject_clientside_metadata_tags_config.yaml",
        "simple_config.yaml", "spend_tracking_config.yaml", "store_model_db_config.yaml", "test_pipeline_config.yaml",
        "tool_permission_example.yaml", "websearch_interception_config.yaml", "proxy_config.yaml", "model_config.yaml",
        "test_config_no_auth.yaml",
    ];

    public static TheoryData<string> Starting { get; } = new(StartingFiles);

    /// <summary>The examples that stop, with every error they stop on.</summary>
    private static readonly Dictionary<string, string[]> StoppingFiles = new()
    {
        {
            "langfuse_config.yaml",
            ["model_list[0]: has no litellm_params (LiteLLM stops on this too); add `litellm_params: {model: openai/gpt-3.5-turbo}` naming the provider and model this entry calls"]
        },
        {
            "proxy_server_config.yaml",
            [
                "model_list[3].litellm_params.model: `sagemaker` is a LiteLLM provider that LLMux cannot route yet (docs/parity/providers.md says why); if the endpoint's container serves the Messages API (TGI, LMI, vLLM), write `sagemaker_chat/<endpoint>`",
            ]
        },
    };

    public static TheoryData<string, string[]> Stopping
    {
        get
        {
            var data = new TheoryData<string, string[]>();
            foreach (var (file, errors) in StoppingFiles) data.Add(file, errors);
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Starting))]
    public void The_example_starts_unchanged(string file)
    {
        var config = LoadExample(file);
        Assert.NotEmpty(config.Deployments);
        Assert.All(config.Warnings, static w => Assert.Contains(": ", w, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Stopping))]
    public void The_example_stops_naming_what_to_change(string file, string[] errors)
    {
        var ex = Assert.Throws<ConfigException>(() => LoadExample(file));
        Assert.Equal(errors, ex.Errors);
    }

    [Fact]
    public void Every_example_in_the_corpus_has_an_expectation()
    {
        var expected = StartingFiles.Concat(StoppingFiles.Keys).Order(StringComparer.Ordinal);
        var present = Directory.GetFiles(Folder, "*.yaml").Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(expected, present!);
    }

    [Fact]
    public void Yaml_1_1_integers_with_underscores_are_read_as_LiteLLM_reads_them()
    {
        var config = LoadExample("azure_config.yaml");
        Assert.Equal([20_000, 100_000], config.Deployments.Select(static d => d.Tpm ?? 0));
        Assert.Equal(TimeSpan.FromSeconds(0.5), config.Deployments[0].StreamTimeout);
        Assert.Equal(4, config.Deployments[0].MaxRetries);
    }

    [Fact]
    public void An_id_without_a_provider_is_routed_by_the_price_table_and_rpm_beside_litellm_params_counts()
    {
        var config = LoadExample("load_balancer.yaml");
        Assert.True(config.Settings.DropParams);
        var mistral = Assert.Single(config.Deployments, static d => d.ModelName == "mistral-7b-instruct");
        Assert.Equal("openrouter", mistral.ProviderName);
        Assert.Equal("mistralai/mistral-7b-instruct", mistral.UpstreamModel);
        Assert.Contains("model_list[3].litellm_params.model: `mistralai/mistral-7b-instruct` has no provider prefix; the price table lists it for `openrouter` only, so it is routed there (write `openrouter/mistralai/mistral-7b-instruct` to say so)", config.Warnings);
        var first = config.Deployments[0];
        Assert.Equal((20000, 3), (first.Tpm, first.Rpm));
    }

    [Fact]
    public void Request_defaults_in_litellm_params_are_warnings_that_say_to_send_them()
    {
        var config = LoadExample("aliases_config.yaml");
        Assert.Contains("model_list[2].litellm_params.temperature: LiteLLM adds `temperature` to every call to this deployment; LLMux sends requests as the client wrote them, so set `temperature` in the request (it is ignored here)", config.Warnings);
        Assert.Contains(config.Warnings, static w => w.StartsWith("model_list[2].litellm_params.max_tokens: LiteLLM adds `max_tokens`", StringComparison.Ordinal));
    }

    [Fact]
    public void Sections_LLMux_does_not_run_are_warnings_that_say_what_it_does_instead()
    {
        var misc = LoadExample("oai_misc_config.yaml");
        Assert.Contains("finetune_settings: ignored; LLMux does not proxy fine-tuning", misc.Warnings);
        Assert.Contains("files_settings: ignored; LLMux does not proxy the files API to providers", misc.Warnings);
        Assert.Contains("model_list[4].litellm_params.s3_bucket_name: ignored; LLMux does not upload batch files to S3", misc.Warnings);
        Assert.Contains("litellm_settings.default_team_settings: ignored; create teams through the admin API (/team/new)", misc.Warnings);

        var otel = LoadExample("otel_test_config.yaml");
        Assert.Contains("guardrails: ignored; LLMux runs no guardrails, requests go to the model unchecked", otel.Warnings);
        Assert.Contains("model_list[0].litellm_params.tags: ignored; LLMux does not route by tags", otel.Warnings);
        Assert.Contains(otel.Warnings, static w => w.StartsWith("litellm_settings.callbacks: LiteLLM callbacks are not run; LLMux exports OpenTelemetry", StringComparison.Ordinal));

        var mcp = LoadExample("proxy_config.yaml");
        Assert.Contains("mcp_servers: ignored; LLMux has no MCP gateway", mcp.Warnings);
    }

    /// <summary>LiteLLM's own files, where a folder of them is given: each starts, or stops with errors that name a path.</summary>
    [SkippableFact]
    public void LiteLLMs_own_example_files_start_or_stop_with_errors_naming_a_path()
    {
        var folder = Environment.GetEnvironmentVariable("LLMUX_LITELLM_CONFIGS");
        Skip.If(string.IsNullOrEmpty(folder) || !Directory.Exists(folder), "LLMUX_LITELLM_CONFIGS names no folder of LiteLLM configs");
        var files = Directory.GetFiles(folder, "*.yaml");
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            try
            {
                Assert.NotEmpty(Load(file).Deployments);
            }
            catch (ConfigException ex)
            {
                Assert.All(ex.Errors, static e => Assert.Matches(@"^(model_list|litellm_settings|router_settings|general_settings|environment_variables)[\[.:]", e));
            }
        }
    }
}
