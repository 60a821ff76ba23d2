using LLMux.Pipeline.Composition;
using LLMux.Pipeline.Context;
using LLMux.Pipeline.Errors;
using LLMux.Stages.Accounting;
using LLMux.Stages.Routing;

namespace LLMux.Stages;

/// <summary>
/// LiteLLM's router around one upstream attempt: pick a healthy deployment of the group by the routing
/// strategy, retry by LiteLLM's rules (backoff honouring Retry-After), cool failing deployments down, and fall
/// back to other groups by error kind. Nothing is retried once the client has bytes: the stages below return
/// before the first byte is written.
/// </summary>
public sealed class RouterStage(ModelRegistry registry, RouterSettings settings, RouterState state, CostCalculator? costs = null) : ILlmStage
{
    private static readonly Action<LlmContext, object?> ReleaseOnCompleted = static (ctx, s) => Release(ctx, (DeploymentState)s!);

    // One async frame for the whole router (retries and fallbacks inline): each suspended frame is a state-machine box
    // per request.
    public async ValueTask InvokeAsync(LlmContext context, StageDelegate next)
    {
        var group = context.ModelGroup!;
        var candidates = context.Candidates!;
        var requested = context.RequestedModel!;
        LlmException? last = null;
        List<string>? tried = null;
        var time = state.Time;
        // Hashed once: the same prefix in a fallback group is just as repeatable.
        var prefix = settings.PromptCacheAffinity ? PromptPrefix.Hash(context.Body.Span) : null;

        while (true)
        {
            // One group: pick, try, retry by LiteLLM's rules.
            LlmException? groupLast = null;
            List<DeploymentState>? failed = null;
            for (var attempt = 0; attempt <= settings.NumRetries; attempt++)
            {
                var healthy = Healthy(candidates, time.GetUtcNow());
                // A retry goes to a deployment that has not failed this request, while there is one.
                if (failed is not null && healthy.Count > failed.Count)
                {
                    foreach (var f in failed) healthy.Remove(f);
                }
                if (healthy.Count == 0)
                {
                    groupLast ??= NoDeployments(group).ToException();
                    break;
                }
                var chosen = (prefix is { } p ? Owner(p, group, candidates, healthy) : null) ?? RoutingStrategy.Pick(settings.Strategy, healthy, time.GetUtcNow(), costs);
                if (!chosen.TryEnter())
                {
                    // Another deployment with a free slot first; else wait in the chosen one's bounded queue.
                    var other = FirstWithRoom(healthy);
                    if (other is not null && other.TryEnter()) chosen = other;
                    else if (!await chosen.EnterQueuedAsync(context.RequestAborted).ConfigureAwait(false)) throw Full(group).ToException();
                }

                context.ResetAttempt();
                context.Deployment = RouteStage.Resolve(chosen.Deployment, requested);
                var started = time.GetTimestamp();
                try
                {
                    await next(context).ConfigureAwait(false);
                    // A stream whose first upstream event is an error has sent the client nothing yet: it may be retried.
                    if (context.Stream is { } pump && await FirstEventErrorAsync(context, pump).ConfigureAwait(false) is { } early)
                    {
                        await pump.DisposeAsync().ConfigureAwait(false);
                        context.Stream = null;
                        throw early.ToException();
                    }
                }
                catch (LlmException ex) when (!context.RequestAborted.IsCancellationRequested)
                {
                    chosen.Exit();
                    groupLast = ex;
                    (failed ??= []).Add(chosen);
                    OnFailure(chosen, ex.Error, candidates.Count);
                    if (!ShouldRetry(ex.Error, group, candidates, attempt)) break;
                    var delay = Backoff(ex.Error, candidates, attempt, chosen);
                    if (delay > TimeSpan.Zero) await Task.Delay(delay, time, context.RequestAborted).ConfigureAwait(false);
                    continue;
                }
                catch
                {
                    chosen.Exit();
                    throw;
                }
                chosen.RecordSuccess(time.GetUtcNow(), time.GetElapsedTime(started));
                context.OnCompleted(ReleaseOnCompleted, chosen);
                return;
            }

            last = groupLast ?? last;
            if (last is null || context.RequestAborted.IsCancellationRequested) break;

            tried ??= new List<string>(2) { context.ModelGroup! };
            var fallback = NextFallback(group, last.Error, tried);
            if (fallback is null || context.Fallbacks >= settings.MaxFallbacks) break;
            var fallbackGroup = registry.Group(fallback);
            if (fallbackGroup is not null && context.AllowedModelRegion is { } region) fallbackGroup = Routing.DeploymentRegion.InRegion(fallbackGroup, region);
            if (fallbackGroup is null || fallbackGroup.Count == 0) { tried.Add(fallback); continue; }
            context.Fallbacks++;
            tried.Add(fallback);
            group = fallback;
            candidates = fallbackGroup;
            requested = fallback;
        }
        throw last ?? NoDeployments(group).ToException();
    }

