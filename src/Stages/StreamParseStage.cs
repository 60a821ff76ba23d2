using System.Diagnostics;
using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Streaming;

namespace LLMux.Stages;

/// <summary>
/// Reads the upstream answer: for a stream, sets up the pump (PipeReader → decoder → provider translator → one
/// pooled segment) that the client writer drives; otherwise the provider reads the body.
/// </summary>
public sealed class StreamParseStage(GatewaySettings settings) : ILlmStage
{
    public async ValueTask InvokeAsync(LlmContext context, StageDelegate next)
    {
        var response = context.UpstreamResponse!;
        var provider = context.Provider!;
        var token = context.UpstreamCancellation?.Token ?? context.RequestAborted;
        if (context.IsStream)
        {
            var body = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
            var options = new StreamPumpOptions
            {
                IdleTimeout = context.RequestTimeout ?? context.Deployment!.Timeout ?? settings.DefaultTimeout,
                TimeProvider = context.TimeProvider,
            };
            // The send-phase timeout covered the headers; from here the pump's idle timeout governs.
            context.UpstreamCancellation?.CancelAfter(Timeout.InfiniteTimeSpan);
            var translator = provider.CreateStreamTranslator(context);
            if (context.StreamTranslatorDecorator is { } decorate) translator = decorate(translator, context);
            // The pump stops its reads through the attempt's source (it follows the client's token): no second source per
            // stream. Only on the system clock, where the send timeout above was disarmed; a test clock's timer may still fire.
            context.Stream = context.UpstreamCancellation is { } cancellation && context.TimeProvider == TimeProvider.System
                ? StreamPump.Start(body, translator, options, provider.Spec.Name, context.RequestAborted, cancellation)
                : StreamPump.Start(body, translator, options, provider.Spec.Name, context.RequestAborted);
        }
        else
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await provider.ReadResponseAsync(context, response, token).ConfigureAwait(false);
            }
            finally
            {
                context.UpstreamTicks += Stopwatch.GetTimestamp() - started;
            }
        }
        await next(context).ConfigureAwait(false);
    }
}
