using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;
using LLMux.Stages.Accounting;
using LLMux.Stages.Routing;

namespace LLMux.Stages;

/// <summary>The standard request phase, composed once at startup.</summary>
public static class LlmPipelines
{
    /// <summary>
    /// validate → telemetry → route → router (pick, retry, cooldown, fallback) ⊃ [capability check → transform →
    /// map errors/usage ⊃ (send → stream-parse)].
    /// </summary>
    public static LlmPipelineBuilder CreateBuilder(ModelRegistry registry, GatewaySettings settings, HttpMessageInvoker invoker, RouterState routerState, CostCalculator? costs = null, UsageSink? sink = null) =>
        new LlmPipelineBuilder()
            .Use(new ValidateStage())
            .Use(new TelemetryStage())
            .Use(new RouteStage(registry, settings.Router))
            .Use(new RouterStage(registry, settings.Router, routerState, costs))
            .Use(new CapabilityCheckStage(settings))
            .Use(new TransformStage())
            .Use(new MapErrorsUsageStage(costs, sink))
            .Use(new SendStage(invoker, settings))
            .Use(new StreamParseStage(settings));
}
