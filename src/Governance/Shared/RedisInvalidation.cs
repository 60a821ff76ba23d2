using StackExchange.Redis;

namespace LLMux.Governance.Shared;

/// <summary>
/// Key-cache invalidation across replicas over Redis pub/sub: an admin change on one replica publishes what it
/// touched (a key, team, user or end user) and every other replica evicts it at once, so a key blocked or deleted
/// anywhere is refused everywhere within milliseconds (LiteLLM: up to its 60 s cache TTL). Messages are
/// <c>&lt;origin&gt;|&lt;kind&gt;|&lt;id&gt;</c>; a replica ignores its own. While Redis is away the cache TTL
/// (<c>user_api_key_cache_ttl</c>) bounds how stale another replica can be.
/// </summary>
public sealed class RedisInvalidation(RedisLink link)
{
    private RedisChannel Channel => RedisChannel.Literal(link.Key("governance:invalidate"));

    public Task SubscribeAsync(Action<string, string> evict) =>
        link.Subscriber.SubscribeAsync(Channel, (_, message) =>
        {
            var text = (string?)message;
            if (text is null) return;
            var parts = text.Split('|', 3);
            if (parts.Length != 3 || parts[0] == link.Origin) return;
            evict(parts[1], parts[2]);
        });

    public void Publish(string kind, string id)
    {
        if (!link.Available) return;
        _ = PublishAsync(kind, id);
    }

    private async Task PublishAsync(string kind, string id)
    {
        try
        {
            await link.Subscriber.PublishAsync(Channel, $"{link.Origin}|{kind}|{id}").ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisLink.IsOutage(ex))
        {
            link.FellBack(ex);
        }
    }
}