    /// <summary>Waits for the stream's first segment (the client writer waits for it anyway) and returns its error, if that is all it is.</summary>
    private static async ValueTask<LlmError?> FirstEventErrorAsync(LlmContext context, Pipeline.Streaming.StreamPump pump)
    {
        var segments = pump.Segments;
        // The pump completes its channel when the client's token fires; waiting without it avoids an allocation.
        var any = await segments.WaitToReadAsync().ConfigureAwait(false);
        // The model's time to its first event is upstream time, not LLMux's (x-llmux-overhead-us leaves it out).
        context.UpstreamTicks += pump.UpstreamWaitBeforeFirstSegment;
        if (!any) return null;
        return segments.TryPeek(out var first) && first.Error is { } error && !first.ContentStarted ? error : null;
    }

    private static void Release(LlmContext context, DeploymentState chosen)
    {
        chosen.Exit();
        if (context.Usage is not { } u) return;
        chosen.RecordTokens(u.TotalTokens);
        PromptCacheMetrics.Record(u, context.ModelGroup, chosen.Deployment.Id);
    }

    /// <summary>The deployment that owns this prompt prefix in the group, if it is healthy and has not failed this request; else null (the strategy picks).</summary>
    private DeploymentState? Owner(ulong prefix, string group, IReadOnlyList<Deployment> candidates, List<DeploymentState> healthy)
    {
        if (candidates.Count < 2) return null;
        var owner = state.For(PromptPrefix.Owner(prefix, candidates));
        var ok = healthy.Contains(owner);
        PromptCacheMetrics.Routed(group, ok);
        return ok ? owner : null;
    }

    // One list per thread, refilled on every call: it is read only before the attempt's first await (pick, affinity,
    // a free slot, the retry's exclusions), so a request on the same thread later cannot see it change under it.
    [ThreadStatic] private static List<DeploymentState>? t_healthy;

    private List<DeploymentState> Healthy(IReadOnlyList<Deployment> candidates, DateTimeOffset now)
    {
        var list = t_healthy ??= new List<DeploymentState>(4);
        list.Clear();
        for (var i = 0; i < candidates.Count; i++)
        {
            var s = state.For(candidates[i]);
            if (!s.IsCoolingDown(now)) list.Add(s);
        }
        return list;
    }

    private static DeploymentState? FirstWithRoom(List<DeploymentState> healthy)
    {
        foreach (var s in healthy) if (s.MaxParallel is null || s.InFlight < s.MaxParallel) return s;
        return null;
    }

    /// <summary>LiteLLM's <c>should_retry_this_error</c>.</summary>
    private bool ShouldRetry(LlmError error, string group, IReadOnlyList<Deployment> candidates, int attempt)
    {
        if (attempt >= settings.NumRetries) return false;
        if (error.Kind == ErrorKind.ContextWindowExceeded && settings.ContextWindowFallbacks.ContainsKey(group)) return false;
        if (error.Kind == ErrorKind.ContentPolicy && settings.ContentPolicyFallbacks.ContainsKey(group)) return false;
        var status = error.HttpStatus;
        var retryable = status is 408 or 409 or 429 || status >= 500;
        if (!retryable && status is not (401 or 403)) return false;
        if (error.Kind == ErrorKind.NotFound) return false;
        var healthyLeft = Healthy(candidates, state.Time.GetUtcNow()).Count;
        if (error.Kind == ErrorKind.RateLimit && healthyLeft == 0 && HasFallback(group)) return false;
        if (error.Kind is ErrorKind.Auth or ErrorKind.Permission && candidates.Count <= 1) return false;
        return healthyLeft > 0;
    }

