using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;

namespace LLMux.Stages;

/// <summary>Asks the provider to write the upstream request (URL, auth, body in its wire format).</summary>
public sealed class TransformStage : ILlmStage
{
    public ValueTask InvokeAsync(LlmContext context, StageDelegate next)
    {
        context.UpstreamRequest?.Dispose();
        context.UpstreamRequest = context.Provider!.CreateRequest(context);
        return next(context);
    }
}
