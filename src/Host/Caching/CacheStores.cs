using LLMux.Stages.Caching;

namespace LLMux.Host.Caching;

/// <summary>The store <c>cache_params.type</c> names: <c>local</c> → <see cref="MemoryCacheStore"/>; <c>redis</c> → <see cref="RedisCacheStore"/> (the host is where Redis is reached).</summary>
internal static class CacheStores
{
    public static ICacheStore Create(CacheSettings settings, TimeProvider time, LLMux.Governance.Shared.RedisLink? shared = null) => settings.Type switch
    {
        "redis" => RedisCacheStore.Connect(settings, shared),
        _ => new MemoryCacheStore(settings, time),
    };
}
