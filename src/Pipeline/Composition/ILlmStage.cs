using LLMux.Pipeline.Context;

namespace LLMux.Pipeline.Composition;

/// <summary>The rest of the pipeline after a stage.</summary>
public delegate ValueTask StageDelegate(LlmContext context);

/// <summary>One step of the request phase: do its part, then call <paramref name="next"/> (or not).</summary>
public interface ILlmStage
{
    ValueTask InvokeAsync(LlmContext context, StageDelegate next);
}
