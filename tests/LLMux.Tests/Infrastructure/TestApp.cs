using LLMux.Host;
using Microsoft.AspNetCore.Builder;

namespace LLMux.Tests.Infrastructure;

/// <summary>
/// Every test host is built here. The test process has <c>REDIS_URL</c> set (by <c>.ci/services.sh</c>), so every host
/// reaches the same Redis: each gets a Redis namespace of its own unless its config names one
/// (<c>general_settings.redis_namespace</c>, as <see cref="Governance.Shared.ReplicaCluster"/> does for replicas that
/// must share), so that one test's cooldowns and counters never reach another test's host.
/// </summary>
internal static class TestApp
{
    public static WebApplication Build(LlmuxHostOptions options) =>
        LlmuxApp.Build(options.RedisNamespace is null ? options with { RedisNamespace = "test-" + Guid.NewGuid().ToString("N")[..12] } : options);
}
