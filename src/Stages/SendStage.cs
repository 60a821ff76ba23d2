using System.Diagnostics;
using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;
using LLMux.Providers.Common;

namespace LLMux.Stages;

/// <summary>
/// Sends the upstream request and waits for the response headers, under the deployment's timeout and the
/// client's cancellation. A non-success answer is read and mapped by the provider into the taxonomy.
/// </summary>
public sealed class SendStage(HttpMessageInvoker invoker, GatewaySettings settings) : ILlmStage
{
    private const int MaxErrorBody = 1024 * 1024;

    public async ValueTask InvokeAsync(LlmContext context, StageDelegate next)
    {
        var deployment = context.Deployment!;
        var provider = deployment.Provider;
        var timeout = context.RequestTimeout ?? (context.IsStream ? deployment.StreamTimeout : null) ?? deployment.Timeout ?? settings.DefaultTimeout;
        context.UpstreamTimeout = timeout;
        // The timeout runs on the context's clock; the source also follows the client's cancellation (and is reused
        // by the pooled context when it did not fire).
        var cts = context.StartUpstreamCancellation(reusable: context.TimeProvider == TimeProvider.System);
        if (context.TimeProvider == TimeProvider.System) cts.CancelAfter(timeout);
        else context.OnCompleted(static (_, t) => ((ITimer)t!).Dispose(), context.TimeProvider.CreateTimer(static s => Cancel((CancellationTokenSource)s!), cts, timeout, Timeout.InfiniteTimeSpan));

        context.Attempts++;
        var started = Stopwatch.GetTimestamp();
        HttpResponseMessage response;
        try
        {
            response = await (provider.Transport ?? invoker).SendAsync(context.UpstreamRequest!, cts.Token).ConfigureAwait(false);
        }
        finally
        {
            context.UpstreamTicks += Stopwatch.GetTimestamp() - started;
        }
        context.UpstreamResponse?.Dispose();
        context.UpstreamResponse = response;

        if (!response.IsSuccessStatusCode)
        {
            started = Stopwatch.GetTimestamp();
            using var body = await ResponseBodyReader.ReadAsync(response, provider.Spec.Name, cts.Token, MaxErrorBody).ConfigureAwait(false);
            context.UpstreamTicks += Stopwatch.GetTimestamp() - started;
            throw provider.MapError(context, (int)response.StatusCode, body.Span, response.Headers).ToException();
        }
        CopyRateLimitHeaders(context, response);
        await next(context).ConfigureAwait(false);
    }

    private static void Cancel(CancellationTokenSource cts)
    {
        try { cts.Cancel(); } catch (ObjectDisposedException) { }
    }

    /// <summary>Upstream rate-limit headers reach the client as they are (LiteLLM copies <c>x-ratelimit-*</c>).</summary>
    private static void CopyRateLimitHeaders(LlmContext context, HttpResponseMessage response)
    {
        // NonValidated: enumerating the parsed view would parse and allocate every header's values.
        foreach (var (name, values) in response.Headers.NonValidated)
        {
            if (!name.StartsWith("x-ratelimit-", StringComparison.OrdinalIgnoreCase)) continue;
            foreach (var v in values) context.ResponseHeaders.Add(new(name, v));
        }
    }
}
