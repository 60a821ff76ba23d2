using LLMux.Stages.Hosting;

namespace LLMux.Stages.Caching;

/// <summary>Turns the response cache on in <c>services.AddLLMux(b => b.AddResponseCache(...))</c>.</summary>
public static class CacheBuilderExtensions
{
    /// <summary>
    /// Adds the <see cref="CacheStage"/> after the stages already added before routing (authentication and limits come
    /// first), over <paramref name="store"/> or, by default, a <see cref="MemoryCacheStore"/> bounded by the settings.
    /// Without this call the pipeline has no cache stage at all.
    /// </summary>
    public static LLMuxBuilder AddResponseCache(this LLMuxBuilder builder, CacheSettings settings, ICacheStore? store = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!settings.Enabled) return builder;
        return builder.AddStageBeforeRouting(new CacheStage(settings, store ?? new MemoryCacheStore(settings, time)));
    }
}
