using LLMux.Providers;
using LLMux.Stages;
using LLMux.Stages.Accounting;
using LLMux.Stages.Hosting;
using LLMux.Stages.Routing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers LLMux in a .NET host: the provider catalog, router, accounting, pipeline and clients.</summary>
public static class LLMuxServiceCollectionExtensions
{
    /// <summary>Service key of the <see cref="HttpMessageInvoker"/> every upstream call goes through.</summary>
    public const string TransportKey = "LLMux";

    /// <summary>
    /// Adds LLMux. Every piece is registered with <c>TryAdd</c>, so a host that registered its own
    /// <see cref="ProviderCatalog"/>, <see cref="RouterState"/>, <see cref="UsageSink"/>, <see cref="TimeProvider"/> or
    /// keyed transport keeps it. Options are validated when the host starts.
    /// </summary>
    public static LLMuxBuilder AddLLMux(this IServiceCollection services, Action<LLMuxBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<LLMuxOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LLMuxOptions>, LLMuxOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(static sp => new ProviderCatalog(sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(static sp => new RouterState(sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(static _ => PriceTable.Default);
        services.TryAddSingleton(static sp => new CostCalculator(sp.GetRequiredService<PriceTable>()));
        services.TryAddSingleton(static sp => new UsageSink(sp.GetServices<IUsageStore>()));
        services.TryAddKeyedSingleton<HttpMessageInvoker>(TransportKey, static (_, _) => UpstreamTransport.Create());
        services.TryAddSingleton(static sp => new LLMuxRuntime(
            sp.GetRequiredService<IOptions<LLMuxOptions>>(),
            sp.GetRequiredService<ProviderCatalog>(),
            sp.GetRequiredService<RouterState>(),
            sp.GetRequiredService<CostCalculator>(),
            sp.GetRequiredService<UsageSink>(),
            sp.GetRequiredKeyedService<HttpMessageInvoker>(TransportKey)));
        services.TryAddSingleton<ILlmClient>(static sp => new LlmClient(sp.GetRequiredService<LLMuxRuntime>()));
        services.TryAddSingleton<IChatClient>(static sp => new LLMuxChatClient(sp.GetRequiredService<ILlmClient>(), sp.GetRequiredService<LLMuxRuntime>().DefaultChatModel));
        services.TryAddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(static sp => new LLMuxEmbeddingGenerator(sp.GetRequiredService<ILlmClient>(), sp.GetRequiredService<LLMuxRuntime>().DefaultEmbeddingModel));

        var builder = new LLMuxBuilder(services);
        configure?.Invoke(builder);
        return builder;
    }

    /// <summary>
    /// Adds LLMux from a configuration section in LiteLLM's shape (<c>model_list</c>, <c>litellm_settings</c>,
    /// <c>router_settings</c>), e.g. <c>builder.Configuration.GetSection("LLMux")</c>; <paramref name="configure"/> may add more.
    /// </summary>
    public static LLMuxBuilder AddLLMux(this IServiceCollection services, IConfiguration configuration, Action<LLMuxBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var builder = services.AddLLMux();
        services.Configure<LLMuxOptions>(o => LLMuxConfigurationReader.Read(configuration, o));
        configure?.Invoke(builder);
        return builder;
    }
}
