using System.ClientModel;
using System.ClientModel.Primitives;
using LLMux.Host;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;

namespace LLMux.Tests.Infrastructure;

/// <summary>A real LLMux host on a loopback port, started from inline YAML, with an OpenAI SDK client pointed at it.</summary>
public sealed class GatewayHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GatewayHost(WebApplication app, Uri root)
    {
        _app = app;
        Root = root;
        Http = new HttpClient { BaseAddress = root, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri Root { get; }
    public HttpClient Http { get; }

    public static Task<GatewayHost> StartAsync(string yaml) => StartAsync(TestApp.Build(new LlmuxHostOptions { ConfigYaml = yaml, Port = 0 }));

    /// <summary>Starts an app built by the caller (e.g. with a FakeTimeProvider).</summary>
    public static async Task<GatewayHost> StartAsync(WebApplication app)
    {
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new GatewayHost(app, new Uri(address));
    }

    /// <summary>The official OpenAI .NET SDK, with its own retries off so each test sees one call.</summary>
    public OpenAIClient OpenAI(string key = "sk-anything") => new(new ApiKeyCredential(key), new OpenAIClientOptions
    {
        Endpoint = new Uri(Root, "/v1"),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        NetworkTimeout = TimeSpan.FromSeconds(30),
    });

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync(TimeSpan.FromSeconds(2));
        await _app.DisposeAsync();
    }
}
