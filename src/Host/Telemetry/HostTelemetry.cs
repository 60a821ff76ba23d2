using LLMux.Stages.Telemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace LLMux.Host.Telemetry;

/// <summary>
/// Exports the <c>LLMux</c> meter and activity source: a Prometheus <c>/metrics</c> endpoint when asked for
/// (<c>--metrics</c>), and OTLP (metrics and traces) when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set. Off by
/// default: with no listener the telemetry stage costs two checks per call.
/// </summary>
internal static class HostTelemetry
{
    public static bool OtlpConfigured => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"));

    public static void Add(IServiceCollection services, bool prometheus)
    {
        var otlp = OtlpConfigured;
        if (!prometheus && !otlp) return;
        Register(services, prometheus, otlp);
    }

    // Their own methods: the JIT resolves every type a method names when it compiles it, so a host without metrics
    // would otherwise load the five OpenTelemetry assemblies it never uses.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void Register(IServiceCollection services, bool prometheus, bool otlp)
    {
        var otel = services.AddOpenTelemetry().ConfigureResource(static r => r.AddService("llmux"));
        otel.WithMetrics(m =>
        {
            m.AddMeter(LLMuxTelemetry.Name);
            if (prometheus) m.AddPrometheusExporter();
            if (otlp) m.AddOtlpExporter();
        });
        if (otlp) otel.WithTracing(static t => t.AddSource(LLMuxTelemetry.Name).AddOtlpExporter());
    }

    public static void Map(WebApplication app, bool prometheus)
    {
        if (prometheus) MapScraping(app);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void MapScraping(WebApplication app) => app.MapPrometheusScrapingEndpoint("/metrics");
}
