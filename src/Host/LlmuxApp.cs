using LLMux.Host.Config;
using LLMux.Host.Endpoints;
using LLMux.Pipeline.Context;
using LLMux.Providers;
using LLMux.Stages.Hosting;

namespace LLMux.Host;

/// <summary>Options of one host instance (from the command line, or from a test).</summary>
public sealed record LlmuxHostOptions
{
    public string? ConfigPath { get; init; }
    /// <summary>Inline YAML, used instead of a file (tests).</summary>
    public string? ConfigYaml { get; init; }
    public string Host { get; init; } = "127.0.0.1";
    /// <summary>0 picks a free port.</summary>
    public int Port { get; init; } = 4000;
    public TimeProvider? TimeProvider { get; init; }
    /// <summary>Serve Prometheus metrics (the <c>LLMux</c> meter) on <c>/metrics</c>.</summary>
    public bool Metrics { get; init; }
    /// <summary>Extra logging set-up after LLMux's own (tests capture what is logged).</summary>
    public Action<ILoggingBuilder>? ConfigureLogging { get; init; }
}

/// <summary>Builds the <c>llmux</c> web host: config, pipeline, endpoints.</summary>
public static class LlmuxApp
{
    public static WebApplication Build(LlmuxHostOptions options)
    {
        var catalog = new ProviderCatalog(options.TimeProvider);
        var loader = new ConfigLoader(catalog);
        var config = options.ConfigYaml is { } yaml ? loader.Load(new StringReader(yaml), "inline config")
            : options.ConfigPath is { } path ? loader.LoadFile(path)
            : ConfigLoader.BuiltIn(catalog);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // With this category enabled at any level, ASP.NET Core starts an Activity and a log scope for every
        // request (for log correlation) even when nothing reads them; LLMux's own telemetry makes its own spans.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        options.ConfigureLogging?.Invoke(builder.Logging);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            // LLMux enforces max_request_size_mb itself (RequestBodyReader), reading a bounded overflow so clients get the 413.
            k.Limits.MaxRequestBodySize = null;
            k.Limits.MinResponseDataRate = null;
            k.Limits.MinRequestBodyDataRate = null;
        });
        builder.WebHost.UseUrls($"http://{FormatHost(options.Host)}:{options.Port}");

        // One composition root: the library's registration, fed the deployments and settings the config reader resolved.
        var time = options.TimeProvider ?? TimeProvider.System;
        var governance = Admin.GovernanceSetup.Create(config, time);
        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton(catalog);
        builder.Services.AddSingleton(config);
        builder.Services.AddLLMux(b =>
        {
            b.AddDeployments(config.Deployments).ConfigureSettings(_ => config.Settings);
            if (governance is not null) b.AddStageBeforeRouting(new LLMux.Governance.GovernanceStage(governance));
        });
        Telemetry.HostTelemetry.Add(builder.Services, options.Metrics);
        if (governance is not null) Admin.GovernanceSetup.Register(builder.Services, governance);

        var app = builder.Build();
        var runtime = app.Services.GetRequiredService<LLMuxRuntime>();
        foreach (var w in config.Warnings) app.Logger.LogWarning("config: {Warning}", w);
        Telemetry.HostTelemetry.Map(app, options.Metrics);
        var authenticator = new Admin.RequestAuthenticator(config, governance);
        if (governance is not null) Admin.GovernanceSetup.UseAuthentication(app, authenticator, app.Logger);
        if (governance is not null) new Admin.AdminEndpoints(governance, authenticator, app.Logger).Map(app);
        new GatewayEndpoints(config, runtime.Registry, runtime.Pipeline, new LlmContextPool { TimeProvider = time }, app.Logger, authenticator).Map(app);
        return app;
    }

    private static string FormatHost(string host) => host.Contains(':') && !host.StartsWith('[') ? $"[{host}]" : host;
}
