using System.Globalization;
using LLMux.Host.Config;
using LLMux.Host.Endpoints;
using LLMux.Pipeline.Context;
using LLMux.Providers;
using LLMux.Host.Caching;
using LLMux.Stages.Caching;
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
    /// <summary>Extra library set-up after the config's (tests add stages or providers).</summary>
    public Action<LLMuxBuilder>? ConfigureLLMux { get; init; }
    /// <summary>
    /// The Redis key prefix when the config names no <c>general_settings.redis_namespace</c> (default <c>llmux</c>).
    /// Tests give each host its own, so that hosts sharing the test Redis share no cooldowns or counters by accident.
    /// </summary>
    public string? RedisNamespace { get; init; }
}

/// <summary>Builds the <c>llmux</c> web host: config, pipeline, endpoints.</summary>
public static class LlmuxApp
{
    public static WebApplication Build(LlmuxHostOptions options)
    {
        var catalog = new ProviderCatalog(options.TimeProvider);
        var loader = options.RedisNamespace is { } ns ? new ConfigLoader(catalog) { DefaultRedisNamespace = ns } : new ConfigLoader(catalog);
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
        // One Redis connection per process: the router's cooldowns, and governance's counters when it is on.
        var redis = Replicas.SharedRedis.Connect(config);
        LLMux.Governance.GovernanceService? governance;
        try
        {
            governance = Admin.GovernanceSetup.Create(config, time, redis);
        }
        catch (ConfigException)
        {
            // The host will not start: close the connection made for it.
            redis?.Dispose();
            throw;
        }
        var cacheStore = config.Settings.Cache.Enabled ? CacheStores.Create(config.Settings.Cache, time, redis) : null;
        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton(catalog);
        builder.Services.AddSingleton(config);
        builder.Services.AddLLMux(b =>
        {
            b.AddDeployments(config.Deployments).ConfigureSettings(_ => config.Settings);
            if (governance is not null) b.AddStageBeforeRouting(new LLMux.Governance.GovernanceStage(governance));
            // After governance: a hit is answered only to a caller that passed authentication, limits and budgets.
            if (cacheStore is not null) b.AddResponseCache(config.Settings.Cache, cacheStore, time);
            options.ConfigureLLMux?.Invoke(b);
        });
        Telemetry.HostTelemetry.Add(builder.Services, options.Metrics);
        if (redis is not null) Replicas.SharedRedis.Register(builder.Services, redis);
        if (governance is not null) Admin.GovernanceSetup.Register(builder.Services, governance);

        var app = builder.Build();
        var runtime = app.Services.GetRequiredService<LLMuxRuntime>();
        // Outermost, so that whatever escapes an endpoint (a bug) is still answered in the API's error shape and logged once.
        app.Use(UnexpectedErrors.HandleAsync);
        // Per-model budgets on an upstream model name hold for every public name that routes to it.
        // Keys with dynamic rpm/tpm limits are held to them only while a deployment of the model they call is failing.
        if (governance is not null)
        {
            Func<string, IReadOnlyList<Deployment>?> deploymentsOf = name => runtime.Registry.Group(Endpoints.ModelNames.GroupOf(config.Settings.Router, null, name));
            governance.DeploymentsOf = deploymentsOf;
            var routing = app.Services.GetRequiredService<LLMux.Stages.Routing.RouterState>();
            if (int.TryParse(Environment.GetEnvironmentVariable("DYNAMIC_RATE_LIMIT_ERROR_THRESHOLD_PER_MINUTE"), CultureInfo.InvariantCulture, out var allowed) && allowed >= 0) governance.DynamicLimitFailures = allowed;
            governance.ModelFailing = name => deploymentsOf(name) is { } group && routing.AnyFailing(group, governance.DynamicLimitFailures);
        }
        foreach (var w in config.Warnings) app.Logger.LogWarning("config: {Warning}", w);
        if (redis is not null) Replicas.SharedRedis.ShareCooldowns(app, app.Logger);
        Telemetry.HostTelemetry.Map(app, options.Metrics);
        // The admin console rides on governance (its sessions stand in for the master key on the admin routes).
        var console = governance is not null && !ConsoleDisabled() ? new Ui.ConsoleSessions(time, () => governance.MasterKeyHash) : null;
        var authenticator = new Admin.RequestAuthenticator(config, governance, console);
        if (governance is not null) Admin.GovernanceSetup.UseAuthentication(app, authenticator, app.Logger);
        if (governance is not null) new Admin.AdminEndpoints(governance, authenticator, app.Logger).Map(app);
        if (console is not null)
        {
            var router = app.Services.GetRequiredService<LLMux.Stages.Routing.RouterState>();
            var live = new Ui.LiveStats(console, TimeProvider.System);
            app.Lifetime.ApplicationStopping.Register(live.Dispose);
            new Ui.ConsoleEndpoints(console, governance!, runtime.Registry, router, catalog, live).Map(app);
        }
        else
        {
            // Say why there is no console rather than answering an unknown route.
            var why = governance is null ? "the admin console needs general_settings.master_key (it signs in with it)" : "the admin console is turned off (DISABLE_ADMIN_UI)";
            foreach (var uiPath in new[] { "/ui", "/ui/{**rest}" })
                app.Map(uiPath, http => ResponseWriter.WriteErrorAsync(http, null, new LLMux.Pipeline.Errors.LlmError { Kind = LLMux.Pipeline.Errors.ErrorKind.NotFound, Message = why, Code = "console_disabled" }));
        }
        new CacheAdminEndpoints(cacheStore as LLMux.Stages.Caching.ICacheAdmin, authenticator, app.Logger).Map(app);
        MapFilesAndBatches(app, config, authenticator, time);
        new GatewayEndpoints(config, runtime.Registry, runtime.Pipeline, new LlmContextPool { TimeProvider = time }, app.Logger, authenticator).Map(app);
        return app;
    }

