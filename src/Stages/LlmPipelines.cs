using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;

namespace LLMux.Stages;

/// <summary>The standard request phase, composed once at startup.</summary>
public static class LlmPipelines
{
    /// <summary>validate → route → capability check → transform → [map errors/usage ⊃ send → stream-parse].</summary>
    public static StageDelegate CreateDefault(ModelRegistry registry, GatewaySettings settings, HttpMessageInvoker invoker, ICostCalculator? costs = null) =>
        CreateBuilder(registry, settings, invoker, costs).Build();

    public static LlmPipelineBuilder CreateBuilder(ModelRegistry registry, GatewaySettings settings, HttpMessageInvoker invoker, ICostCalculator? costs = null) =>
        new LlmPipelineBuilder()
            .Use(new ValidateStage())
            .Use(new RouteStage(registry))
            .Use(new CapabilityCheckStage(settings))
            .Use(new TransformStage())
            .Use(new MapErrorsUsageStage(costs))
            .Use(new SendStage(invoker, settings))
            .Use(new StreamParseStage(settings));
}
