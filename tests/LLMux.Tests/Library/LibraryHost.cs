using LLMux.Stages.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LLMux.Tests.Library;

/// <summary>A service provider with LLMux added the way a host adds it, validated as a host start would.</summary>
internal static class LibraryHost
{
    public static ServiceProvider Build(Action<LLMuxBuilder> configure, Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection();
        services?.Invoke(collection);
        collection.AddLLMux(b =>
        {
            b.ConfigureSettings(static s => s with { Router = s.Router with { NumRetries = 0 } });
            configure(b);
        });
        var provider = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        provider.GetRequiredService<IStartupValidator>().Validate();
        return provider;
    }
}