    private bool HasFallback(string group) => settings.Fallbacks.ContainsKey(group) || settings.Fallbacks.ContainsKey("*");

    /// <summary>No wait when another deployment can take the retry; else Retry-After (≤ 60 s) or 0.5 s × 2^attempt capped at 8 s, plus jitter.</summary>
    private TimeSpan Backoff(LlmError error, IReadOnlyList<Deployment> candidates, int attempt, DeploymentState justFailed)
    {
        if (candidates.Count > 1)
        {
            var healthy = Healthy(candidates, state.Time.GetUtcNow());
            if (healthy.Count > 1 || (healthy.Count == 1 && healthy[0] != justFailed)) return TimeSpan.Zero;
        }
        var jitter = TimeSpan.FromSeconds(0.75 * Random.Shared.NextDouble());
        if (error.RetryAfter is { } ra && ra > TimeSpan.Zero && ra <= TimeSpan.FromSeconds(60)) return ra + jitter;
        var exp = TimeSpan.FromSeconds(Math.Min(8, 0.5 * Math.Pow(2, attempt)));
        return (exp > settings.MinRetryBackoff ? exp : settings.MinRetryBackoff) + jitter;
    }

    /// <summary>LiteLLM's cooldown rules; a group of one is never cooled down for a single failure (see docs/parity.md).</summary>
    private void OnFailure(DeploymentState s, LlmError error, int groupSize)
    {
        var now = state.Time.GetUtcNow();
        var fails = s.RecordFailure(now);
        if (settings.DisableCooldowns) return;
        var status = error.HttpStatus;
        if (status is >= 400 and < 500 && status is not (401 or 404 or 408 or 429)) return;
        bool cool;
        if (settings.AllowedFails is { } allowed) cool = fails > allowed;
        else
        {
            var (requests, failures, _) = s.ThisMinute(now);
            cool = groupSize > 1 && (status == 429 || status is 401 or 404 || (requests >= 5 && failures * 2 > requests))
                || (requests >= 1000 && failures == requests);
        }
        if (!cool) return;
        var duration = double.TryParse(s.Deployment.Setting("cooldown_time"), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var secs) ? TimeSpan.FromSeconds(secs)
            : error.RetryAfter is { } ra && ra > TimeSpan.Zero ? ra
            : settings.CooldownTime;
        state.CoolDown(s, now, duration);
    }

    /// <summary>LiteLLM's fallback order: context-window and content-policy lists first for those errors, then <c>fallbacks</c>, then <c>*</c>.</summary>
    private string? NextFallback(string group, LlmError error, List<string> tried)
    {
        var origin = tried[0];
        if (error.Kind == ErrorKind.ContextWindowExceeded && Pick(settings.ContextWindowFallbacks, origin, tried) is { } cw) return cw;
        if (error.Kind == ErrorKind.ContentPolicy && Pick(settings.ContentPolicyFallbacks, origin, tried) is { } cp) return cp;
        return Pick(settings.Fallbacks, origin, tried) ?? Pick(settings.Fallbacks, "*", tried);
    }

    private static string? Pick(IReadOnlyDictionary<string, string[]> table, string group, List<string> tried)
    {
        if (!table.TryGetValue(group, out var list)) return null;
        foreach (var g in list) if (!tried.Contains(g)) return g;
        return null;
    }

    private static LlmError NoDeployments(string group) => new()
    {
        Kind = ErrorKind.RateLimit,
        Message = $"No deployments available for model group `{group}`: every deployment is cooling down after failures; retry shortly",
        Code = "no_deployments_available",
    };

    private static LlmError Full(string group) => new()
    {
        Kind = ErrorKind.RateLimit,
        Message = $"every deployment of `{group}` is at its max_parallel_requests and its queue is full; retry shortly, or raise max_parallel_requests / max_queue",
        Code = "max_parallel_requests",
    };
}
