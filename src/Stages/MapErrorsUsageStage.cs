using System.Net.Http;
using System.Net.Sockets;
using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;

namespace LLMux.Stages;

/// <summary>
/// Wraps the upstream call: transport failures and timeouts become taxonomy errors with an actionable
/// message (never a credential), and a completed answer gets its cost from the usage.
/// </summary>
public sealed class MapErrorsUsageStage(ICostCalculator? costs = null, Accounting.UsageSink? sink = null) : ILlmStage
{
    private readonly Func<Deployment, Pipeline.Wire.Usage, decimal?>? _pricing = costs is null ? null : costs.Cost;

    private static readonly Action<LlmContext, object?> FinishStream = static (ctx, s) => ((MapErrorsUsageStage)s!).Account(ctx);

    public async ValueTask InvokeAsync(LlmContext context, StageDelegate next)
    {
        var provider = context.ProviderName;
        context.Pricing = _pricing;
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            throw; // The client went away; there is no one to answer.
        }
        catch (OperationCanceledException ex)
        {
            throw new LlmError
            {
                Kind = ErrorKind.Timeout,
                Message = $"{provider} did not answer within {context.UpstreamTimeout?.TotalSeconds:0.###} s; raise `timeout` in this deployment's litellm_params, or retry",
                Provider = provider,
            }.ToException(ex);
        }
        catch (HttpRequestException ex)
        {
            throw ConnectionError(context, ex).ToException(ex);
        }
        // Known before the first byte (the speech endpoint writes the cost header from it), so counted here.
        if (context.Mode == Pipeline.Capabilities.LlmMode.AudioSpeech && costs is not null && context.Deployment is { } speechDeployment)
            Accounting.SpeechTokens.Count(context, costs.PriceFor(speechDeployment));
        if (context.IsStream)
        {
            // The usage of a stream is known only at its end.
            context.OnCompleted(FinishStream, this);
        }
        else
        {
            Account(context);
        }
    }

    private void Account(LlmContext context)
    {
        if (context.Usage is { } usage && costs is not null && context.Deployment is { } d) context.Cost = costs.Cost(d, usage);
        if (sink is not { IsActive: true } || context.Deployment is not { } deployment) return;
        var u = context.Usage;
        sink.Publish(new Accounting.UsageRecord(
            DateTimeOffset.UtcNow, context.ModelGroup ?? deployment.ModelName, deployment.Id, deployment.ProviderName, deployment.UpstreamModel,
            u?.PromptTokens ?? 0, u?.CompletionTokens ?? 0, u?.CachedTokens ?? 0, u?.ReasoningTokens ?? 0,
            context.Cost, context.IsStream, context.Attempts, null));
    }

    private static LlmError ConnectionError(LlmContext context, HttpRequestException ex)
    {
        var uri = context.UpstreamRequest?.RequestUri;
        var where = uri is null ? "the upstream" : $"{uri.Scheme}://{uri.Authority}";
        var cause = ex.InnerException is SocketException se ? se.SocketErrorCode.ToString() : ex.HttpRequestError.ToString();
        return new LlmError
        {
            Kind = ErrorKind.Unavailable,
            Message = $"could not reach {context.ProviderName} at {where} ({cause}); check api_base for model `{context.Deployment?.ModelName}` and that the upstream is up",
            Provider = context.ProviderName,
            Code = "upstream_unreachable",
        };
    }
}

/// <summary>Prices a call from its usage (the router/accounting issue supplies the price table).</summary>
public interface ICostCalculator
{
    decimal? Cost(Deployment deployment, Pipeline.Wire.Usage usage);

    /// <summary>The price the cost is computed from, where the calculator has one (a speech model's tokens are counted only when it is priced by token).</summary>
    Accounting.ModelPrice? PriceFor(Deployment deployment) => null;
}
