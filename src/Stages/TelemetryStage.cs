using System.Diagnostics;
using LLMux.Pipeline.Capabilities;
using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Stages.Telemetry;

namespace LLMux.Stages;

/// <summary>
/// Emits the GenAI semantic-convention span and metrics for every call (see <see cref="LLMuxTelemetry"/>), so that
/// library hosts get them without the HTTP host. Costs nothing but two checks when nobody listens.
/// </summary>
public sealed class TelemetryStage : ILlmStage
{
    private static readonly Action<LlmContext, object?> FinishStream = static (ctx, s) => Record(ctx, (Started)s!, null);

    public ValueTask InvokeAsync(LlmContext context, StageDelegate next)
    {
        // Nobody listens: no extra async frame, no allocation.
        if (!LLMuxTelemetry.ActivitySource.HasListeners() && !LLMuxTelemetry.OperationDuration.Enabled && !LLMuxTelemetry.TokenUsage.Enabled && !LLMuxTelemetry.TimeToFirstChunk.Enabled)
            return next(context);
        return ObserveAsync(context, next);
    }

    // Async so that Activity.Current, set by starting the span, does not leak into the caller's context.
    private static async ValueTask ObserveAsync(LlmContext context, StageDelegate next)
    {
        var started = new Started(Stopwatch.GetTimestamp(), LLMuxTelemetry.ActivitySource.HasListeners() ? Start(context) : null);
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (LlmException ex)
        {
            Record(context, started, Snake(ex.Error.Kind));
            throw;
        }
        catch (OperationCanceledException)
        {
            Record(context, started, "cancelled");
            throw;
        }
        if (context.Stream is not null) context.OnCompleted(FinishStream, started);
        else Record(context, started, null);
    }

    private static Activity? Start(LlmContext context)
    {
        var operation = Operation(context.Mode);
        var activity = LLMuxTelemetry.ActivitySource.StartActivity(operation + " " + context.RequestedModel, ActivityKind.Client);
        if (activity is null) return null;
        activity.SetTag(LLMuxTelemetry.OperationName, operation);
        activity.SetTag(LLMuxTelemetry.RequestModel, context.RequestedModel);
        return activity;
    }

    private static void Record(LlmContext context, Started started, string? errorType)
    {
        var end = Stopwatch.GetTimestamp();
        var pump = context.Stream;
        if (errorType is null && pump?.Failure is { } failure) errorType = Snake(failure.Kind);
        var deployment = context.Deployment;
        var tags = new TagList
        {
            { LLMuxTelemetry.OperationName, Operation(context.Mode) },
            { LLMuxTelemetry.RequestModel, context.RequestedModel },
        };
        if (deployment is not null)
        {
            tags.Add(LLMuxTelemetry.ProviderName, deployment.ProviderName);
            tags.Add(LLMuxTelemetry.System, deployment.ProviderName);
            tags.Add(LLMuxTelemetry.ResponseModel, deployment.UpstreamModel);
        }
        if (errorType is not null) tags.Add(LLMuxTelemetry.ErrorType, errorType);

        LLMuxTelemetry.OperationDuration.Record(Stopwatch.GetElapsedTime(started.Timestamp, end).TotalSeconds, tags);
        if (pump is not null && pump.FirstSegmentTimestamp != 0 && errorType is null)
            LLMuxTelemetry.TimeToFirstChunk.Record(Stopwatch.GetElapsedTime(started.Timestamp, pump.FirstSegmentTimestamp).TotalSeconds, tags);
        var usage = context.Usage;
        if (usage is not null && LLMuxTelemetry.TokenUsage.Enabled)
        {
            var input = tags;
            input.Add(LLMuxTelemetry.TokenType, "input");
            LLMuxTelemetry.TokenUsage.Record(usage.PromptTokens, input);
            if (context.Mode != LlmMode.Embeddings)
            {
                var output = tags;
                output.Add(LLMuxTelemetry.TokenType, "output");
                LLMuxTelemetry.TokenUsage.Record(usage.CompletionTokens, output);
            }
        }

        if (started.Activity is not { } activity) return;
        if (deployment is not null)
        {
            activity.SetTag(LLMuxTelemetry.ProviderName, deployment.ProviderName);
            activity.SetTag(LLMuxTelemetry.System, deployment.ProviderName);
            activity.SetTag(LLMuxTelemetry.ResponseModel, deployment.UpstreamModel);
            if (deployment.ApiBase is { } b && Uri.TryCreate(b, UriKind.Absolute, out var uri)) activity.SetTag(LLMuxTelemetry.ServerAddress, uri.Host);
        }
        if (usage is not null)
        {
            activity.SetTag(LLMuxTelemetry.InputTokens, usage.PromptTokens);
            activity.SetTag(LLMuxTelemetry.OutputTokens, usage.CompletionTokens);
        }
        if (errorType is not null)
        {
            activity.SetTag(LLMuxTelemetry.ErrorType, errorType);
            activity.SetStatus(ActivityStatusCode.Error);
        }
        activity.Stop();
    }

    private static string Operation(LlmMode mode) => mode == LlmMode.Embeddings ? "embeddings" : "chat";

    private static readonly string[] KindNames = BuildKindNames();

    /// <summary><see cref="ErrorKind"/> in snake case (<c>rate_limit</c>, <c>context_window_exceeded</c>): a low-cardinality <c>error.type</c>.</summary>
    internal static string Snake(ErrorKind kind) => (uint)kind < (uint)KindNames.Length ? KindNames[(int)kind] : "other";

    private static string[] BuildKindNames()
    {
        var values = Enum.GetValues<ErrorKind>();
        var names = new string[values.Length];
        foreach (var v in values)
        {
            var name = v.ToString();
            var sb = new System.Text.StringBuilder(name.Length + 4);
            for (var i = 0; i < name.Length; i++)
            {
                if (char.IsUpper(name[i]) && i > 0) sb.Append('_');
                sb.Append(char.ToLowerInvariant(name[i]));
            }
            names[(int)v] = sb.ToString();
        }
        return names;
    }

    private sealed record Started(long Timestamp, Activity? Activity);
}
