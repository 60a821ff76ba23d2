using LLMux.Pipeline.Context;

namespace LLMux.Pipeline.Composition;

/// <summary>Composes stages once, at startup, into a single <see cref="StageDelegate"/> (like ASP.NET Core middleware).</summary>
public sealed class LlmPipelineBuilder
{
    private readonly List<ILlmStage> _stages = [];

    public IReadOnlyList<ILlmStage> Stages => _stages;

    public LlmPipelineBuilder Use(ILlmStage stage)
    {
        ArgumentNullException.ThrowIfNull(stage);
        _stages.Add(stage);
        return this;
    }

    /// <summary>Builds the chain; the terminal delegate completes without doing anything.</summary>
    public StageDelegate Build()
    {
        StageDelegate next = static _ => ValueTask.CompletedTask;
        for (var i = _stages.Count - 1; i >= 0; i--)
        {
            var stage = _stages[i];
            var inner = next;
            next = ctx => stage.InvokeAsync(ctx, inner);
        }
        return next;
    }
}
