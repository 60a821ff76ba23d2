using System.Diagnostics;
using System.Net;
using System.Text;
using LLMux.Emulators;
using LLMux.Governance;
using LLMux.Governance.Shared;
using LLMux.Host;
using LLMux.Stages.Hosting;
using LLMux.Stages.Routing;
using LLMux.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace LLMux.Tests.Governance.Shared;

/// <summary>
/// Router cooldowns shared through the host's Redis link with no master key (no governance): replicas on one
/// namespace share them, a host on another namespace (every test host's default) does not.
/// </summary>
public sealed class HostCooldownTests
{
    private static string Yaml(OpenAIEmulator upstream, string? ns) => $"""
        model_list:
          - model_name: solo
            litellm_params:
              model: openai/gpt-4o-mini
              api_base: {upstream.ApiBase}
              api_key: sk-x
            model_info:
              id: solo-1
        router_settings:
          num_retries: 0
          allowed_fails: 0
          cooldown_time: 60
        """ + (ns is null ? "" : $"""

        general_settings:
          redis_namespace: {ns}
        """);

    private static bool CoolingDown(WebApplication app)
    {
        var deployment = app.Services.GetRequiredService<LLMuxRuntime>().Registry.All[0];
        var router = app.Services.GetRequiredService<RouterState>();
        return router.For(deployment).IsCoolingDown(router.Time.GetUtcNow());
    }

    private static Task<HttpResponseMessage> ChatAsync(GatewayHost gw) =>
        gw.Http.PostAsync("/v1/chat/completions", new StringContent("""{"model":"solo","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));

    [SkippableFact]
    public async Task Governance_uses_the_hosts_one_Redis_link()
    {
        _ = TestServices.RedisUrl;
        await using var upstream = await OpenAIEmulator.StartNewAsync();
        var app = TestApp.Build(new LlmuxHostOptions { ConfigYaml = Yaml(upstream, null) + "\ngeneral_settings:\n  master_key: sk-master-link\n", Port = 0 });
        await using var host = await GatewayHost.StartAsync(app);
        var link = app.Services.GetRequiredService<RedisLink>();
        Assert.Same(link, app.Services.GetRequiredService<GovernanceService>().Shared);
        Assert.StartsWith("test-", link.Namespace);
    }

    [SkippableFact]
    public async Task Two_hosts_on_one_Redis_without_a_master_key_share_a_cooldown_and_a_host_on_another_namespace_does_not()
    {
        _ = TestServices.RedisUrl;
        await using var upstream = await OpenAIEmulator.StartNewAsync();
        upstream.Default = new OpenAIScript { ErrorStatus = 500 };
        var ns = "hostcool-" + Guid.NewGuid().ToString("N")[..12];
        // REDIS_URL (set by .ci/services.sh) is the only Redis setting: no router_settings.redis_host, no master key.
        var appA = TestApp.Build(new LlmuxHostOptions { ConfigYaml = Yaml(upstream, ns), Port = 0 });
        var appB = TestApp.Build(new LlmuxHostOptions { ConfigYaml = Yaml(upstream, ns), Port = 0 });
        var appC = TestApp.Build(new LlmuxHostOptions { ConfigYaml = Yaml(upstream, null), Port = 0 });
        await using var a = await GatewayHost.StartAsync(appA);
        await using var b = await GatewayHost.StartAsync(appB);
        await using var c = await GatewayHost.StartAsync(appC);
        Assert.False(CoolingDown(appB));

        using (var failed = await ChatAsync(a)) Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.True(CoolingDown(appA));

        var clock = Stopwatch.StartNew();
        while (!CoolingDown(appB) && clock.Elapsed < TimeSpan.FromSeconds(5)) await Task.Delay(10);
        Assert.True(CoolingDown(appB), "host b did not take host a's cooldown");
        // B refuses without calling the upstream: the one upstream call so far is a's.
        using (var refused = await ChatAsync(b))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.Contains("no_deployments_available", await refused.Content.ReadAsStringAsync());
        }
        Assert.Single(upstream.Requests);

        // C shares the Redis but not the namespace: its deployment of the same id is not cooling down.
        Assert.False(CoolingDown(appC));
        using (var own = await ChatAsync(c)) Assert.Equal(HttpStatusCode.InternalServerError, own.StatusCode);
        Assert.Equal(2, upstream.Requests.Count);
    }
}
