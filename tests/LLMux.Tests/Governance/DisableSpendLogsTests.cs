using System.Net;
using LLMux.Host;
using LLMux.Host.Config;
using LLMux.Providers;

namespace LLMux.Tests.Governance;

/// <summary><c>general_settings.disable_spend_logs</c>: spend still adds up on the key (and its budget), no log row per call.</summary>
public sealed class DisableSpendLogsTests
{
    [Fact]
    public async Task With_spend_logs_disabled_the_key_spend_adds_up_and_no_log_row_is_written()
    {
        await using var g = await GovernanceGateway.StartAsync(generalSettingsExtra: "  disable_spend_logs: true");
        var key = await g.NewKeyAsync();
        for (var i = 0; i < 3; i++)
        {
            using var r = await g.ChatAsync(key);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }
        await g.RestartAsync(); // flushes the spend writer
        var (status, info) = await g.GetAsync("/key/info?key=" + key);
        Assert.Equal(200, status);
        Assert.Equal(3 * 0.000018, info.GetProperty("info").GetProperty("spend").GetDouble(), 9);
        var (_, logs) = await g.GetAsync("/spend/logs?api_key=" + key);
        Assert.Equal(0, logs.GetArrayLength());
    }

    [Fact]
    public async Task By_default_each_call_has_its_log_row()
    {
        await using var g = await GovernanceGateway.StartAsync();
        var key = await g.NewKeyAsync();
        using (var r = await g.ChatAsync(key)) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        await g.RestartAsync();
        var (_, logs) = await g.GetAsync("/spend/logs?api_key=" + key);
        Assert.Equal(1, logs.GetArrayLength());
    }

    [Fact]
    public void A_value_that_is_not_a_boolean_is_a_config_error()
    {
        var yaml = """
            model_list:
              - model_name: m
                litellm_params:
                  model: mock/m
            general_settings:
              disable_spend_logs: sometimes
            """;
        var ex = Assert.Throws<ConfigException>(() => new ConfigLoader(new ProviderCatalog(), static _ => null).Load(new StringReader(yaml), "config.yaml"));
        Assert.Contains("general_settings.disable_spend_logs", string.Join("\n", ex.Errors));
    }
}
