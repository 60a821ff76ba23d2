using System.Globalization;
using LLMux.Stages.Routing;
using StackExchange.Redis;

namespace LLMux.Governance.Shared;

/// <summary>
/// Router cooldowns shared by the replicas (LiteLLM keeps them in its Redis cache): a deployment this replica cools
/// down is written as <c>cooldown:&lt;deployment id&gt;</c> with the cooldown as its time to live and announced over
/// pub/sub, and every other replica cools it down for the time left. A replica that starts reads the cooldowns
/// running. While Redis is away each replica keeps its own cooldowns (a warning and a metric, as for limits).
/// </summary>
public sealed class RedisCooldowns(RedisLink link, RouterState router)
{
    // KEYS: cooldown keys; returns each one's milliseconds left (negative: none).
    private const string ReadScriptText = """
        local out = {}
        for i = 1, #KEYS do out[i] = redis.call('PTTL', KEYS[i]) end
        return out
        """;

    private static readonly RedisScript ReadScript = new(ReadScriptText);

    private RedisChannel Channel => RedisChannel.Literal(link.Key("router:cooldowns"));

    private RedisKey KeyOf(string deploymentId) => link.Key("cooldown:" + deploymentId);

    /// <summary>Subscribes, takes the cooldowns running for <paramref name="deploymentIds"/>, and shares this replica's from now on.</summary>
    public async Task StartAsync(IReadOnlyList<string> deploymentIds)
    {
        router.CooledDown = Publish;
        try
        {
            await link.Subscriber.SubscribeAsync(Channel, (_, message) =>
            {
                // <origin>|<milliseconds left>|<deployment id>
                var parts = ((string?)message)?.Split('|', 3);
                if (parts is not { Length: 3 } || parts[0] == link.Origin || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ms)) return;
                router.CoolDownFromElsewhere(parts[2], TimeSpan.FromMilliseconds(ms));
            }).ConfigureAwait(false);
            if (deploymentIds.Count == 0) return;
            var keys = new RedisKey[deploymentIds.Count];
            for (var i = 0; i < keys.Length; i++) keys[i] = KeyOf(deploymentIds[i]);
            var left = (RedisResult[])(await link.EvalAsync(ReadScript, keys, null).ConfigureAwait(false))!;
            for (var i = 0; i < left.Length; i++)
                if ((long)left[i] is var ms and > 0) router.CoolDownFromElsewhere(deploymentIds[i], TimeSpan.FromMilliseconds(ms));
        }
        catch (Exception ex) when (RedisLink.IsOutage(ex))
        {
            link.FellBack(ex);
        }
    }

    private void Publish(string deploymentId, TimeSpan duration)
    {
        if (!link.Available) { link.FellBack(null); return; }
        _ = PublishAsync(deploymentId, duration);
    }

    private async Task PublishAsync(string deploymentId, TimeSpan duration)
    {
        var ms = Math.Max(1, (long)duration.TotalMilliseconds);
        try
        {
            await link.Database.StringSetAsync(KeyOf(deploymentId), ms.ToString(CultureInfo.InvariantCulture), TimeSpan.FromMilliseconds(ms)).ConfigureAwait(false);
            await link.Subscriber.PublishAsync(Channel, $"{link.Origin}|{ms.ToString(CultureInfo.InvariantCulture)}|{deploymentId}").ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisLink.IsOutage(ex))
        {
            link.FellBack(ex);
        }
    }
}