    /// <summary>The Files and Batches APIs: files on the storage directory, batches run by the gateway (resumed at start).</summary>
    private static void MapFilesAndBatches(WebApplication app, GatewayConfig config, Admin.RequestAuthenticator authenticator, TimeProvider time)
    {
        var settings = config.Files;
        var files = new Files.FileStore(settings.StoragePath, time);
        var runtime = app.Services.GetRequiredService<LLMuxRuntime>();
        var batches = new Batches.BatchService(settings.StoragePath, files, app.Services.GetRequiredService<LLMux.Stages.Hosting.ILlmClient>(), time, app.Logger,
            Batches.BatchService.OpenStore(config), settings.BatchParallelism, settings.BatchConcurrency, model => Batch.BatchCommand.GroupLimit(runtime, model), runtime.Registry,
            new Batches.NativeBatchRunner(new HttpClient { Timeout = TimeSpan.FromMinutes(10) }, settings.BatchPollInterval, time),
            new Batches.AnthropicBatchRunner(new HttpClient { Timeout = TimeSpan.FromMinutes(10) }, settings.BatchPollInterval, time, config.Settings))
        {
            Governance = authenticator.Governance,
            Costs = app.Services.GetRequiredService<LLMux.Stages.Accounting.CostCalculator>(),
            Endpoints = new Batches.EndpointLineSender(app.Services),
            Lease = settings.BatchLease,
            ScanInterval = settings.BatchLease < TimeSpan.FromSeconds(15) ? settings.BatchLease / 3 : TimeSpan.FromSeconds(5),
        };
        app.Lifetime.ApplicationStarted.Register(batches.Start);
        app.Lifetime.ApplicationStopping.Register(() => batches.DisposeAsync().AsTask().GetAwaiter().GetResult());
        if (settings.Ephemeral)
            app.Lifetime.ApplicationStopped.Register(() =>
            {
                try { Directory.Delete(settings.StoragePath, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            });
        new Files.FilesEndpoints(files, authenticator, settings.MaxFileBytes).Map(app);
        new Batches.BatchesEndpoints(batches, files, authenticator).Map(app);
    }

    /// <summary>LiteLLM's switch: <c>DISABLE_ADMIN_UI=True</c> serves no <c>/ui</c>.</summary>
    private static bool ConsoleDisabled() => Environment.GetEnvironmentVariable("DISABLE_ADMIN_UI") is { } v && (v.Equals("true", StringComparison.OrdinalIgnoreCase) || v == "1");

    private static string FormatHost(string host) => host.Contains(':') && !host.StartsWith('[') ? $"[{host}]" : host;
}
