using LLMux.Governance.Shared;
using StackExchange.Redis;

namespace LLMux.Tests.Governance.Shared;

/// <summary>Governance's Lua scripts go by their SHA-1 and are loaded again whenever the server no longer has them.</summary>
public sealed class RedisScriptTests
{
    [SkippableFact]
    public async Task A_script_runs_by_its_hash_and_is_reloaded_after_the_server_drops_it()
    {
        var redisUrl = new Uri(TestServices.RedisUrl);
        var endpoint = $"{redisUrl.Host}:{redisUrl.Port}";
        await using var link = await RedisLink.ConnectAsync(endpoint, "script-test");
        // A script text no server has seen yet: its first run takes the NOSCRIPT path.
        var script = new RedisScript($"-- {Guid.NewGuid():N}\nreturn tonumber(ARGV[1]) + 1");
        Assert.Equal(2, (int)await link.EvalAsync(script, null, [1]));
        Assert.Equal(3, (int)await link.EvalAsync(script, null, [2]));
        // The server forgets every script (a restart, SCRIPT FLUSH): the next run loads it again.
        await using (var admin = await ConnectionMultiplexer.ConnectAsync(endpoint + ",allowAdmin=true"))
            await admin.GetServer(admin.GetEndPoints()[0]).ScriptFlushAsync();
        Assert.Equal(4, (int)await link.EvalAsync(script, null, [3]));
        // The hash is Redis's own name for the script.
        await using (var check = await ConnectionMultiplexer.ConnectAsync(endpoint))
            Assert.True(await check.GetServer(check.GetEndPoints()[0]).ScriptExistsAsync(script.Hash));
    }
}
