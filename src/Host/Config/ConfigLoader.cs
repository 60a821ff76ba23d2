using LLMux.Providers;
using LLMux.Stages.Hosting;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace LLMux.Host.Config;

/// <summary>
/// Reads LiteLLM's config.yaml into a <see cref="GatewayConfig"/>: the YAML is turned into configuration keys and
/// read by the library's <see cref="LiteLLMConfigReader"/> (model_list, litellm_settings, router_settings,
/// environment_variables); the host's own general_settings (master key, body limit, database) are read here.
/// Every problem names its path (<c>model_list[2].litellm_params.model</c>); unknown keys are warnings.
/// </summary>
public sealed class ConfigLoader(ProviderCatalog catalog, Func<string, string?>? environment = null)
{
    private readonly Func<string, string?> _env = environment ?? Environment.GetEnvironmentVariable;

    /// <summary>
    /// The Redis key prefix when the config names none (<c>general_settings.redis_namespace</c>): <c>llmux</c>, which
    /// production replicas share. A test host gets one of its own so that hosts on one Redis do not see each other.
    /// </summary>
    public string DefaultRedisNamespace { get; init; } = "llmux";

    public static GatewayConfig BuiltIn(ProviderCatalog catalog) =>
        new ConfigLoader(catalog).Load(new StringReader(BuiltInYaml), "built-in mock config");

    public const string BuiltInYaml = """
        model_list:
          - model_name: mock-gpt
            litellm_params:
              model: mock/mock-gpt
          - model_name: mock-embed
            litellm_params:
              model: mock/mock-embed
          - model_name: mock-image
            litellm_params:
              model: mock/mock-image
          - model_name: mock-tts
            litellm_params:
              model: mock/mock-tts
          - model_name: mock-whisper
            litellm_params:
              model: mock/mock-whisper
          - model_name: mock-moderation
            litellm_params:
              model: mock/mock-moderation
          - model_name: mock-rerank
            litellm_params:
              model: mock/mock-rerank
          - model_name: mock/*
            litellm_params:
              model: mock/*
        """;

    public GatewayConfig LoadFile(string path)
    {
        if (!File.Exists(path)) throw new ConfigException([$"config file `{path}` does not exist"]);
        using var reader = File.OpenText(path);
        return Load(reader, path);
    }

    public GatewayConfig Load(TextReader text, string source)
    {
        var yaml = new YamlStream();
        try
        {
            yaml.Load(text);
        }
        catch (YamlException ex)
        {
            throw new ConfigException([$"{source}: not valid YAML at line {ex.Start.Line}, column {ex.Start.Column}: {ex.InnerException?.Message ?? ex.Message}"]);
        }
        if (yaml.Documents.Count == 0 || yaml.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new ConfigException([$"{source}: the config must be a YAML mapping with a `model_list`"]);
        }

        // One reader of LiteLLM's shape: the YAML becomes configuration keys, read as the library reads appsettings.json.
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(YamlConfigurationKeys.Flatten(root)).Build();
        var read = LiteLLMConfigReader.Read(configuration, _env, requireModelList: true);
        var errors = new List<string>(read.Errors);
        var warnings = new List<string>(read.Warnings);
        var deployments = read.ResolveDeployments(catalog, errors, warnings);
        var host = new HostSettingsReader(configuration.GetSection("general_settings"), read.Environment, source, errors, warnings);
        var masterKey = host.MasterKey();
        var maxBytes = host.MaxRequestBytes();
        var (databasePath, databaseUrl, cacheTtl) = host.Governance();
        var disableSpendLogs = host.DisableSpendLogs();
        var gracePeriod = host.KeyRotationGracePeriod();
        var endUserBudget = configuration.GetSection("litellm_settings")["max_end_user_budget_id"] is { Length: > 0 } eb ? eb : null;
        var (redis, redisNamespace) = host.Redis(configuration.GetSection("router_settings"), DefaultRedisNamespace);
        var responseStore = host.ResponseStore();
        var fileSettings = host.Files();
        if (errors.Count > 0) throw new ConfigException(errors);
        return new GatewayConfig
        {
            DatabasePath = databasePath,
            DatabaseUrl = databaseUrl,
            Redis = redis,
            RedisNamespace = redisNamespace,
            KeyRotationGracePeriod = gracePeriod,
            MaxEndUserBudgetId = endUserBudget,
            KeyCacheTtl = cacheTtl,
            DisableSpendLogs = disableSpendLogs,
            Deployments = deployments,
            Settings = read.Settings,
            MasterKey = masterKey,
            MaxRequestBytes = maxBytes,
            ResponseStore = responseStore,
            Files = fileSettings,
            Warnings = warnings.ToArray(),
            Source = source,
        };
    }
}
