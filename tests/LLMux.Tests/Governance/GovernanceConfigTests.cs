using LLMux.Host.Config;
using LLMux.Providers;

namespace LLMux.Tests.Governance;

/// <summary>Which store and which Redis the config (or LiteLLM's environment variables) chooses.</summary>
public sealed class GovernanceConfigTests
{
    private static GatewayConfig Load(string extra, Dictionary<string, string>? env = null) =>
        new ConfigLoader(new ProviderCatalog(), name => env is not null && env.TryGetValue(name, out var v) ? v : null).Load(new StringReader($"""
            model_list:
              - model_name: m
                litellm_params:
                  model: mock/m
            {extra}
            """), "inline");

    [Fact]
    public void Database_url_chooses_PostgreSQL_and_DATABASE_URL_does_too_as_in_LiteLLM()
    {
        var fromConfig = Load("""
            general_settings:
              master_key: sk-m
              database_url: postgresql://llmux:pw@db:5432/llmux
            """);
        Assert.Equal("postgresql://llmux:pw@db:5432/llmux", fromConfig.DatabaseUrl);
        Assert.Null(fromConfig.DatabasePath);
        var fromEnv = Load("general_settings: {master_key: sk-m}", new() { ["DATABASE_URL"] = "postgresql://u@h/db" });
        Assert.Equal("postgresql://u@h/db", fromEnv.DatabaseUrl);
        Assert.Null(Load("general_settings: {master_key: sk-m}").DatabaseUrl);
    }

    [Fact]
    public void A_database_url_that_is_not_PostgreSQL_is_a_config_error()
    {
        var e = Assert.Throws<ConfigException>(() => Load("general_settings: {master_key: sk-m, database_url: 'mysql://x@y/z'}"));
        Assert.Contains("general_settings.database_url", e.Message);
    }

    [Fact]
    public void Redis_comes_from_router_settings_or_REDIS_URL()
    {
        var router = Load("""
            router_settings:
              redis_host: cache.internal
              redis_port: 6380
              redis_password: os.environ/REDIS_PW
            """, new() { ["REDIS_PW"] = "secret" });
        Assert.Equal("cache.internal:6380,abortConnect=false,password=secret", router.Redis);
        Assert.Equal("llmux", router.RedisNamespace);
        var url = Load("general_settings: {redis_namespace: team-a}", new() { ["REDIS_URL"] = "redis://:pw@10.0.0.5:6379" });
        Assert.Equal("10.0.0.5:6379,abortConnect=false,password=pw", url.Redis);
        Assert.Equal("team-a", url.RedisNamespace);
        Assert.Null(Load("").Redis);
    }

    [Fact]
    public void A_bad_redis_port_or_url_is_a_config_error()
    {
        Assert.Contains("router_settings.redis_port", Assert.Throws<ConfigException>(() => Load("router_settings: {redis_host: h, redis_port: abc}")).Message);
        Assert.Contains("REDIS_URL", Assert.Throws<ConfigException>(() => Load("", new() { ["REDIS_URL"] = "http://h:1" })).Message);
    }
}
